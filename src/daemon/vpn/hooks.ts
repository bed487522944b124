// --postup / --predown: user commands, run as the requesting user (uid/gid from the kernel's
// peer credentials; supplementary groups cleared), never with more rights than that user, in the
// host namespace like upstream, with the namespace's facts in the environment.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { NetnsRecord } from './backend.js';

/** VOPONO_NS, VOPONO_NS_IP, VOPONO_HOST_IP (+ _IP6 variants when the namespace has IPv6). Also set for apps. */
export function hookEnv(
  ns: Pick<NetnsRecord, 'name' | 'nsIp' | 'hostIp' | 'nsIp6' | 'hostIp6'>,
): Record<string, string> {
  const env: Record<string, string> = {
    VOPONO_NS: ns.name,
    VOPONO_NS_IP: ns.nsIp,
    VOPONO_HOST_IP: ns.hostIp,
  };
  if (ns.nsIp6 !== undefined) env.VOPONO_NS_IP6 = ns.nsIp6;
  if (ns.hostIp6 !== undefined) env.VOPONO_HOST_IP6 = ns.hostIp6;
  return env;
}

function passwdEntry(uid: number): { name: string; home: string } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 7 && Number(f[2]) === uid) return { name: f[0] ?? '', home: f[5] ?? '/' };
    }
  } catch {
    /* no passwd */
  }
  return undefined;
}

export interface HookResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

export interface HookOptions {
  uid: number;
  gid: number;
  ns: Pick<NetnsRecord, 'name' | 'nsIp' | 'hostIp' | 'nsIp6' | 'hostIp6'>;
  /** Extra variables (e.g. the user's own PATH). */
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs `command` with /bin/sh as the user; resolves with its status and combined output (capped). */
export function runHook(command: string, opts: HookOptions): Promise<HookResult> {
  if (!Number.isInteger(opts.uid) || opts.uid < 0 || !Number.isInteger(opts.gid) || opts.gid < 0) {
    return Promise.reject(new Error('hook: bad uid/gid'));
  }
  const pw = passwdEntry(opts.uid);
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: pw?.home ?? '/',
    ...(pw !== undefined ? { USER: pw.name, LOGNAME: pw.name } : {}),
    ...opts.env,
    ...hookEnv(opts.ns),
  };
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      uid: opts.uid,
      gid: opts.gid,
      env,
      cwd: opts.cwd ?? (pw !== undefined && existsSync(pw.home) ? pw.home : '/'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const add = (b: Buffer): void => {
      if (output.length < 65536) output += b.toString();
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`hook: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}
