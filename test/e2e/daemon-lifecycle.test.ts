// The daemon's own life: SIGTERM tears everything down; after a SIGKILL a new daemon on the same
// state removes namespaces whose apps are gone and adopts the ones still running.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { voponoInBackground, type Background } from '../helpers/cli.js';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expectClean, leftovers, REPO, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { describeRoot } from '../helpers/root.js';
import { run, sh, waitFor } from '../helpers/run.js';
import { createUser, type TestUser } from '../helpers/users.js';

describeRoot('daemon lifecycle', () => {
  let user: TestUser;
  const daemons: TestDaemon[] = [];

  beforeAll(async () => {
    user = await createUser('vtl');
  });

  afterAll(async () => {
    for (const d of [...daemons].reverse()) await d.stop(); // the restarted one first: it shares state
    await user?.remove();
    for (const d of daemons) await expectClean(d.prefix);
  });

  const startApp = (d: TestDaemon, name: string, command: string): Background =>
    voponoInBackground(user, d, [
      'exec',
      '-p',
      'none',
      '--custom-netns-name',
      name,
      '--',
      'sh',
      '-c',
      command,
    ]);

  it('SIGTERM: the apps are hung up, every namespace removed, the socket gone', async () => {
    const d = await startDaemon();
    daemons.push(d);
    const app = startApp(d, `${d.prefix}_a`, 'trap "exit 9" HUP; echo ready; while :; do sleep 0.05; done');
    await waitFor(() => app.out().includes('ready'), 10_000, 'the app');
    expect(await leftovers(d.prefix)).not.toEqual([]);
    d.child.kill('SIGTERM');
    expect(await app.closed).not.toBe('exit 0');
    await expectClean(d.prefix);
    await waitFor(() => d.child.exitCode !== null, 10_000, 'the daemon to exit');
    expect(d.child.exitCode).toBe(0);
    expect((await run('test', ['-e', d.socketPath])).code).not.toBe(0);
  });

  it('after a SIGKILL, a new daemon removes namespaces whose apps died and adopts live ones', async () => {
    const first = await startDaemon();
    daemons.push(first);
    const live = startApp(first, `${first.prefix}_live`, 'echo ready; sleep 3');
    const dead = startApp(first, `${first.prefix}_dead`, 'echo ready; sleep 60');
    await waitFor(() => live.out().includes('ready') && dead.out().includes('ready'), 10_000, 'the apps');
    const deadPid = Number((await sh('ip', ['netns', 'pids', `${first.prefix}_dead`])).trim().split('\n')[0]);
    first.child.kill('SIGKILL');
    await waitFor(
      () => first.child.exitCode !== null || first.child.signalCode !== null,
      10_000,
      'the daemon to die',
    );
    process.kill(deadPid, 'SIGKILL'); // this app dies while no daemon watches
    // same state dir and prefix: a restart of the same service
    const second = await startDaemon({ prefix: first.prefix, pool: first.pool, stateDir: first.stateDir });
    daemons.push(second);
    await waitFor(
      async () => !(await sh('ip', ['netns', 'list'])).includes(`${first.prefix}_dead`),
      10_000,
      'the dead namespace to go',
    );
    expect(await sh('ip', ['netns', 'list'])).toContain(`${first.prefix}_live`);
    // the adopted app ends on its own; the sweep then removes its namespace
    await expectClean(first.prefix, 15_000);
  });

  it('refuses a state directory under a path another user could swap', async () => {
    const parent = mkdtempSync('/tmp/vopono-open-');
    chmodSync(parent, 0o777); // world-writable, not sticky
    try {
      const r = await run(process.execPath, [
        join(REPO, 'dist', 'vopono.js'),
        'daemon',
        '--socket',
        join(parent, 's.sock'),
        '--state-dir',
        join(parent, 'state'),
      ]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`${parent} must be a root-owned directory others cannot write`);
      expect(existsSync(join(parent, 'state'))).toBe(false);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
