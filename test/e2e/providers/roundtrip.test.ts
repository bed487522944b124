// Round trip: a user syncs Mullvad configs from a loopback "API" whose relay list points at the test
// WireGuard peer, then `vopono exec -p mullvad -s se` reaches the peer's HTTP server through the
// tunnel. The device key registered at sync is added to the peer, as Mullvad would.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clientCli, expectClean, startDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { describeRoot } from '../../helpers/root.js';
import { run, type RunResult } from '../../helpers/run.js';
import { createUser, type TestUser } from '../../helpers/users.js';
import { createPeerWorld, type PeerWorld } from '../../../src/world/peer.js';
import { json, startServer, type FixtureServer } from '../../unit/providers/helpers.js';

describeRoot(
  'provider round trip: vopono sync mullvad → vopono exec -p mullvad -s se (real WireGuard peer)',
  () => {
    let world: PeerWorld;
    let srv: FixtureServer;
    let d: TestDaemon;
    let user: TestUser;
    let cli: string;
    const prefix = `vp${Math.floor(Math.random() * 36 ** 3)
      .toString(36)
      .padStart(3, '0')}`;
    const registered: string[] = [];

    beforeAll(async () => {
      cli = clientCli();
      world = await createPeerWorld({ prefix, subnetIndex: 20 + Math.floor(Math.random() * 200) });
      const serverPub = /\[Peer\][\s\S]*?PublicKey = (\S+)/.exec(world.clientConfig)![1]!;
      const relay = (host: string, active = true): Record<string, unknown> => ({
        hostname: host,
        country_code: host.slice(0, 2),
        country_name: host.startsWith('se') ? 'Sweden' : 'Germany',
        city_code: host.slice(3, 6),
        city_name: 'Test City',
        active,
        owned: true,
        provider: 'test',
        ipv4_addr_in: world.peerIp,
        ipv6_addr_in: 'fd00::1',
        pubkey: serverPub,
        multihop_port: 3000,
      });
      srv = await startServer({
        'GET /www/relays/wireguard/': () =>
          json([relay('se-got-wg-001'), relay('se-sto-wg-002'), relay('de-fra-wg-001', false)]),
        'POST /auth/v1/token': () => json({ access_token: 'tok' }),
        'GET /accounts/v1/accounts/me': () =>
          json({ expiry: '2099-01-01T00:00:00+00:00', max_devices: 5, can_add_devices: true }),
        'GET /accounts/v1/devices': () => json([]),
        'POST /accounts/v1/devices': async (_r, body) => {
          const pubkey = (JSON.parse(body) as { pubkey: string }).pubkey;
          registered.push(pubkey);
          await run('ip', [
            'netns',
            'exec',
            world.nsName,
            'wg',
            'set',
            world.wgInterface,
            'peer',
            pubkey,
            'allowed-ips',
            `${world.clientTunnelIp}/32,${world.clientTunnelIp6}/128`,
          ]);
          return json(
            {
              id: 'd1',
              name: 'test-device',
              pubkey,
              ipv4_address: `${world.clientTunnelIp}/32`,
              ipv6_address: `${world.clientTunnelIp6}/128`,
            },
            201,
          );
        },
      });
      d = await startDaemon();
      user = await createUser('vtp');
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
        env: user.env({ VOPONO_SOCKET: d.socketPath, VOPONO_MULLVAD_API_URL: srv.url, ...extra }),
        cwd: user.home,
        timeoutMs: 60_000,
      });
    };

    it('sync writes the tree as the user; servers lists it; exec connects through it', async () => {
      const s = await vopono(['sync', 'mullvad', '-c', 'wireguard'], {
        VOPONO_SYNC_ACCOUNT: '1234567890123456',
      });
      expect(s.stderr).toMatch(/mullvad wireguard: 2 configs written/);
      expect(s.code).toBe(0);
      const dir = join(user.home, '.config', 'vopono', 'mv', 'wireguard');
      expect(readdirSync(dir).sort()).toEqual([
        'servers.json',
        'sweden-segot001.conf',
        'sweden-sesto002.conf',
        'wireguard_device.json',
      ]);
      const st = statSync(join(dir, 'sweden-segot001.conf'));
      expect([st.uid, st.mode & 0o777]).toEqual([user.uid, 0o600]);
      expect(registered).toHaveLength(1);

      const l = await vopono(['servers', 'mullvad', '--prefix', 'se']);
      expect(l.code).toBe(0);
      expect(l.stdout).toContain('mullvad\twireguard\tsweden-segot001.conf\tSweden\tTest City');

      const r = await vopono([
        'exec',
        '-p',
        'mullvad',
        '-s',
        'se',
        '--',
        'curl',
        '-sS',
        '--max-time',
        '5',
        `http://${world.tunnelIp}:${world.httpPort}/`,
      ]);
      expect(r.stderr).toMatch(/server sweden-se\w+ \(se-\w+-wg-\d+\) chosen at random from 2 matches/);
      expect(r.stdout.trim()).toBe(`vopono-peer ${world.clientTunnelIp}`);
      expect(r.code).toBe(0);
    });

    it('a prefix with no match fails before any namespace is made, naming the closest servers', async () => {
      const r = await vopono(['exec', '-p', 'mullvad', '-s', 'fr', '--', 'true']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/no mullvad wireguard server matches 'fr'; closest: /);
    });
  },
);
