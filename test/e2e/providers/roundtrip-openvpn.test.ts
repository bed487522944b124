// Round trip over OpenVPN: a user syncs NordVPN from a loopback "CDN" whose zip holds a config for
// the test OpenVPN server (credentials checked by the server), then `vopono exec -p nordvpn -s se`
// reaches the server's HTTP through the tunnel. `-i` names the world's veth as the uplink, so the
// namespace's traffic is never NATed toward the host's real uplink.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clientCli, expectClean, startDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { describeRoot } from '../../helpers/root.js';
import { run, type RunResult } from '../../helpers/run.js';
import { createUser, type TestUser } from '../../helpers/users.js';
import { createOpenvpnWorld, type OpenvpnWorld } from '../../../src/world/openvpn-peer.js';
import { makeZip, startServer, type FixtureServer } from '../../unit/providers/helpers.js';

describeRoot('provider round trip over OpenVPN: vopono sync nordvpn → vopono exec -p nordvpn -s se', () => {
  let world: OpenvpnWorld;
  let srv: FixtureServer;
  let d: TestDaemon;
  let user: TestUser;
  let cli: string;
  const prefix = `vq${Math.floor(Math.random() * 36 ** 3)
    .toString(36)
    .padStart(3, '0')}`;

  beforeAll(async () => {
    cli = clientCli();
    world = await createOpenvpnWorld({ prefix, subnetIndex: 20 + Math.floor(Math.random() * 200) });
    srv = await startServer({
      'GET /configs/archives/servers/ovpn.zip': () => ({
        body: makeZip({
          'ovpn_udp/se1.nordvpn.com.udp.ovpn': world.clientConfig,
          'ovpn_tcp/se1.nordvpn.com.tcp.ovpn': world.clientConfig.replace('proto udp', 'proto tcp'),
        }),
      }),
    });
    d = await startDaemon();
    user = await createUser('vtq');
  }, 120_000);

  afterAll(async () => {
    await d?.stop();
    await user?.remove();
    await srv?.close();
    await world?.destroy();
    if (d) await expectClean(d.prefix);
  });

  const vopono = (args: string[], extra: Record<string, string> = {}): Promise<RunResult> => {
    const argv = user.asUser([process.execPath, cli, ...args]);
    return run(argv[0]!, argv.slice(1), {
      env: user.env({ VOPONO_SOCKET: d.socketPath, VOPONO_NORDVPN_API_URL: srv.url, ...extra }),
      cwd: user.home,
      timeoutMs: 90_000,
    });
  };

  it('sync with credentials, then exec connects with them', async () => {
    const s = await vopono(['sync', 'nordvpn', '--variant', 'udp', '--username', world.username], {
      VOPONO_SYNC_PASSWORD: world.password,
    });
    expect(s.stderr).toMatch(/nordvpn openvpn: 1 configs written/);
    expect(s.code).toBe(0);
    const r = await vopono([
      'exec',
      '-p',
      'nordvpn',
      '-s',
      'se',
      '-i',
      world.hostVeth,
      '--',
      'curl',
      '-sS',
      '--max-time',
      '5',
      `http://${world.tunnelIp}:${world.httpPort}/`,
    ]);
    expect(r.stdout.trim()).toMatch(/^vopono-peer /);
    expect(r.code, r.stderr).toBe(0);
  });

  it('wrong synced credentials: exec fails with the server’s refusal, not a hang', async () => {
    const s = await vopono(['sync', 'nordvpn', '--variant', 'udp', '--username', world.username], {
      VOPONO_SYNC_PASSWORD: 'wrong',
    });
    expect(s.code).toBe(0);
    const r = await vopono(['exec', '-p', 'nordvpn', '-s', 'se', '-i', world.hostVeth, '--', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/authentication failed \(AUTH_FAILED\)/);
  });
});
