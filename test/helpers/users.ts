// A throwaway unprivileged user for the client side, removed (with its processes) afterwards.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { run, sh } from './run.js';

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** argv prefix that runs a command as this user with their groups (setpriv, no PAM). */
  asUser(argv: string[]): string[];
  env(extra?: Record<string, string>): Record<string, string>;
  remove(): Promise<void>;
}

export async function createUser(prefix = 'vt', extraGroups: string[] = []): Promise<TestUser> {
  const name = `${prefix}${randomBytes(3).toString('hex')}`.slice(0, 30);
  const home = `/tmp/${name}-home`;
  await sh('useradd', [
    '-m',
    '-d',
    home,
    '-s',
    '/bin/bash',
    '-U',
    ...(extraGroups.length ? ['-G', extraGroups.join(',')] : []),
    name,
  ]);
  const uid = Number((await sh('id', ['-u', name])).trim());
  const gid = Number((await sh('id', ['-g', name])).trim());
  const user: TestUser = {
    name,
    uid,
    gid,
    home,
    asUser: (argv) => ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--', ...argv],
    env: (extra = {}) => ({
      HOME: home,
      USER: name,
      LOGNAME: name,
      PATH: '/usr/local/bin:/usr/bin:/bin',
      LANG: 'C.UTF-8',
      ...extra,
    }),
    async remove() {
      // kill its leftover processes by pid, then remove it
      for (const pid of pidsOf(uid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await run('userdel', ['-r', '-f', name]);
      await run('rm', ['-rf', home]);
    },
  };
  return user;
}

function pidsOf(uid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const m = /^Uid:\s+(\d+)/m.exec(status);
      if (m && Number(m[1]) === uid) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}
