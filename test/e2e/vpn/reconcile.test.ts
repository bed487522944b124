// A daemon killed with SIGKILL while WireGuard namespaces live, then restarted on the same state:
// the namespace whose app died is removed with its wireguard-go (by the pid the backend
// recorded), the live one is adopted and its tunnel keeps working; at the end nothing is left.
import { chownSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { voponoInBackground } from '../../helpers/cli.js';
import { expectClean, startDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { describeRoot } from '../../helpers/root.js';
import { sh, waitFor } from '../../helpers/run.js';
import { createUser, type TestUser } from '../../helpers/users.js';
import { createPeerWorld, type PeerWorld } from '../../../src/world/peer.js';
import { isAlive } from '../../../src/daemon/vpn/process.js';
import { cleanupSteps, snapshot, uniqueIndex, uniquePrefix } from './helpers.js';

/** pids of wireguard-go processes whose interface carries `prefix`. */
function wireguardGoPids(prefix: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('wireguard-go') && argv[1]?.startsWith(prefix) && isAlive(Number(e)))
        out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

describeRoot('daemon SIGKILL + restart with WireGuard namespaces', () => {
  const prefix = uniquePrefix();
  const index = uniqueIndex();
  const daemons: TestDaemon[] = [];
  let user: TestUser;
  let world: PeerWorld;
  let before: Record<string, string>;

  beforeAll(async () => {
    before = await snapshot(prefix);
    process.env.VOPONO_WG_USERSPACE = '1';
    user = await createUser('vtr');
    // two keys: two tunnels sharing one key would take each other's session at the peer
    world = await createPeerWorld({ prefix, subnetIndex: index, clients: 2 });
    world.clientConfigs.forEach((text, i) => {
      const conf = join(user.home, `wg${i}.conf`);
      writeFileSync(conf, text, { mode: 0o600 });
      chownSync(conf, user.uid, user.gid);
    });
  });

  afterAll(async () => {
    await cleanupSteps([
      ...[...daemons].reverse().map((d) => () => d.stop()),
      () => user?.remove(),
      () => world?.destroy(),
      ...daemons.map((d) => () => expectClean(d.prefix)),
      () => delete process.env.VOPONO_WG_USERSPACE,
    ]);
    const after = await snapshot(prefix);
    delete after.ipForward;
    delete before.ipForward;
    expect(after).toEqual(before);
  });

  it('removes the dead namespace and its wireguard-go, adopts the live one with a working tunnel', async () => {
    const first = await startDaemon();
    daemons.push(first);
    const go = join(user.home, 'go');
    const url = `http://${world.tunnelIp}:${world.httpPort}/`;
    const live = voponoInBackground(user, first, [
      'exec',
      '--custom',
      '~/wg0.conf',
      '--custom-netns-name',
      `${first.prefix}_live`,
      '--',
      'sh',
      '-c',
      `echo ready; while [ ! -e ${go} ]; do sleep 0.05; done; curl -sS --max-time 10 ${url}`,
    ]);
    const dead = voponoInBackground(user, first, [
      'exec',
      '--custom',
      '~/wg1.conf',
      '--custom-netns-name',
      `${first.prefix}_dead`,
      '--',
      'sh',
      '-c',
      'echo ready; sleep 60',
    ]);
    await live.waitFor('ready', 20_000);
    await dead.waitFor('ready', 20_000);
    const wgBefore = wireguardGoPids(first.prefix);
    expect(wgBefore).toHaveLength(2);
    const deadPid = Number((await sh('ip', ['netns', 'pids', `${first.prefix}_dead`])).trim().split('\n')[0]);

    first.child.kill('SIGKILL');
    await waitFor(
      () => first.child.exitCode !== null || first.child.signalCode !== null,
      10_000,
      'the daemon to die',
    );
    process.kill(deadPid, 'SIGKILL'); // this app dies while no daemon watches
    expect(wireguardGoPids(first.prefix)).toEqual(wgBefore); // the tunnels outlive the daemon

    const second = await startDaemon({ prefix: first.prefix, pool: first.pool, stateDir: first.stateDir });
    daemons.push(second);
    await waitFor(
      async () => !(await sh('ip', ['netns', 'list'])).includes(`${first.prefix}_dead`),
      15_000,
      'the dead namespace to go',
    );
    await waitFor(
      () => wireguardGoPids(first.prefix).length === 1,
      10_000,
      "the dead namespace's wireguard-go to stop",
    );

    // the adopted namespace's tunnel still carries traffic
    writeFileSync(go, '');
    await live.closed;
    expect(live.out()).toContain(`vopono-peer ${world.clientTunnelIp}`); // client 0's address
    await expectClean(first.prefix, 15_000);
    await waitFor(() => wireguardGoPids(first.prefix).length === 0, 10_000, 'every wireguard-go to stop');
    expect(readdirSync('/var/run/wireguard').filter((f) => f.startsWith(first.prefix))).toEqual([]);
    rmSync(go, { force: true });
  });
});
