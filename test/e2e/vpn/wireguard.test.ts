// WireGuard backend against a real peer (wireguard-go in a provider namespace), called directly
// with a namespace made here the way the manager makes one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from '../../../src/daemon/vpn/index.js';
import type { VpnContext } from '../../../src/daemon/vpn/backend.js';
import { createPeerWorld, type PeerWorld } from '../../../src/world/peer.js';
import { isAlive, spawnDetached, stopProcess } from '../../../src/daemon/vpn/process.js';
import { startForwarders, runHook, startNamespaceExtras } from '../../../src/daemon/vpn/index.js';
import { runCommand } from '../../../src/daemon/vpn/runner.js';
import { startHttpServer, waitForLog } from '../../../src/world/peer.js';
import { connectThroughHost } from '../../../src/world/openvpn-peer.js';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

const enabled = rootGate('vpn/wireguard e2e');
// these tests exercise wireguard-go (they kill it by pid); the kernel path has its own test below
process.env.VOPONO_WG_USERSPACE = '1';
const prefix = uniquePrefix();
const index = uniqueIndex();

describe.skipIf(!enabled)('WireGuard backend (real peer, wireguard-go)', () => {
  let world: PeerWorld;
  let before: Record<string, string>;
  let cleanRunDir: () => void;
  const backend = getBackend('wireguard');
  if (backend === undefined) throw new Error('no wireguard backend');

  beforeAll(async () => {
    before = await snapshot(prefix);
    cleanRunDir = privateRunDir(prefix);
    world = await createPeerWorld({ prefix, subnetIndex: index });
  });

  afterAll(async () => {
    await cleanupSteps([() => world?.destroy(), () => cleanRunDir?.()]);
    const after = await snapshot(prefix);
    expect(after).toEqual(before);
  });

  function ctx(ns: ClientNs, options: ExecOptions): VpnContext {
    return {
      ns: ns.record,
      config: { name: 'world.conf', content: world.clientConfig },
      options,
      uid: 0,
      gid: 0,
      isRoot: true,
      progress: () => undefined,
      runner,
    };
  }

  /** Runs fn with a client namespace whose tunnel is up; tears both down (and checks teardown). */
  async function withTunnel(
    offset: number,
    options: ExecOptions,
    fn: (ns: ClientNs, state: Record<string, unknown>, dns: string[]) => Promise<void>,
  ): Promise<void> {
    const inner = await snapshot(prefix);
    const ns = await makeClientNs(prefix, index + offset);
    let state: Record<string, unknown> = {};
    try {
      const t0 = performance.now();
      const up = await backend!.up(ctx(ns, options));
      process.stderr.write(`[figure] wireguard up: ${(performance.now() - t0).toFixed(1)} ms\n`);
      state = up.state;
      ns.setResolvers(up.dns);
      await fn(ns, state, up.dns);
    } finally {
      try {
        await backend!.down(ns.record, state, runner);
        await backend!.down(ns.record, state, runner); // idempotent
        await expectNoKillswitchLeft(ns.record.name);
      } finally {
        await ns.destroy();
      }
    }
    expect(await snapshot(prefix)).toEqual(inner);
  }

  for (const firewall of ['nftables', 'iptables'] as const) {
    const off = firewall === 'nftables' ? 0 : 20;
    it(`reaches the HTTP server and the DNS only through the tunnel (${firewall})`, async () => {
      await withTunnel(1 + off, baseOptions({ firewall }), async (ns, state, dns) => {
        expect(dns).toEqual([world.tunnelIp]);
        const cap = await capture(ns.record.hostVeth);
        const r = await nsCurl(ns.record.name, `http://${world.domain}:${world.httpPort}/`);
        expect(r.ok, r.body).toBe(true);
        expect([`vopono-peer ${world.clientTunnelIp}`, `vopono-peer ${world.clientTunnelIp6}`]).toContain(
          r.body.trim(),
        );
        const r4 = await nsCurl(ns.record.name, `http://${world.tunnelIp}:${world.httpPort}/`);
        expect(r4.body.trim()).toBe(`vopono-peer ${world.clientTunnelIp}`);
        expect(await nsResolve(ns.record.name, world.domain)).toEqual([world.tunnelIp]);
        const r6 = await nsCurl(ns.record.name, `http://[${world.tunnelIp6}]:${world.httpPort}/`);
        expect(r6.body.trim()).toBe(`vopono-peer ${world.clientTunnelIp6}`);
        const leaked = await cap.stop();
        expect(leaked).toEqual([]); // nothing (DNS included) went out of the veth
        expect(world.dns.queries()).toContain(world.domain);
        const status = await backend.status?.(ns.record, state, runner);
        expect(status?.lastHandshake).toBeGreaterThan(Date.now() - 60_000);
      });
    });

    it(`leaks nothing when wireguard-go dies while the app keeps trying (${firewall})`, async () => {
      await withTunnel(2 + off, baseOptions({ firewall }), async (ns, state) => {
        expect((await nsCurl(ns.record.name, `http://${world.tunnelIp}:${world.httpPort}/`)).ok).toBe(true);
        const pid = state.pid;
        expect(typeof pid).toBe('number');
        const cap = await capture(ns.record.hostVeth);
        // host -> provider: after the kill not even the encrypted UDP goes (link-local ICMPv6 of the
        // host's own veth is not the app's traffic)
        const peerCap = await capture(
          world.hostVeth,
          'ip or (ip6 and not net fe80::/10 and not net ff00::/8)',
          'out',
        );
        process.kill(Number(pid), 'SIGKILL');
        while (isAlive(Number(pid))) await new Promise((r) => setTimeout(r, 10));
        await nsKeepTrying(
          ns.record.name,
          {
            udp: [
              '1.1.1.1|53',
              `${world.peerIp}|51820`,
              `${ns.record.hostIp}|53`,
              `${world.tunnelIp}|53`,
              '2001:4860:4860::8888|53',
              `${ns.record.hostIp6}|53`,
            ],
            tcp: [
              `${world.tunnelIp}|8080`,
              `${ns.record.hostIp}|22`,
              `${world.peerIp}|8080`,
              `[${ns.record.hostIp6}]|22`,
            ],
            names: [world.domain, 'example.com'],
          },
          2000,
        );
        expect(await cap.stop()).toEqual([]);
        expect(await peerCap.stop()).toEqual([]);
        expect((await nsCurl(ns.record.name, `http://${world.tunnelIp}:${world.httpPort}/`, 1)).ok).toBe(
          false,
        );
      });
    });

    it(`blocks IPv6 with disableIpv6 (${firewall})`, async () => {
      await withTunnel(3 + off, baseOptions({ disableIpv6: true, firewall }), async (ns) => {
        expect((await nsCurl(ns.record.name, `http://${world.tunnelIp}:${world.httpPort}/`)).ok).toBe(true);
        const r6 = await nsCurl(ns.record.name, `http://[${world.tunnelIp6}]:${world.httpPort}/`, 2);
        expect(r6.ok).toBe(false);
        const sysctl = await runner.runInNs(ns.record.name, 'sysctl', [
          '-n',
          'net.ipv6.conf.all.disable_ipv6',
        ]);
        expect(sysctl.trim()).toBe('1');
      });
    });
  }

  /** A small HTTP app inside the client namespace (what a user's server would be). */
  async function startNsApp(ns: string, port: number): Promise<() => Promise<void>> {
    const dir = mkdtempSync(join(tmpdir(), `vopono-app-${prefix}-`));
    const log = join(dir, 'app.log');
    const script = `require('node:http').createServer((q, s) => s.end('ns-app ' + q.socket.remoteAddress.replace(/^::ffff:/, "") + '\\n')).listen(Number(process.argv[2]), () => console.log('ready'));`;
    const pid = await spawnDetached(
      'ip',
      ['netns', 'exec', ns, process.execPath, '-e', script, `vopono-app-${prefix}`, String(port)],
      { logFile: log },
    );
    await waitForLog(log, 'ready', 10_000, pid);
    return async () => {
      await stopProcess(pid, ['node']);
      rmSync(dir, { recursive: true, force: true });
    };
  }

  it('-o opens a port to the peer through the tunnel; -f forwards a host loopback port', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    await withTunnel(4, baseOptions({ openPorts: [port], forward: [port] }), async (ns) => {
      const stopApp = await startNsApp(ns.record.name, port);
      const stopFwd = await startForwarders(ns.record, [port]);
      try {
        const fromPeer = await runCommand('ip', [
          'netns',
          'exec',
          world.nsName,
          'curl',
          '-sS',
          '--max-time',
          '3',
          `http://${world.clientTunnelIp}:${port}/`,
        ]);
        expect(fromPeer.trim()).toBe(`ns-app ${world.tunnelIp}`);
        const fromHost = await runCommand('curl', ['-sS', '--max-time', '3', `http://127.0.0.1:${port}/`]);
        expect(fromHost.trim()).toBe(`ns-app ${ns.record.hostIp}`);
      } finally {
        await stopFwd();
        await stopApp();
      }
    });
  });

  it('without -o the peer cannot reach the app', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    await withTunnel(5, baseOptions(), async (ns) => {
      const stopApp = await startNsApp(ns.record.name, port);
      try {
        const r = await runCommand('ip', [
          'netns',
          'exec',
          world.nsName,
          'curl',
          '-sS',
          '--max-time',
          '2',
          `http://${world.clientTunnelIp}:${port}/`,
        ]).then(
          () => 'reached',
          () => 'blocked',
        );
        expect(r).toBe('blocked');
      } finally {
        await stopApp();
      }
    });
  });

  it('with --no-killswitch the tunnel still is the only way out (the wg socket lives outside)', async () => {
    await withTunnel(6, baseOptions({ noKillswitch: true }), async (ns, state) => {
      expect((await nsCurl(ns.record.name, `http://${world.tunnelIp}:${world.httpPort}/`)).ok).toBe(true);
      const cap = await capture(ns.record.hostVeth, 'ip or (ip6 and not net fe80::/10 and not net ff00::/8)');
      process.kill(Number(state.pid), 'SIGKILL');
      while (isAlive(Number(state.pid))) await new Promise((r) => setTimeout(r, 10));
      await nsKeepTrying(
        ns.record.name,
        {
          udp: ['1.1.1.1|53', `${world.peerIp}|51820`],
          tcp: [`${world.tunnelIp}|8080`],
          names: [world.domain],
        },
        1000,
      );
      expect(await cap.stop()).toEqual([]);
    });
  });

  it('hooks run as the user with the namespace variables', async () => {
    const ns = await makeClientNs(prefix, index + 7);
    try {
      const r = await runHook(
        'id -u; id -g; id -G; echo "$VOPONO_NS $VOPONO_NS_IP $VOPONO_HOST_IP $VOPONO_NS_IP6 $VOPONO_HOST_IP6"',
        {
          uid: 65534,
          gid: 65534,
          ns: ns.record,
        },
      );
      expect(r.code).toBe(0);
      const [uid, gid, groups, vars] = r.output.trim().split('\n');
      expect([uid, gid, groups]).toEqual(['65534', '65534', '65534']);
      expect(vars).toBe(
        `${ns.record.name} ${ns.record.nsIp} ${ns.record.hostIp} ${ns.record.nsIp6} ${ns.record.hostIp6}`,
      );
    } finally {
      await ns.destroy();
    }
  });

  it('down() with lost state (a daemon that died during setup) still removes everything', async () => {
    const inner = await snapshot(prefix);
    const ns = await makeClientNs(prefix, index + 8);
    try {
      const up = await backend.up(ctx(ns, baseOptions()));
      const pid = Number(up.state.pid);
      expect(isAlive(pid)).toBe(true);
      await backend.down(ns.record, {}, runner);
      expect(isAlive(pid)).toBe(false);
      expect(await runner.runInNs(ns.record.name, 'nft', ['list', 'ruleset'])).toBe('');
      expect(await runner.run('ip', ['-n', ns.record.name, '-o', 'link'])).not.toContain(
        `${prefix}${index + 8}w`,
      );
    } finally {
      await ns.destroy();
    }
    expect(await snapshot(prefix)).toEqual(inner);
  });

  it('a setup that fails half way (bad --open-hosts after the tunnel is made) leaves nothing', async () => {
    const inner = await snapshot(prefix);
    const ns = await makeClientNs(prefix, index + 9);
    try {
      const err = await backend.up(ctx(ns, baseOptions({ openHosts: ['not-an-address'] }))).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String(err)).toMatch(/open-hosts/);
      expect(await runner.run('ip', ['-n', ns.record.name, '-o', 'link'])).not.toContain(
        `${prefix}${index + 9}w`,
      );
    } finally {
      await ns.destroy();
    }
    expect(await snapshot(prefix)).toEqual(inner);
  });

  it('namespace extras: postup/predown as the user, -f proxy for the namespace life, low ports refused to users', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    await withTunnel(10, baseOptions({ forward: [port] }), async (ns) => {
      const stopApp = await startNsApp(ns.record.name, port);
      try {
        const extras = await startNamespaceExtras({
          ns: ns.record,
          options: {
            forward: [port],
            noProxy: false,
            postup: 'echo up $(id -u) $VOPONO_NS',
            predown: 'echo down $(id -u) $VOPONO_NS_IP',
          },
          uid: 65534,
          gid: 65534,
          isRoot: false,
        });
        expect(extras.postup?.output.trim()).toBe(`up 65534 ${ns.record.name}`);
        const viaProxy = await runCommand('curl', ['-sS', '--max-time', '3', `http://127.0.0.1:${port}/`]);
        expect(viaProxy.trim()).toBe(`ns-app ${ns.record.hostIp}`);
        const down = await extras.stop();
        expect(down?.output.trim()).toBe(`down 65534 ${ns.record.nsIp}`);
        const after = await runCommand('curl', ['-sS', '--max-time', '2', `http://127.0.0.1:${port}/`]).then(
          () => 'reached',
          () => 'closed',
        );
        expect(after).toBe('closed');
        await expect(
          startNamespaceExtras({
            ns: ns.record,
            options: { forward: [80], noProxy: false },
            uid: 65534,
            gid: 65534,
            isRoot: false,
          }),
        ).rejects.toThrow(/needs root/);
      } finally {
        await stopApp();
      }
    });
  });

  it('--allow-host-access reaches the host veth address; without it the killswitch blocks it', async () => {
    for (const allow of [true, false]) {
      await withTunnel(allow ? 11 : 12, baseOptions({ allowHostAccess: allow }), async (ns) => {
        const server = createServer((_q, res) => res.end('host\n'));
        await new Promise<void>((r) => server.listen(0, ns.record.hostIp, r));
        const addr = server.address();
        const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
        try {
          const r = await nsCurl(ns.record.name, `http://${ns.record.hostIp}:${port}/`, 2);
          expect(r.ok, r.body).toBe(allow);
        } finally {
          await new Promise((r) => server.close(r));
        }
      });
    }
  });

  it('--open-hosts: that address goes through the veth, the rest still through the tunnel', async () => {
    await startHttpServer(world.base, [world.peerIp], 8081);
    const ns = await makeClientNs(prefix, index + 13);
    const undo = await connectThroughHost(runner, `${prefix}o`, ns.record.hostVeth, world.hostVeth);
    // the "internet host" (the peer's veth side) routes replies back through the host (no NAT here)
    await runner.run('ip', ['-n', world.nsName, 'route', 'add', ns.record.subnet, 'via', world.hostIp]);
    let state: Record<string, unknown> = {};
    try {
      const up = await backend.up(ctx(ns, baseOptions({ openHosts: [world.peerIp] })));
      state = up.state;
      const direct = await nsCurl(ns.record.name, `http://${world.peerIp}:8081/`);
      expect(direct.body.trim()).toBe(`vopono-peer ${ns.record.nsIp}`); // came over the veth, not the tunnel
      const tunneled = await nsCurl(ns.record.name, `http://${world.tunnelIp}:${world.httpPort}/`);
      expect(tunneled.body.trim()).toBe(`vopono-peer ${world.clientTunnelIp}`);
    } finally {
      await backend.down(ns.record, state, runner);
      await runner.run('ip', ['-n', world.nsName, 'route', 'del', ns.record.subnet]).catch(() => undefined);
      await undo();
      await ns.destroy();
    }
  });

  for (const firewall of ['nftables', 'iptables'] as const) {
    it(`fails closed: a firewall command that fails aborts setup and removes the tunnel (${firewall})`, async () => {
      const inner = await snapshot(prefix);
      const ns = await makeClientNs(prefix, index + 14);
      const failing = {
        run: runner.run,
        runInNs: (n: string, file: string, args: string[], o?: { input?: string; timeoutMs?: number }) =>
          ['nft', 'ip6tables-restore'].includes(file) && !args.includes('delete')
            ? Promise.reject(new Error(`${file}: simulated failure`))
            : runner.runInNs(n, file, args, o),
      };
      try {
        const err = await backend.up({ ...ctx(ns, baseOptions({ firewall })), runner: failing }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(String(err)).toMatch(/simulated failure/);
        expect(await runner.run('ip', ['-n', ns.record.name, '-o', 'link'])).not.toContain(
          `${prefix}${index + 14}w`,
        );
        if (firewall === 'iptables') {
          // the IPv4 half that did load was taken out again
          expect(await runner.runInNs(ns.record.name, 'iptables-save', [])).not.toContain('_ks_');
        }
      } finally {
        await ns.destroy();
      }
      expect(await snapshot(prefix)).toEqual(inner);
    });
  }

  it('kernel WireGuard where the module exists: tunnel up, and deleting the interface leaks nothing', async () => {
    delete process.env.VOPONO_WG_USERSPACE;
    try {
      const probe = `${prefix}kp`;
      const kernel = await runner.run('ip', ['link', 'add', 'dev', probe, 'type', 'wireguard']).then(
        () => true,
        () => false,
      );
      if (kernel) await runner.run('ip', ['link', 'del', 'dev', probe]);
      if (!kernel) {
        process.stderr.write(
          '[skip] kernel WireGuard: no wireguard module on this machine (wireguard-go is used)\n',
        );
        return;
      }
      await withTunnel(15, baseOptions(), async (ns, state) => {
        expect(state.mode).toBe('kernel');
        expect((await nsCurl(ns.record.name, `http://${world.tunnelIp}:${world.httpPort}/`)).ok).toBe(true);
        const cap = await capture(ns.record.hostVeth);
        await runner.run('ip', ['-n', ns.record.name, 'link', 'del', 'dev', String(state.ifname)]);
        await nsKeepTrying(
          ns.record.name,
          {
            udp: ['1.1.1.1|53', `${world.peerIp}|51820`],
            tcp: [`${world.tunnelIp}|8080`],
            names: [world.domain],
          },
          1000,
        );
        expect(await cap.stop()).toEqual([]);
      });
    } finally {
      process.env.VOPONO_WG_USERSPACE = '1';
    }
  });
});
