// The record of every namespace vopono made, in a root-only state directory (never a place a user
// can write, so nobody can forge a record). One JSON file per namespace; a file lock serialises
// create/join/teardown between this daemon and one-shot root sides started by the sudo fallback.
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { AppInfo } from '../protocol/messages.js';
import { tryLockExclusive, unlock } from '../protocol/libc.js';
import type { NetnsRecord } from './vpn/backend.js';

export interface RegisteredApp extends AppInfo {
  /** pid of the root process (daemon or one-shot) that supervises this app. */
  manager: number;
  /** Unique id of the supervising session (the pid is 0 until the launcher runs). */
  session: string;
  /** Start time of pid (from /proc), so a reused pid is never taken for the app. */
  startTicks?: number;
}

export interface NetnsState {
  record: NetnsRecord;
  apps: RegisteredApp[];
}

export class Registry {
  private readonly nsDir: string;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly stateDir: string) {
    this.nsDir = join(stateDir, 'ns');
  }

  /** Creates the state dir (0700) and refuses one that is a symlink or not root's. */
  init(): void {
    assertRootOnlyPath(dirname(resolve(this.stateDir)));
    for (const dir of [this.stateDir, this.nsDir]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const st = lstatSync(dir);
      if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0)
        throw new Error(`state directory ${dir} must be a root-owned directory not writable by others`);
    }
  }

  /** Runs fn holding both the in-process queue and the cross-process file lock. */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const fd = openSync(join(this.stateDir, 'lock'), 'a', 0o600);
      try {
        while (!tryLockExclusive(fd)) await new Promise((r) => setTimeout(r, 5));
        return await fn();
      } finally {
        unlock(fd);
        closeSync(fd);
      }
    };
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  get(name: string): NetnsState | undefined {
    try {
      return parseState(JSON.parse(readFileSync(this.file(name), 'utf8')));
    } catch {
      return undefined;
    }
  }

  all(): NetnsState[] {
    let names: string[] = [];
    try {
      names = readdirSync(this.nsDir).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
    return names.map((f) => this.get(f.slice(0, -5))).filter((s): s is NetnsState => s !== undefined);
  }

  put(state: NetnsState): void {
    const tmp = `${this.file(state.record.name)}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
    renameSync(tmp, this.file(state.record.name));
  }

  remove(name: string): void {
    rmSync(this.file(name), { force: true });
  }

  private file(name: string): string {
    return join(this.nsDir, `${name}.json`);
  }
}

/**
 * Every directory from `/` down to `dir` is root's and no one else can swap its entries (not
 * writable by group/others, or sticky like /tmp): otherwise a user could replace the state dir
 * with a symlink and make the daemon write its records elsewhere.
 */
function assertRootOnlyPath(dir: string): void {
  for (let d = dir; ; d = dirname(d)) {
    let st;
    try {
      st = lstatSync(d);
    } catch {
      if (d === dirname(d)) break;
      continue; // not there yet: made below, root's, by mkdir
    }
    const sticky = (st.mode & 0o1000) !== 0;
    if (!st.isDirectory() || st.uid !== 0 || ((st.mode & 0o022) !== 0 && !sticky))
      throw new Error(`state directory: ${d} must be a root-owned directory others cannot write (or sticky)`);
    if (d === dirname(d)) break;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * A record read back from disk. Only this module writes them, in a root-only directory, but a
 * file cut short by a crash (or from another version) must be skipped, not trusted: the fields
 * teardown relies on are checked.
 */
function parseState(v: unknown): NetnsState | undefined {
  if (!isObject(v) || !isObject(v.record) || !Array.isArray(v.apps)) return undefined;
  const r = v.record;
  const strings = [
    'name',
    'provider',
    'protocol',
    'hostVeth',
    'nsVeth',
    'hostIp',
    'nsIp',
    'subnet',
    'prefix',
  ];
  if (
    !strings.every((k) => typeof r[k] === 'string') ||
    typeof r.owner !== 'number' ||
    typeof r.index !== 'number'
  )
    return undefined;
  const apps = v.apps.filter(
    (a): a is RegisteredApp =>
      isObject(a) &&
      typeof a.pid === 'number' &&
      typeof a.manager === 'number' &&
      typeof a.session === 'string',
  );
  return { record: r as unknown as NetnsRecord, apps };
}
