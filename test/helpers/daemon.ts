// Starts the real daemon (the built dist/vopono.js) on a temporary socket with a unique prefix and
// address pool, and proves at stop that it left nothing behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeClientCopy, REPO } from './client-copy.js';
import { run, sleep, waitFor } from './run.js';

export { REPO };

/**
 * The built CLI as any user can run it: the run's shared copy (made by global-setup.ts), or, when
 * run outside vitest (bench/), a copy of its own removed when the process exits.
 */
export function clientCli(): string {
  const shared = process.env.VOPONO_TEST_CLIENT_DIR;
  if (shared && existsSync(join(shared, 'dist', 'vopono.js'))) return join(shared, 'dist', 'vopono.js');
  const dir = makeClientCopy();
  process.env.VOPONO_TEST_CLIENT_DIR = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'dist', 'vopono.js');
}

export interface TestDaemon {
  socketPath: string;
  stateDir: string;
  prefix: string;
  pool: string;
  child: ChildProcess;
  pid: number;
  log(): string;
  /** SIGTERM, wait for exit. */
  stop(): Promise<void>;
}

export function uniquePrefix(): string {
  return `t${randomBytes(3)
    .toString('hex')
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 5)}`;
}

export async function startDaemon(
  opts: { prefix?: string; args?: string[]; pool?: string; stateDir?: string } = {},
): Promise<TestDaemon> {
  const prefix = opts.prefix ?? uniquePrefix();
  const dir = mkdtempSync('/tmp/vopono-d-');
  chmodSync(dir, 0o755);
  const socketPath = join(dir, 'vopono.sock');
  const stateDir = opts.stateDir ?? join(dir, 'state');
  // a second octet of our own, so daemons of parallel runs never pick the same /24
  const pool = opts.pool ?? `10.${100 + Math.floor(Math.random() * 150)}`;
  const child = spawn(
    process.execPath,
    [
      join(REPO, 'dist', 'vopono.js'),
      'daemon',
      '--socket',
      socketPath,
      '--socket-mode',
      '0666',
      '--state-dir',
      stateDir,
      '--prefix',
      prefix,
      '--pool',
      pool,
      ...(opts.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  let exited = false;
  child.on('exit', () => (exited = true));
  await waitFor(() => exited || log.includes('listening on'), 15_000, 'the daemon to listen');
  if (exited) throw new Error(`daemon exited at start:\n${log}`);
  return {
    socketPath,
    stateDir,
    prefix,
    pool,
    child,
    pid: child.pid!,
    log: () => log,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await waitFor(() => exited, 20_000, 'the daemon to exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Everything a prefix may have left: namespaces, links, nft tables, /etc/netns dirs. */
export async function leftovers(prefix: string): Promise<string[]> {
  const found: string[] = [];
  const ns = (await run('ip', ['netns', 'list'])).stdout;
  for (const line of ns.split('\n'))
    if (line.startsWith(`${prefix}_`) || line.startsWith(prefix)) found.push(`netns ${line.split(' ')[0]}`);
  const links = (await run('ip', ['-o', 'link'])).stdout;
  for (const line of links.split('\n')) {
    const name = line.split(': ')[1]?.split('@')[0];
    if (name?.startsWith(prefix)) found.push(`link ${name}`);
  }
  const tables = (await run('nft', ['list', 'tables'])).stdout;
  for (const line of tables.split('\n'))
    if (line.split(' ')[2]?.startsWith(prefix)) found.push(`nft ${line}`);
  if (existsSync('/etc/netns'))
    for (const d of readdirSync('/etc/netns')) if (d.startsWith(prefix)) found.push(`/etc/netns/${d}`);
  return found;
}

/** Waits until the prefix has left nothing behind (teardown runs just after the exit status). */
export async function expectClean(prefix: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let left: string[] = [];
  while (Date.now() < end) {
    left = await leftovers(prefix);
    if (left.length === 0) return;
    await sleep(50);
  }
  throw new Error(`left behind: ${left.join(', ')}`);
}

/** The open fds of a process (to prove a daemon leaks none). */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
