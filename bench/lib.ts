// Shared pieces of the benchmarks: a real daemon started from a snapshot of dist/ (a build by
// someone else mid-run cannot swap code under it), timing of whole processes, statistics, and the
// result rows every bench prints (and hands to bench/run.ts through VOPONO_BENCH_RESULTS).
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { defaultExecOptions, type ExecOptions } from '../src/protocol/messages.js';
import { join } from 'node:path';
import { leftovers, REPO } from '../test/helpers/daemon.js';
import { run, sleep, waitFor } from '../test/helpers/run.js';

export { run, sleep, waitFor };

export type Verdict = 'pass' | 'miss' | 'info' | 'skipped' | 'error';

/** One figure: what was measured, against what baseline (same run), and the target. */
export interface Row {
  figure: string;
  measured: string;
  baseline: string;
  target: string;
  verdict: Verdict;
  note?: string;
}

const rows: Row[] = [];

/** Records a figure: printed now, collected by bench/run.ts when it started us. */
export function emit(row: Row): void {
  rows.push(row);
  const line =
    `  [${row.verdict.toUpperCase()}] ${row.figure}: ${row.measured}` +
    (row.baseline ? ` | baseline ${row.baseline}` : '') +
    (row.target ? ` | target ${row.target}` : '') +
    (row.note ? `\n         ${row.note}` : '');
  process.stdout.write(line + '\n');
  const file = process.env.VOPONO_BENCH_RESULTS;
  if (file) appendFileSync(file, JSON.stringify(row) + '\n');
}

export function emitted(): Row[] {
  return [...rows];
}

export function printTable(list: Row[]): void {
  const head = ['figure', 'measured', 'baseline (same run)', 'target', 'verdict'];
  const body = list.map((r) => [r.figure, r.measured, r.baseline, r.target, r.verdict]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  process.stdout.write(fmt(head) + '\n' + widths.map((w) => '-'.repeat(w)).join('-|-') + '\n');
  for (const b of body) process.stdout.write(fmt(b) + '\n');
}

export function log(msg: string): void {
  process.stdout.write(`${msg}\n`);
}

// ---------------------------------------------------------------- statistics

export function median(xs: number[]): number {
  return percentile(xs, 50);
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const k = ((s.length - 1) * p) / 100;
  const lo = Math.floor(k);
  const hi = Math.ceil(k);
  return s[lo]! + (s[hi]! - s[lo]!) * (k - lo);
}

export function ms(x: number, digits = 1): string {
  return `${x.toFixed(digits)} ms`;
}

/** "median (p10–p90, n)" */
export function dist(xs: number[], digits = 1): string {
  return `${median(xs).toFixed(digits)} ms (p10 ${percentile(xs, 10).toFixed(digits)}, p90 ${percentile(xs, 90).toFixed(digits)}, n=${xs.length})`;
}

export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

// ---------------------------------------------------------------- processes

export interface Timed {
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Wall time of one whole process, spawn to exit (stdio collected; stdin /dev/null). */
export function timeProcess(
  file: string,
  args: string[],
  opts: SpawnOptions & { timeoutMs?: number } = {},
): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const child = spawn(file, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      const t = now() - t0;
      child.on('close', () => {
        clearTimeout(timer);
        resolve({ ms: t, code, signal, stdout: out, stderr: err });
      });
    });
  });
}

/** Times `n` sequential runs after `warmup` untimed ones; throws if one fails. */
export async function timeRuns(
  n: number,
  warmup: number,
  file: string,
  args: string[],
  opts: SpawnOptions = {},
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < warmup + n; i++) {
    const r = await timeProcess(file, args, opts);
    if (r.code !== 0)
      throw new Error(`${file} ${args.join(' ')} failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
    if (i >= warmup) out.push(r.ms);
  }
  return out;
}

/** Interleaves several commands run by run (A B C A B C ...) so drift hits all of them alike. */
export async function timeInterleaved(
  n: number,
  warmup: number,
  cmds: Record<string, { file: string; args: string[]; opts?: SpawnOptions }>,
): Promise<Record<string, number[]>> {
  const res: Record<string, number[]> = {};
  for (const k of Object.keys(cmds)) res[k] = [];
  for (let i = 0; i < warmup + n; i++)
    for (const [k, c] of Object.entries(cmds)) {
      const r = await timeProcess(c.file, c.args, c.opts ?? {});
      if (r.code !== 0)
        throw new Error(
          `${k}: ${c.file} ${c.args.join(' ')} failed (${r.code ?? r.signal}): ${r.stderr.trim()}`,
        );
      if (i >= warmup) res[k]!.push(r.ms);
    }
  return res;
}

export function vmRssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

// ---------------------------------------------------------------- exec requests

const MONO_C = `#include <stdio.h>
#include <time.h>
int main(int argc, char **argv) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  FILE *f = argc > 1 ? fopen(argv[1], "w") : stdout;
  if (!f) return 1;
  fprintf(f, "%lld\\n", (long long)t.tv_sec * 1000000000LL + t.tv_nsec);
  return fclose(f) == 0 ? 0 : 1;
}
`;

/** A tiny C program printing CLOCK_MONOTONIC in ns (to argv[1] or stdout), built now with cc. */
export function buildMono(dir: string): string {
  writeFileSync(join(dir, 'mono.c'), MONO_C);
  execFileSync('cc', ['-O2', '-o', join(dir, 'mono'), join(dir, 'mono.c')]);
  return join(dir, 'mono');
}

export const noneOptions = (extra: Partial<ExecOptions> = {}): ExecOptions =>
  defaultExecOptions('none', extra);

const RTIME_C = `#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  pid_t pid = fork();
  if (pid == 0) { execvp(argv[1], argv + 1); _exit(127); }
  int st; struct rusage ru;
  if (wait4(pid, &st, 0, &ru) < 0) return 125;
  clock_gettime(CLOCK_MONOTONIC, &b);
  double cpu = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
  double wall = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
  fprintf(stderr, "\\nRTIME %.3f %.3f\\n", cpu, wall);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
`;

let rtimePath: string | undefined;

/** CPU time (user+sys, ms) and wall time of one process, by a tiny wait4 wrapper built with cc. */
export async function cpuTime(
  file: string,
  args: string[],
  opts: SpawnOptions = {},
): Promise<{ cpu: number; wall: number }> {
  if (!rtimePath) {
    const dir = mkdtempSync('/tmp/vopono-bench-rtime-');
    writeFileSync(join(dir, 'rtime.c'), RTIME_C);
    execFileSync('cc', ['-O2', '-o', join(dir, 'rtime'), join(dir, 'rtime.c')]);
    rtimePath = join(dir, 'rtime');
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const r = await timeProcess(rtimePath, [file, ...args], opts);
  const m = /RTIME ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  if (r.code !== 0 || !m)
    throw new Error(`${file} ${args.join(' ')} failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
  return { cpu: Number(m[1]), wall: Number(m[2]) };
}

// ---------------------------------------------------------------- the daemon under test

export interface BenchDaemon {
  /** node + the snapshot's dist/vopono.js: argv prefix for the CLI. */
  cli: string[];
  /** root of the dist/ snapshot (node_modules/.vopono-bench-PID, holding dist/). */
  snapshot: string;
  socketPath: string;
  prefix: string;
  pool: string;
  pid: number;
  child: ChildProcess;
  env: NodeJS.ProcessEnv;
  log(): string;
  /** CLI run as root against this daemon. */
  vopono(args: string[], opts?: SpawnOptions & { timeoutMs?: number }): Promise<Timed>;
  stop(): Promise<void>;
}

/** A prefix of our own ('b' + 4 hex): every namespace, link and nft table starts with it. */
export function benchPrefix(): string {
  return `b${randomBytes(2).toString('hex')}`;
}

/** A /16 second octet no route of the host uses yet (other daemons may run side by side). */
async function freePool(): Promise<string> {
  const routes = (await run('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout;
  for (let i = 0; i < 200; i++) {
    const b = 100 + Math.floor(Math.random() * 150);
    if (!routes.includes(`10.${b}.`)) return `10.${b}`;
  }
  throw new Error('no free 10.x.0.0/16 for the bench daemon');
}

const cleanups: (() => Promise<void>)[] = [];
let exiting = false;

/** Run on SIGINT/SIGTERM and on a failing bench: everything we made goes away. */
export async function cleanupAll(): Promise<void> {
  while (cleanups.length > 0) {
    const c = cleanups.pop()!;
    await c().catch((e: unknown) => log(`cleanup: ${e instanceof Error ? e.message : String(e)}`));
  }
}

let handlersInstalled = false;

/** Installed with the first daemon (bench/run.ts imports this module too and must not get them). */
function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(sig, () => {
      if (exiting) return;
      exiting = true;
      log(`bench: ${sig}, cleaning up`);
      void cleanupAll().finally(() => process.exit(130));
    });
  // a script that throws outside main() (or a bug in a bench) still cleans up
  for (const ev of ['uncaughtException', 'unhandledRejection'] as const)
    process.on(ev, (err: unknown) => {
      log(`bench: ${ev}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (exiting) return;
      exiting = true;
      void cleanupAll().finally(() => process.exit(1));
    });
}

/** Daemons still running: killed on a sudden exit, their snapshot then kept so they can tear down. */
const liveDaemons = new Set<ChildProcess>();

/** Anything a prefix left (namespaces, links, nft tables, /etc/netns dirs) removed by force. */
export async function forceClean(prefix: string): Promise<string[]> {
  const left = await leftovers(prefix);
  for (const item of left) {
    const [kind, ...rest] = item.split(' ');
    if (kind === 'netns') await run('ip', ['netns', 'del', rest[0]!]);
    else if (kind === 'link') await run('ip', ['link', 'del', rest[0]!]);
    else if (kind === 'nft')
      await run('nft', ['delete', ...rest]); // "table ip NAME"
    else if (kind?.startsWith('/etc/netns')) rmSync(kind, { recursive: true, force: true });
  }
  return left;
}

let snapshotDir: string | undefined;

/**
 * A copy of dist/ taken now, so a build by someone else during the run cannot swap code under the
 * daemon or the CLI. It sits in node_modules/.vopono-bench-PID/dist so that packages resolve from
 * the project's node_modules exactly as from dist/ (all of msgpackr's and koffi's optional parts).
 */
export function distSnapshot(): string {
  if (snapshotDir) return snapshotDir;
  // copies left by runs that ended suddenly, once their process is gone
  for (const d of readdirSync(join(REPO, 'node_modules'))) {
    const m = /^\.vopono-bench-(\d+)$/.exec(d);
    if (m && !existsSync(`/proc/${m[1]}`))
      rmSync(join(REPO, 'node_modules', d), { recursive: true, force: true });
  }
  const dir = join(REPO, 'node_modules', `.vopono-bench-${process.pid}`);
  for (let attempt = 0; ; attempt++) {
    try {
      if (!existsSync(join(REPO, 'dist', 'vopono.js')))
        throw new Error('dist/ is missing: run `npm run build` first');
      rmSync(dir, { recursive: true, force: true });
      cpSync(join(REPO, 'dist'), join(dir, 'dist'), { recursive: true });
      break;
    } catch (err) {
      // a build swapping dist/ in at this moment: try again shortly
      if (attempt >= 20) throw err;
      execFileSync('sleep', ['0.25']);
    }
  }
  snapshotDir = dir;
  process.on('exit', () => {
    // a daemon still running needs its code to tear down: SIGTERM it and leave the copy
    // (swept by the next run once its pid is gone)
    for (const c of liveDaemons) c.kill('SIGTERM');
    if (liveDaemons.size === 0) rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** nodeArgs: extra flags for the daemon's node (also from BENCH_DAEMON_NODE_ARGS, space-separated). */
export async function startBenchDaemon(opts: { nodeArgs?: string[] } = {}): Promise<BenchDaemon> {
  installSignalHandlers();
  // the V8 flag vopono.service gives the daemon (NODE_OPTIONS), so the figures are the shipped daemon's
  const nodeArgs =
    opts.nodeArgs ??
    (process.env.BENCH_DAEMON_NODE_ARGS ?? '--max-semi-space-size=1').split(' ').filter(Boolean);
  const snapshot = distSnapshot();
  const cliPath = join(snapshot, 'dist', 'vopono.js');
  const prefix = benchPrefix();
  const pool = await freePool();
  const dir = mkdtempSync('/tmp/vopono-bench-');
  chmodSync(dir, 0o755);
  const socketPath = join(dir, 'vopono.sock');
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      join(snapshot, 'dist', 'vopono.js'),
      'daemon',
      '--socket',
      socketPath,
      '--socket-mode',
      '0666',
      '--state-dir',
      join(dir, 'state'),
      '--prefix',
      prefix,
      '--pool',
      pool,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  let exited = false;
  liveDaemons.add(child);
  child.on('exit', () => {
    exited = true;
    liveDaemons.delete(child);
  });
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      await waitFor(() => exited, 60_000, 'the daemon to exit').catch(() => child.kill('SIGKILL'));
    }
    const left = await forceClean(prefix);
    if (left.length > 0) log(`bench: the daemon left behind (removed by force): ${left.join(', ')}`);
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.push(stop);
  await waitFor(() => exited || text.includes('listening on'), 15_000, 'the daemon to listen');
  if (exited) throw new Error(`daemon exited at start:\n${text}`);
  const env = { ...process.env, VOPONO_SOCKET: socketPath };
  const cli = [process.execPath, cliPath];
  return {
    cli,
    snapshot,
    socketPath,
    prefix,
    pool,
    pid: child.pid!,
    child,
    env,
    log: () => text,
    vopono: (args, opts = {}) => timeProcess(cli[0]!, [cli[1]!, ...args], { env, ...opts }),
    async stop() {
      const i = cleanups.indexOf(stop);
      if (i >= 0) cleanups.splice(i, 1);
      await stop();
    },
  };
}

/** Runs a bench's body with cleanup on every path; prints its rows at the end. */
export async function main(name: string, body: () => Promise<void>): Promise<void> {
  if (process.getuid?.() !== 0) {
    emit({ figure: name, measured: '-', baseline: '', target: '', verdict: 'skipped', note: 'needs root' });
    return;
  }
  log(`== ${name}`);
  let failed = false;
  try {
    await body();
  } catch (err) {
    failed = true;
    log(`bench ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    emit({
      figure: name,
      measured: 'failed',
      baseline: '',
      target: '',
      verdict: 'error',
      note: err instanceof Error ? err.message.split('\n')[0] : String(err),
    });
  } finally {
    await cleanupAll();
  }
  if (!process.env.VOPONO_BENCH_RESULTS) {
    log('');
    printTable(emitted());
  }
  process.exit(failed ? 1 : 0);
}
