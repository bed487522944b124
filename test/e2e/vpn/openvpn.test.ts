// OpenVPN backend against a real OpenVPN server (PKI made now with openssl) in a provider
// namespace, reached from a client namespace made here through the host (forwarding enabled on
// the two test veths only, behind a guard table that drops anything forwarded elsewhere).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from '../../../src/daemon/vpn/index.js';
import type { VpnContext } from '../../../src/daemon/vpn/backend.js';
import {
  createOpenvpnWorld,
  connectThroughHost,
  type OpenvpnWorld,
} from '../../../src/world/openvpn-peer.js';
import { isAlive } from '../../../src/daemon/vpn/process.js';
import { startHttpServer } from '../../../src/world/peer.js';
import {
  baseOptions,
  expectNoKillswitchLeft,
  cleanupSteps,
  capture,
  makeClientNs,
  nsCurl,
  nsKeepTrying,
  nsResolve,
  privateRunDir,
  rootGate,
  runner,
  snapshot,
  uniqueIndex,
  uniquePrefix,
  type ClientNs,
} from './helpers.js';
import type { ExecOptions } from '../../../src/protocol/messages.js';

const enabled = rootGate('vpn/openvpn e2e');
const prefix = uniquePrefix();
const index = uniqueIndex();

describe.skipIf(!enabled)('OpenVPN backend (real server)', () => {
  let world: OpenvpnWorld;
  let before: Record<string, string>;
  let cleanRunDir: () => void;
  const backend = getBackend('openvpn');
  if (backend === undefined) throw new Error('no openvpn backend');

  beforeAll(async () => {
    before = await snapshot(prefix);
    cleanRunDir = privateRunDir(prefix);
    world = await createOpenvpnWorld({ prefix, subnetIndex: index });
  });

  afterAll(async () => {
    await cleanupSteps([() => world?.destroy(), () => cleanRunDir?.()]);
    expect(await snapshot(prefix)).toEqual(before);
  });

  function ctx(ns: ClientNs, options: ExecOptions, over: Partial<VpnContext> = {}): VpnContext {
    return {
      ns: { ...ns.record, protocol: 'openvpn' },
      config: { name: 'world.ovpn', content: world.clientConfig },
      options: { credentials: { username: world.username, password: world.password }, ...options },
      uid: 1000,
      gid: 1000,
      isRoot: false,
      progress: () => undefined,
      runner,
      ...over,
    };
  }

  async function withNs(offset: number, fn: (ns: ClientNs) => Promise<void>): Promise<void> {
    const inner = await snapshot(prefix);
    const ns = await makeClientNs(prefix, index + offset, { defaultRoute: true });
    const undo = await connectThroughHost(runner, prefix, ns.record.hostVeth, world.hostVeth).catch(
      async (e: unknown) => {
        await ns.destroy();
        throw e;
      },
    );
    try {
      await fn(ns);
    } finally {
      await undo();
      await ns.destroy();
    }
    expect(await snapshot(prefix)).toEqual(inner);
  }

  async function withTunnel(
    offset: number,
    options: ExecOptions,
    fn: (ns: ClientNs, state: Record<string, unknown>, dns: string[]) => Promise<void>,
  ): Promise<void> {
    await withNs(offset, async (ns) => {
      let state: Record<string, unknown> = {};
      try {
        const t0 = performance.now();
        const up = await backend!.up(ctx(ns, options));
        process.stderr.write(
          `[figure] openvpn up (${options.firewall ?? 'nftables'}): ${(performance.now() - t0).toFixed(0)} ms\n`,
        );
        state = up.state;
        ns.setResolvers(up.dns);
        await fn(ns, state, up.dns);
      } finally {
        await backend!.down(ns.record, state, runner);
        await backend!.down(ns.record, state, runner);
        await expectNoKillswitchLeft(ns.record.name);
      }
    });
  }

  for (const firewall of ['nftables', 'iptables'] as const) {
    it(`reaches HTTP and DNS through the tunnel, pushed DNS, nothing else on the veth (${firewall})`, async () => {
      await withTunnel(
        firewall === 'nftables' ? 1 : 11,
        baseOptions({ firewall }),
        async (ns, _state, dns) => {
          expect(dns).toEqual([world.tunnelIp]);
          const cap = await capture(
            ns.record.hostVeth,
            `(ip or ip6) and not (udp and host ${world.peerIp} and port 1194)`,
          );
          const r = await nsCurl(ns.record.name, `http://${world.tunnelIp}:${world.httpPort}/`);
          expect(r.ok, r.body).toBe(true);
          expect(r.body).toMatch(/^vopono-peer 10\.239\./);
          expect(await nsResolve(ns.record.name, world.domain)).toEqual([world.tunnelIp]);
          expect((await nsCurl(ns.record.name, `http://${world.domain}:${world.httpPort}/`)).ok).toBe(true);
          expect(await cap.stop()).toEqual([]);
          expect(world.dns.queries()).toContain(world.domain);
        },
      );
    });

    it(`leaks nothing when openvpn dies while the app keeps trying (${firewall})`, async () => {
      await withTunnel(firewall === 'nftables' ? 2 : 12, baseOptions({ firewall }), async (ns, state) => {
        expect((await nsCurl(ns.record.name, `http://${world.tunnelIp}:${world.httpPort}/`)).ok).toBe(true);
        const pid = Number(state.pid);
        const cap = await capture(ns.record.hostVeth);
        process.kill(pid, 'SIGKILL');
        while (isAlive(pid)) await new Promise((r) => setTimeout(r, 10));
        await nsKeepTrying(
          ns.record.name,
          {
            udp: [
              '1.1.1.1|53',
              `${world.peerIp}|1194`, // the VPN remote itself: only openvpn's marked packets may go there
              `${world.peerIp}|53`,
              `${ns.record.hostIp}|53`,
              `${world.tunnelIp}|53`,
              `${ns.record.hostIp6}|53`,
            ],
            tcp: [`${world.tunnelIp}|8080`, `${world.peerIp}|8080`, `${ns.record.hostIp}|22`, '1.1.1.1|443'],
            names: [world.domain, 'example.com'],
          },
          2000,
        );
        expect(await cap.stop()).toEqual([]);
      });
    });
  }

  it('refuses a user config with an up script, naming the directive and line, and leaves nothing', async () => {
    await withNs(3, async (ns) => {
      const content = world.clientConfig.replace(
        'nobind',
        'nobind\nscript-security 2\nup /bin/touch-something',
      );
      const err = await backend.up(ctx(ns, baseOptions(), { config: { name: 'evil.ovpn', content } })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(String(err)).toMatch(/line 6: 'script-security 2' allows scripts/);
      expect(String(err)).toMatch(/line 7: 'up' runs a program/);
    });
  });

  it('fails with the reason on a wrong password (AUTH_FAILED) and cleans up', async () => {
    await withNs(4, async (ns) => {
      const t0 = performance.now();
      const err = await backend
        .up(ctx(ns, baseOptions({ credentials: { username: world.username, password: 'wrong' } })))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      process.stderr.write(
        `[figure] openvpn AUTH_FAILED reported after ${(performance.now() - t0).toFixed(0)} ms\n`,
      );
      expect(String(err)).toMatch(/AUTH_FAILED/);
      const ruleset = await runner.runInNs(ns.record.name, 'nft', ['list', 'ruleset']);
      expect(ruleset).toBe('');
    });
  });

  it('control: without the killswitch the same capture does see the app trying to get out', async () => {
    // proves the leak tests above can see a leak: same capture, same attempts, no killswitch
    await withTunnel(5, baseOptions({ noKillswitch: true }), async (ns, state) => {
      const pid = Number(state.pid);
      const cap = await capture(ns.record.hostVeth);
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await new Promise((r) => setTimeout(r, 10));
      await nsKeepTrying(ns.record.name, { udp: ['1.1.1.1|53'], tcp: ['1.1.1.1|443'], names: [] }, 1000);
      const seen = await cap.stop();
      expect(seen.some((l) => l.includes('1.1.1.1'))).toBe(true);
    });
  });

  it('IPv6 through the tunnel, and blocked with disableIpv6', async () => {
    await withTunnel(6, baseOptions(), async (ns) => {
      const r6 = await nsCurl(ns.record.name, `http://[${world.tunnelIp6}]:${world.httpPort}/`);
      expect(r6.ok, r6.body).toBe(true);
      expect(r6.body).toMatch(/^vopono-peer fd39:/);
    });
    await withTunnel(7, baseOptions({ disableIpv6: true }), async (ns) => {
      expect((await nsCurl(ns.record.name, `http://${world.tunnelIp}:${world.httpPort}/`)).ok).toBe(true);
      expect((await nsCurl(ns.record.name, `http://[${world.tunnelIp6}]:${world.httpPort}/`, 2)).ok).toBe(
        false,
      );
    });
  });

  it('OpenVPN over TCP, server pushing no redirect-gateway: all through the tunnel, only the TCP remote outside', async () => {
    // this server pushes no redirect-gateway: vopono routes everything through the tunnel anyway
    const tcpWorld = await createOpenvpnWorld({
      prefix,
      subnetIndex: ((index + 120) % 240) + 5,
      pushRedirect: false,
      proto: 'tcp',
    });
    try {
      // an address of the server's that is neither the remote nor in the tunnel's subnet
      const far = `10.240.${tcpWorld.base.index}.1`;
      await runner.run('ip', ['-n', tcpWorld.nsName, 'addr', 'add', `${far}/32`, 'dev', 'lo']);
      await startHttpServer(tcpWorld.base, [far], 8081);
      const inner = await snapshot(prefix);
      const ns = await makeClientNs(prefix, index + 8, { defaultRoute: true });
      // this namespace talks to the TCP world only (the suite's guard covers the UDP world)
      const undo = await connectThroughHost(runner, `${prefix}t`, ns.record.hostVeth, tcpWorld.hostVeth);
      let state: Record<string, unknown> = {};
      try {
        const up = await backend.up({
          ...ctx(ns, baseOptions()),
          config: { name: 'tcp.ovpn', content: tcpWorld.clientConfig },
          options: {
            ...baseOptions(),
            credentials: { username: tcpWorld.username, password: tcpWorld.password },
          },
        });
        state = up.state;
        expect(state.endpoints).toEqual([`${tcpWorld.peerIp}:1194/tcp`]);
        const cap = await capture(
          ns.record.hostVeth,
          `(ip or ip6) and not (tcp and host ${tcpWorld.peerIp} and port 1194)`,
        );
        const r = await nsCurl(ns.record.name, `http://${tcpWorld.tunnelIp}:${tcpWorld.httpPort}/`);
        expect(r.ok, r.body).toBe(true);
        // outside the tunnel's subnet, yet through the tunnel (the server sees the tunnel address)
        const outside = await nsCurl(ns.record.name, `http://10.240.${tcpWorld.base.index}.1:8081/`);
        expect(outside.body).toMatch(/^vopono-peer 10\.239\./);
        expect(await cap.stop()).toEqual([]);
        const rules = await runner.runInNs(ns.record.name, 'nft', ['list', 'ruleset']);
        expect(rules).toMatch(
          new RegExp(
            `meta mark 0x[0-9a-f]+ ip daddr ${tcpWorld.peerIp.replace(/\./g, '\\.')} tcp dport 1194 accept`,
          ),
        );
      } finally {
        await backend.down(ns.record, state, runner);
        await undo();
        await ns.destroy();
      }
      expect(await snapshot(prefix)).toEqual(inner);
    } finally {
      await tcpWorld.destroy();
    }
  });
});
