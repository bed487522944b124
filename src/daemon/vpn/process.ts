// Long-lived helper processes (wireguard-go, openvpn, dnsmasq, ...): started detached with a
// known pid, stopped by that pid after checking it is still the process we started (a pid from a
// state file may have been reused), and root-only private directories for their files.
import { spawn } from 'node:child_process';
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

let runDirOverride: string | undefined;

/** Where backends keep per-namespace private files (keys, credentials, logs). Root-only. */
export function vpnRunDir(): string {
  return runDirOverride ?? process.env.VOPONO_RUN_DIR ?? '/run/vopono';
}

export function setVpnRunDir(dir: string | undefined): void {
  runDirOverride = dir;
}

function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.isSymbolicLink()) throw new Error(`${dir} is not a directory`);
  if (process.getuid !== undefined && st.uid !== process.getuid())
    throw new Error(`${dir} is not owned by us`);
  if ((st.mode & 0o077) !== 0)
    throw new Error(`${dir} is accessible by other users (mode ${(st.mode & 0o777).toString(8)})`);
}

/** `<run dir>/vpn/<namespace>`, mode 0700, created on demand; every level checked. */
export function privateDir(nsName: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(nsName)) throw new Error(`bad namespace name '${nsName}'`);
  const base = vpnRunDir();
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const vpn = join(base, 'vpn');
  ensurePrivateDir(vpn);
  const dir = join(vpn, nsName);
  ensurePrivateDir(dir);
  return dir;
}

/** The path privateDir() uses, without creating anything. */
export function privateDirPath(nsName: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(nsName)) throw new Error(`bad namespace name '${nsName}'`);
  return join(vpnRunDir(), 'vpn', nsName);
}

export function removePrivateDir(nsName: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(nsName)) return;
  rmSync(join(vpnRunDir(), 'vpn', nsName), { recursive: true, force: true });
  try {
    rmdirSync(join(vpnRunDir(), 'vpn')); // only when empty: other namespaces' dirs stay
  } catch {
    /* not empty, or gone */
  }
}

export interface DetachedOptions {
  /** stdout+stderr go here (created 0600). */
  logFile?: string;
  env?: Record<string, string>;
}

/** Starts a process in its own session, not tied to the caller's lifetime; returns its pid. */
export function spawnDetached(file: string, args: string[], opts: DetachedOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const fd = opts.logFile !== undefined ? openSync(opts.logFile, 'a', 0o600) : 'ignore';
    const child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', ...opts.env },
    });
    if (typeof fd === 'number') closeSync(fd);
    child.once('error', (e) => reject(new Error(`${file}: ${e.message}`)));
    child.once('spawn', () => {
      child.unref();
      if (child.pid === undefined) reject(new Error(`${file}: no pid`));
      else resolve(child.pid);
    });
  });
}

/** argv of a live (non-zombie) process, or undefined. */
export function processArgv(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return undefined;
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((s, i, a) => i < a.length - 1 || s !== '');
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  return processArgv(pid) !== undefined;
}

/**
 * Stops `pid` if its argv still matches `expect` (every string must appear in argv, the first
 * as the basename of argv[0] or of any argv element, so `ip netns exec NS openvpn` matches 'openvpn').
 * SIGTERM, then SIGKILL after `graceMs`. Resolves once it is gone.
 */
export async function stopProcess(pid: number, expect: string[], graceMs = 3000): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  const argv = processArgv(pid);
  if (argv === undefined) return false;
  const names = argv.map((a) => a.slice(a.lastIndexOf('/') + 1));
  const [prog, ...rest] = expect;
  if (prog !== undefined && !names.includes(prog)) return false;
  if (!rest.every((e) => argv.includes(e))) return false;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return false;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      const hard = Date.now() + 2000;
      while (isAlive(pid) && Date.now() < hard) await sleep(10);
      break;
    }
    await sleep(10);
  }
  return true;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  stepMs = 10,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) return undefined;
    await sleep(stepMs);
  }
}

/**
 * Writes `content` to a new 0600 file in `dir` (which must be a private directory), runs `fn` with
 * its path, and removes it whatever happens.
 */
export async function withSecretFile<T>(
  dir: string,
  name: string,
  content: string,
  fn: (path: string) => Promise<T>,
): Promise<T> {
  const path = join(dir, name);
  rmSync(path, { force: true });
  writeFileSync(path, content, { mode: 0o600, flag: 'wx' });
  try {
    return await fn(path);
  } finally {
    rmSync(path, { force: true });
  }
}
