// The doctor's view of the machine: every file, process and account lookup goes through this
// small interface, so the checks themselves are plain functions a unit test can feed.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, lstatSync, readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface FileInfo {
  uid: number;
  gid: number;
  mode: number;
  kind: 'file' | 'dir' | 'socket' | 'link' | 'other';
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface System {
  env: NodeJS.ProcessEnv;
  /** Effective uid of this process. */
  uid: number;
  /** The groups this process has now (what the kernel checks a connect() against). */
  groups: number[];
  /** First executable named `bin` in `dirs`. */
  which(bin: string, dirs: string[]): string | undefined;
  stat(path: string): FileInfo | undefined;
  readText(path: string): string | undefined;
  readDir(path: string): string[];
  run(file: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): RunResult;
  /** From the passwd database (getent), so NSS users count. */
  accountByUid(uid: number): Account | undefined;
  /** Group name and members (getent group). */
  groupById(gid: number): { name: string; members: string[] } | undefined;
  /** The groups the account database gives `user` at login (id -G), or undefined. */
  loginGroups(user: string): number[] | undefined;
}

function kindOf(st: Stats): FileInfo['kind'] {
  if (st.isSymbolicLink()) return 'link';
  if (st.isSocket()) return 'socket';
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  return 'other';
}

function getent(db: string, key: string): string[] | undefined {
  const r = spawnSync('getent', [db, key], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) return undefined;
  const line = r.stdout.split('\n')[0];
  return line === undefined || line === '' ? undefined : line.split(':');
}

export function realSystem(env: NodeJS.ProcessEnv = process.env): System {
  return {
    env,
    uid: process.geteuid?.() ?? process.getuid?.() ?? -1,
    groups: process.getgroups?.() ?? [],
    which(bin, dirs) {
      for (const d of dirs) {
        if (d === '') continue;
        const p = join(d, bin);
        try {
          if (!statSync(p).isFile()) continue;
          accessSync(p, constants.X_OK);
          return p;
        } catch {
          // not here
        }
      }
      return undefined;
    },
    stat(path) {
      try {
        const st = lstatSync(path);
        return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, kind: kindOf(st) };
      } catch {
        return undefined;
      }
    },
    readText(path) {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    readDir(path) {
      try {
        return readdirSync(path);
      } catch {
        return [];
      }
    },
    run(file, args, opts) {
      const r = spawnSync(file, args, {
        encoding: 'utf8',
        env: opts?.env ?? env,
        timeout: opts?.timeoutMs ?? 10_000,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return {
        status: r.error ? null : r.status,
        stdout: r.stdout ?? '',
        stderr: r.stderr ?? r.error?.message ?? '',
      };
    },
    accountByUid(uid) {
      const f = getent('passwd', String(uid));
      if (!f)
        return uid === (process.getuid?.() ?? -1)
          ? { name: String(uid), uid, gid: -1, home: homedir() }
          : undefined;
      return { name: f[0] ?? String(uid), uid, gid: Number(f[3]), home: f[5] ?? '/' };
    },
    groupById(gid) {
      const f = getent('group', String(gid));
      if (!f) return undefined;
      return { name: f[0] ?? String(gid), members: (f[3] ?? '').split(',').filter(Boolean) };
    },
    loginGroups(user) {
      const r = spawnSync('id', ['-G', '--', user], { encoding: 'utf8', timeout: 5000 });
      if (r.status !== 0) return undefined;
      return r.stdout.trim().split(/\s+/).filter(Boolean).map(Number);
    },
  };
}

/** The directories searched for programs: $PATH, then the sbin directories the daemon uses. */
export function searchPath(env: NodeJS.ProcessEnv): string[] {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!dirs.includes(d)) dirs.push(d);
  return dirs;
}
