// Shared pieces of the VPN e2e tests: the root gate, a client namespace made the way the
// namespace manager makes one, state snapshots, packet capture and probes run inside a namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetnsRecord } from '../../../src/daemon/vpn/backend.js';
import { defaultExecOptions, type ExecOptions } from '../../../src/protocol/messages.js';
import { runCommand, createCommandRunner } from '../../../src/daemon/vpn/runner.js';
import { setVpnRunDir, waitFor, stopProcess } from '../../../src/daemon/vpn/process.js';

export const isRoot = process.getuid?.() === 0;

/** Root tests: in CI (CI=true) a missing root is a failure, locally a printed skip. */
export function rootGate(name: string): boolean {
  if (isRoot) return true;
  if (process.env.CI === 'true') {
    throw new Error(`${name}: these e2e tests need root (CI=true, so this is a failure, not a skip)`);
  }
  process.stderr.write(`[skip] ${name}: not root; run as root to exercise real namespaces\n`);
  return false;
}

export const runner = createCommandRunner();

/** A unique prefix per run: 'vt' + 4 base36 characters. */
export function uniquePrefix(): string {
  return `vt${Math.floor(Math.random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0')}`;
}

/** A /24 index for the run (tests within a file add offsets). */
export function uniqueIndex(): number {
  return 10 + ((process.pid * 7 + Math.floor(Math.random() * 100)) % 200);
}

export function baseOptions(over: Partial<ExecOptions> = {}): ExecOptions {
  return defaultExecOptions('custom', over);
}

export interface ClientNs {
  record: NetnsRecord;
  /** Writes /etc/netns/<name>/resolv.conf (what the manager does with the backend's dns). */
  setResolvers(dns: string[]): void;
  destroy(): Promise<void>;
}

/**
 * Makes an app namespace like the manager does: `ip netns add`, a veth pair (10.236.N.0/24,
 * fd36:N::/64), lo up, /etc/netns/<name>/{resolv.conf,hosts,nsswitch.conf}; with `uplinkTo` a
 * default route via the host veth (OpenVPN), but no NAT: the test routes only toward its own peer.
 */
export async function makeClientNs(
  prefix: string,
  index: number,
  opts: { defaultRoute?: boolean; ipv6?: boolean } = {},
): Promise<ClientNs> {
  const name = `${prefix}c${index}`;
  const hex = index.toString(16);
  const record: NetnsRecord = {
    name,
    owner: 0,
    index,
    provider: 'custom',
    protocol: 'wireguard',
    hostVeth: `${prefix}${index}h`,
    nsVeth: `${prefix}${index}n`,
    hostIp: `10.236.${index}.1`,
    nsIp: `10.236.${index}.2`,
    subnet: `10.236.${index}.0/24`,
    ...(opts.ipv6 !== false ? { hostIp6: `fd36:${hex}::1`, nsIp6: `fd36:${hex}::2` } : {}),
    dns: [],
    keepAlive: false,
    createdAt: Date.now(),
    options: {
      noKillswitch: false,
      disableIpv6: false,
      openPorts: [],
      forward: [],
      allowHostAccess: false,
      openHosts: [],
    },
    prefix,
  };
  const etc = `/etc/netns/${name}`;
  const destroy = async (): Promise<void> => {
    await runner.run('ip', ['netns', 'del', name]).catch(() => undefined);
    await runner.run('ip', ['link', 'del', record.hostVeth]).catch(() => undefined);
    rmSync(etc, { recursive: true, force: true });
    try {
      if (readdirSync('/etc/netns').length === 0 && !netnsDirExistedBefore)
        rmSync('/etc/netns', { recursive: true, force: true });
    } catch {
      /* none */
    }
  };
  try {
    await runner.run('ip', ['netns', 'add', name]);
    await runner.run('ip', [
      'link',
      'add',
      record.hostVeth,
      'type',
      'veth',
      'peer',
      'name',
      record.nsVeth,
      'netns',
      name,
    ]);
    await runner.run('ip', ['addr', 'add', `${record.hostIp}/24`, 'dev', record.hostVeth]);
    await runner.run('ip', ['link', 'set', record.hostVeth, 'up']);
    await runner.run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    await runner.run('ip', ['-n', name, 'addr', 'add', `${record.nsIp}/24`, 'dev', record.nsVeth]);
    if (record.hostIp6 !== undefined && record.nsIp6 !== undefined) {
      await runner.run('ip', ['-6', 'addr', 'add', `${record.hostIp6}/64`, 'dev', record.hostVeth, 'nodad']);
      await runner.run('ip', [
        '-n',
        name,
        '-6',
        'addr',
        'add',
        `${record.nsIp6}/64`,
        'dev',
        record.nsVeth,
        'nodad',
      ]);
    }
    await runner.run('ip', ['-n', name, 'link', 'set', record.nsVeth, 'up']);
    if (opts.defaultRoute === true)
      await runner.run('ip', ['-n', name, 'route', 'add', 'default', 'via', record.hostIp]);
    mkdirSync(etc, { recursive: true });
    writeFileSync(join(etc, 'hosts'), `127.0.0.1 localhost\n::1 localhost\n${record.nsIp} ${name}\n`);
    writeFileSync(join(etc, 'nsswitch.conf'), 'hosts: files dns\n');
    writeFileSync(join(etc, 'resolv.conf'), '');
  } catch (e) {
    await destroy();
    throw e;
  }
  return {
    record,
    setResolvers: (dns) =>
      writeFileSync(
        join(etc, 'resolv.conf'),
        dns.map((d) => `nameserver ${d}\n`).join('') + 'options timeout:1 attempts:1\n',
      ),
    destroy,
  };
}

let netnsDirExistedBefore = true;
try {
  readdirSync('/etc/netns');
} catch {
  netnsDirExistedBefore = false;
}

/** A private run dir for backends (keys, credentials): mkdtemp, 0700, removed by the returned function. */
export function privateRunDir(prefix: string): () => void {
  const dir = mkdtempSync(join(tmpdir(), `vopono-run-${prefix}-`));
  setVpnRunDir(dir);
  return () => {
    setVpnRunDir(undefined);
    rmSync(dir, { recursive: true, force: true });
  };
}

// ---------------------------------------------------------------- snapshots

/**
 * What must be identical before and after a test: everything on the host that carries the run's
 * prefix (other sessions work on this machine at the same time, so unrelated state is left out),
 * plus host-wide switches the tests could touch.
 */
export async function snapshot(prefix: string): Promise<Record<string, string>> {
  const mine = (text: string): string =>
    text
      .split('\n')
      .filter((l) => l.includes(prefix))
      .join('\n');
  const netns = mine(await runner.run('ip', ['netns', 'list']));
  // names and addresses only: flags (tentative, LOWER_UP) change on their own
  const links = mine(
    (await runner.run('ip', ['-o', 'link', 'show']))
      .split('\n')
      .map((l) => l.split(':')[1]?.trim() ?? '')
      .join('\n'),
  );
  const addrs = mine(
    (await runner.run('ip', ['-o', 'addr', 'show']))
      .split('\n')
      .map((l) => l.split(/\s+/).slice(1, 4).join(' '))
      .join('\n'),
  );
  const nft = mine(await runner.run('nft', ['list', 'tables']));
  const ipt = mine(await runner.run('iptables-save', []).catch(() => ''));
  const ip6t = mine(await runner.run('ip6tables-save', []).catch(() => ''));
  const ls = (dir: string): string => {
    try {
      return mine(readdirSync(dir).sort().join('\n'));
    } catch {
      return '';
    }
  };
  const procs: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(prefix)) procs.push(`${d} ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return {
    netns,
    links,
    addrs,
    nft,
    ipt,
    ip6t,
    etcNetns: ls('/etc/netns'),
    wgSockets: ls('/var/run/wireguard'),
    tmp: ls(tmpdir()),
    procs: procs.sort().join('\n'),
    ipForward: readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'),
  };
}

// ---------------------------------------------------------------- probes inside a namespace

export async function nsCurl(ns: string, url: string, timeoutS = 3): Promise<{ ok: boolean; body: string }> {
  try {
    const body = await runCommand('ip', [
      'netns',
      'exec',
      ns,
      'curl',
      '-sS',
      '-g',
      '--max-time',
      String(timeoutS),
      url,
    ]);
    return { ok: true, body };
  } catch (e) {
    return { ok: false, body: (e as Error).message };
  }
}

export async function nsResolve(ns: string, name: string): Promise<string[]> {
  try {
    const out = await runCommand('ip', ['netns', 'exec', ns, 'getent', 'ahostsv4', name]);
    return [
      ...new Set(
        out
          .split('\n')
          .map((l) => l.split(/\s+/)[0] ?? '')
          .filter((s) => s !== ''),
      ),
    ];
  } catch {
    return [];
  }
}

/** Something inside the namespace that keeps trying to get out (UDP, TCP, DNS; v4 and v6) for `ms`. */
export function nsKeepTrying(
  ns: string,
  targets: { udp: string[]; tcp: string[]; names: string[] },
  ms: number,
): Promise<void> {
  const script = `
const dgram = require('node:dgram'); const net = require('node:net'); const dns = require('node:dns');
const t = JSON.parse(process.argv[1]); const end = Date.now() + Number(process.argv[2]);
const tick = () => {
  for (const a of t.udp) { const [h, p] = a.split('|'); const s = dgram.createSocket(h.includes(':') ? 'udp6' : 'udp4'); s.on('error', () => s.close()); s.send('leak?', Number(p), h, () => s.close()); }
  for (const a of t.tcp) { const [h, p] = a.split('|'); const c = net.connect({ host: h, port: Number(p) }); c.on('error', () => {}); setTimeout(() => c.destroy(), 150); }
  for (const n of t.names) dns.lookup(n, () => {});
  if (Date.now() < end) setTimeout(tick, 100); else setTimeout(() => process.exit(0), 300);
};
tick();`;
  return runCommand(
    'ip',
    ['netns', 'exec', ns, process.execPath, '-e', script, JSON.stringify(targets), String(ms)],
    { timeoutMs: ms + 10_000 },
  ).then(() => undefined);
}

/** tcpdump on a host interface: IP/IPv6 packets seen in `direction` (in = sent by the namespace). */
export async function capture(
  iface: string,
  filter = 'ip or ip6',
  direction: 'in' | 'out' = 'in',
): Promise<{ stop(): Promise<string[]> }> {
  const child: ChildProcess = spawn('tcpdump', ['-i', iface, '-n', '-l', '-p', '-Q', direction, filter], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const ok = await waitFor(
    () => (err.includes('listening on') ? true : child.exitCode !== null ? false : undefined),
    10_000,
  );
  if (ok !== true) throw new Error(`tcpdump did not start: ${err}`);
  return {
    stop: async () => {
      await new Promise((r) => setTimeout(r, 300));
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('close', r));
        await stopProcess(child.pid, ['tcpdump'], 3000);
        await exited;
      }
      if (child.exitCode !== null && child.exitCode !== 0)
        out += `(tcpdump exited ${child.exitCode}: ${err.trim().split('\n').pop() ?? ''})\n`;
      return out.split('\n').filter((l) => l.trim() !== '');
    },
  };
}

export async function linkTxPackets(ns: string | undefined, iface: string): Promise<number> {
  const args =
    ns !== undefined
      ? ['-n', ns, '-s', '-j', 'link', 'show', 'dev', iface]
      : ['-s', '-j', 'link', 'show', 'dev', iface];
  const out = await runner.run('ip', args);
  const m = /"tx":\{"bytes":\d+,"packets":(\d+)/.exec(out);
  return Number(m?.[1] ?? NaN);
}

/** Runs every cleanup step even when some fail; throws them all together at the end. */
export async function cleanupSteps(steps: (() => unknown)[]): Promise<void> {
  const errors: string[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      errors.push(e instanceof Error ? e.message : String(e));
    }
  }
  if (errors.length > 0) throw new Error(`cleanup: ${errors.join('\n')}`);
}

/** After down(): no killswitch table or chain of ours left in the namespace (it still exists). */
export async function expectNoKillswitchLeft(ns: string): Promise<void> {
  const nft = await runner.runInNs(ns, 'nft', ['list', 'ruleset']);
  const ipt = await runner.runInNs(ns, 'iptables-save', []);
  const ip6t = await runner.runInNs(ns, 'ip6tables-save', []);
  for (const [what, text] of [
    ['nft', nft],
    ['iptables', ipt],
    ['ip6tables', ip6t],
  ] as const) {
    if (text.includes('_ks')) throw new Error(`${what} rules left in ${ns} after down():\n${text}`);
  }
}
