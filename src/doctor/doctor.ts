// `vopono doctor`: runs every check in order and renders the report (text or JSON).
import {
  launcherCheck,
  nodeCheck,
  configDirCheck,
  configDirOf,
  configFileCheck,
  kernelChecks,
  probeKernel,
  programChecks,
  socketAccessCheck,
  serviceManager,
  socketCheck,
  subjectOf,
  wireguardCheck,
} from './checks.js';
import { daemonCheck, probeDaemon } from './daemon-check.js';
import { realSystem, type System } from './system.js';
import { reportOf, result, type CheckResult, type DoctorReport, type Status } from './types.js';

export interface DoctorOptions {
  socketPath: string;
  /** Run the end-to-end self-test (root only; skipped with a reason otherwise). */
  selfTest: boolean;
  sys?: System;
  /** Called as each check finishes (for live output). */
  onCheck?: (c: CheckResult) => void;
  /** Progress of the slow self-test steps (text mode prints them to stderr). */
  onProgress?: (message: string) => void;
  launcher?: () => Promise<string | undefined>;
}

async function findLauncher(): Promise<string | undefined> {
  try {
    const { launcherPath } = await import('../daemon/launch.js');
    return launcherPath();
  } catch {
    return undefined;
  }
}

export async function runDoctor(o: DoctorOptions): Promise<DoctorReport> {
  const sys = o.sys ?? realSystem();
  const checks: CheckResult[] = [];
  const add = (c: CheckResult | undefined): void => {
    if (!c) return;
    checks.push(c);
    o.onCheck?.(c);
  };

  const probe = probeKernel(sys);
  for (const c of kernelChecks(sys, probe)) add(c);
  add(wireguardCheck(sys, probe));
  add(nodeCheck());
  for (const c of programChecks(sys)) add(c);
  add(launcherCheck(sys, await (o.launcher ?? findLauncher)()));

  const who = subjectOf(sys);
  const st = sys.stat(o.socketPath);
  const sm = serviceManager(sys);
  add(socketCheck(o.socketPath, st, sm));
  if (st?.kind === 'socket') add(socketAccessCheck(sys, o.socketPath, st, who));
  const daemon = st ? await probeDaemon(o.socketPath) : { reachable: false };
  if (st) add(daemonCheck(o.socketPath, daemon, sm));
  else add(result('daemon.version', 'daemon answers, same protocol', 'skip', 'not tried: no socket'));

  const dir = configDirOf(sys, who);
  add(configDirCheck(sys, who, dir));
  add(await configFileCheck(sys, dir));

  if (o.selfTest) {
    // the self-test starts its own temporary daemon when none answers: only the machine's
    // basics must be right for it to mean anything
    const failedBefore = checks.some(
      (c) => c.status === 'fail' && /^(kernel\.|wireguard|bin\.|launcher|node)/.test(c.id),
    );
    if (sys.uid !== 0) {
      add(
        result(
          'selftest',
          'end-to-end self-test',
          'skip',
          'needs root (it builds a throwaway WireGuard peer namespace)',
          'run `sudo vopono doctor`',
        ),
      );
    } else if (failedBefore) {
      add(result('selftest', 'end-to-end self-test', 'skip', 'not run: fix the failures above first'));
    } else {
      const { runSelfTest } = await import('./selftest.js');
      for (const c of await runSelfTest({
        socketPath: o.socketPath,
        daemonReachable: daemon.reachable && !('error' in daemon && daemon.error),
        ...(o.onProgress ? { log: o.onProgress } : {}),
      }))
        add(c);
    }
  }
  return reportOf(checks);
}

const MARK: Record<Status, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };
const COLOR: Record<Status, string> = { pass: '32', warn: '33', fail: '31', skip: '90' };

export function renderCheck(c: CheckResult, color: boolean): string {
  const mark = color ? `\x1b[${COLOR[c.status]}m${MARK[c.status]}\x1b[0m` : MARK[c.status];
  let out = `[${mark}] ${c.title}: ${c.detail}\n`;
  if (c.fix !== undefined && c.status !== 'pass') out += `       fix: ${c.fix}\n`;
  return out;
}

export function renderSummary(r: DoctorReport): string {
  const count = (s: Status): number => r.checks.filter((c) => c.status === s).length;
  const failed = r.checks.filter((c) => c.status === 'fail').map((c) => c.id);
  return r.ok
    ? `\nvopono doctor: all good (${count('pass')} passed, ${count('warn')} warnings, ${count('skip')} skipped)\n`
    : `\nvopono doctor: ${failed.length} problem${failed.length === 1 ? '' : 's'} (${failed.join(', ')}); apply the fixes above\n`;
}
