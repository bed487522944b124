// A throwaway "VPN provider" on this machine and a way to run apps through it: the peer world
// (src/world/: a namespace with a real wireguard-go peer, dnsmasq and an HTTP server reachable
// only through the tunnel), a WireGuard config for it, and a daemon to exec through (the running
// one, or a temporary one on a private socket). Shared by `vopono doctor`'s self-test and
// `vopono demo`. Root only. Everything is named with a unique prefix and removed by cleanup(),
// which then checks that no namespace or link of that prefix is left.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerWorld } from '../world/peer.js';

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface TunnelRun {
  prefix: string;
  world: PeerWorld;
  socketPath: string;
  /** The temporary daemon's pid, when one was started. */
  daemonPid?: number;
  /** The namespace apps run in (named with --custom-netns-name). */
  nsName: string;
  configPath: string;
  /** `vopono exec` through the tunnel (pipe mode, the namespace kept alive between calls). */
  exec(argv: string[], timeoutMs?: number): Promise<ExecResult>;
  /** Any other vopono subcommand against the same daemon. */
  cli(args: string[], timeoutMs?: number): Promise<ExecResult>;
  /** Removes everything; returns what could not be removed (empty: all clean). */
  cleanup(): Promise<string[]>;
}

export interface TunnelRunOptions {
  /** Socket of a daemon to use; when it doesn't answer, a temporary daemon is started. */
  socketPath: string;
  useRunningDaemon: boolean;
  /** How to run the vopono CLI (default: this very process's node, flags and entry script). */
  cli?: string[];
  log?: (message: string) => void;
  /** Run prefix (default: "vd" + 4 random characters). */
  prefix?: string;
}

export function defaultCli(): string[] {
  return [process.execPath, ...process.execArgv, process.argv[1] ?? 'vopono'];
}

function randomTag(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(Math.random() * 36)];
  return s;
}

function run(argv: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    if (file === undefined) return reject(new Error('empty command'));
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

async function waitUntil(pred: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return pred();
}

async function daemonAnswers(socketPath: string): Promise<boolean> {
  const { probeDaemon } = await import('./daemon-check.js');
  const p = await probeDaemon(socketPath, 3000);
  return p.reachable && p.error === undefined;
}

/** Starts `vopono daemon` on a private socket; resolves once it listens. */
async function startTemporaryDaemon(
  cli: string[],
  dir: string,
  prefix: string,
): Promise<{ child: ChildProcess; socketPath: string; logPath: string }> {
  const socketPath = join(dir, 'daemon.sock');
  const logPath = join(dir, 'daemon.log');
  const out = openSync(logPath, 'a');
  const pool = `10.${150 + Math.floor(Math.random() * 50)}`;
  const [file, ...args] = cli;
  const child = spawn(
    file!,
    [
      ...args,
      'daemon',
      '--socket',
      socketPath,
      '--state-dir',
      join(dir, 'state'),
      '--prefix',
      prefix,
      '--pool',
      pool,
      '--socket-group',
      'root',
      '--socket-mode',
      '0600',
    ],
    { stdio: ['ignore', out, out], env: { ...process.env, NOTIFY_SOCKET: '' } },
  );
  closeSync(out);
  let exited = false;
  child.once('exit', () => (exited = true));
  const ok = await waitUntil(() => exited || readFileSync(logPath, 'utf8').includes('listening on'), 15_000);
  if (!ok || exited) {
    if (!exited) child.kill('SIGKILL');
    throw new Error(`the temporary daemon did not start:\n${readFileSync(logPath, 'utf8').slice(-1500)}`);
  }
  return { child, socketPath, logPath };
}

/** Which namespaces and links of `prefix` exist (what a clean run must leave empty). */
export async function leftovers(prefixes: string[]): Promise<string[]> {
  const { createCommandRunner } = await import('../daemon/vpn/runner.js');
  const runner = createCommandRunner();
  const found: string[] = [];
  const netns = await runner.run('ip', ['netns', 'list']).catch(() => '');
  for (const line of netns.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (name !== '' && prefixes.some((p) => name.startsWith(p))) found.push(`namespace ${name}`);
  }
  const links = await runner.run('ip', ['-o', 'link', 'show']).catch(() => '');
  for (const line of links.split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1] ?? '';
    if (name !== '' && prefixes.some((p) => name.startsWith(p))) found.push(`link ${name}`);
  }
  const tables = await runner.run('nft', ['list', 'tables']).catch(() => '');
  for (const line of tables.split('\n')) {
    const name = line.trim().split(' ')[2] ?? '';
    if (name !== '' && prefixes.some((p) => name.startsWith(p))) found.push(`nft table ${name}`);
  }
  return found;
}

export async function startTunnelRun(o: TunnelRunOptions): Promise<TunnelRun> {
  const log = o.log ?? ((): void => undefined);
  const cli = o.cli ?? defaultCli();
  const prefix = o.prefix ?? `vd${randomTag(4)}`;
  const dir = mkdtempSync(join(tmpdir(), `vopono-${prefix}-`));
  chmodSync(dir, 0o700);
  const { createPeerWorld } = await import('../world/peer.js');

  let world: PeerWorld | undefined;
  let daemon: ChildProcess | undefined;
  let socketPath = o.socketPath;
  const nsName = `${prefix}_selftest`;
  const configPath = join(dir, `${prefix}.conf`);

  const cleanup = async (): Promise<string[]> => {
    const errors: string[] = [];
    const env = { ...process.env, VOPONO_SOCKET: socketPath };
    if (daemon === undefined) {
      // the running daemon keeps the namespace (--keep-alive) until told to stop it
      const r = await run([...cli, 'stop', nsName], env, 20_000).catch((e: Error) => ({
        code: 1,
        stderr: e.message,
        stdout: '',
      }));
      if (r.code !== 0 && !/no namespace|not found|nothing/i.test(r.stderr))
        errors.push(`vopono stop ${nsName}: ${r.stderr.trim()}`);
    } else if (daemon.exitCode === null && daemon.signalCode === null) {
      // the temporary daemon tears down its namespaces on SIGTERM
      const child = daemon;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(timer);
    }
    // a link already gone with its namespace is not an error; leftovers() below is the real check
    if (world)
      await world.destroy().catch((e: Error) => {
        if (!/Cannot find device/.test(e.message)) errors.push(e.message);
      });
    rmSync(dir, { recursive: true, force: true });
    const left = await leftovers([prefix]);
    if (left.length > 0) errors.push(`left behind: ${left.join(', ')}`);
    return errors;
  };

  try {
    log('building a throwaway WireGuard peer (namespace, wireguard-go, dnsmasq, HTTP server)');
    let lastError: unknown;
    for (let attempt = 0; attempt < 5 && !world; attempt++) {
      const subnetIndex = 100 + Math.floor(Math.random() * 150);
      try {
        world = await createPeerWorld({ prefix, subnetIndex });
      } catch (e) {
        lastError = e;
        if (!(e instanceof Error && /already in use/.test(e.message))) throw e;
      }
    }
    if (!world) throw lastError instanceof Error ? lastError : new Error(String(lastError));
    writeFileSync(configPath, world.clientConfig, { mode: 0o600 });

    if (!(o.useRunningDaemon && existsSync(socketPath) && (await daemonAnswers(socketPath)))) {
      log('starting a temporary daemon on a private socket');
      const t = await startTemporaryDaemon(cli, dir, prefix);
      daemon = t.child;
      socketPath = t.socketPath;
    } else log(`using the running daemon at ${socketPath}`);
  } catch (e) {
    await cleanup();
    throw e;
  }

  const env = (): NodeJS.ProcessEnv => ({ ...process.env, VOPONO_SOCKET: socketPath });
  const w = world;
  return {
    prefix,
    world: w,
    socketPath,
    ...(daemon?.pid !== undefined ? { daemonPid: daemon.pid } : {}),
    nsName,
    configPath,
    exec: (argv, timeoutMs = 30_000) =>
      run(
        [
          ...cli,
          'exec',
          '--custom',
          configPath,
          '--protocol',
          'wireguard',
          '--keep-alive',
          '--custom-netns-name',
          nsName,
          '--',
          ...argv,
        ],
        env(),
        timeoutMs,
      ),
    cli: (args, timeoutMs = 30_000) => run([...cli, ...args], env(), timeoutMs),
    cleanup,
  };
}
