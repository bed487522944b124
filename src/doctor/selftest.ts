// `vopono doctor`'s end-to-end self-test, as root: a throwaway WireGuard peer on this machine,
// an app exec'd through the daemon into a tunnel to it, proof that the traffic went through the
// tunnel, then the killswitch: with the peer stopped the app reaches nothing — not the tunnel's
// servers, not the host — and no plaintext packet for the tunnel's addresses leaves the namespace
// any other way (counted by an nftables counter in the peer's namespace, where a host route sends
// any such leak instead of the real uplink). Everything is removed afterwards and checked gone.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { result, type CheckResult } from './types.js';
import { startTunnelRun, type TunnelRun } from './tunnel-run.js';

export interface SelfTestOptions {
  socketPath: string;
  daemonReachable: boolean;
  cli?: string[];
  log?: (message: string) => void;
}

/** The app run through the tunnel: plain Node (always there), printing one JSON line. */
const PROBE = `
const { Resolver } = require('node:dns').promises;
const [mode, url, name, ...canaries] = process.argv.slice(1);
const ms = mode === 'up' ? 8000 : 2500;
const get = (u) => fetch(u, { signal: AbortSignal.timeout(ms) }).then(
  async (r) => ({ ok: true, body: (await r.text()).trim() }),
  (e) => ({ ok: false, error: String((e.cause && (e.cause.code || e.cause.name)) || e.name) }));
const resolver = new Resolver({ timeout: mode === 'up' ? 3000 : 1500, tries: 1 });
const dns = resolver.resolve4(name).then((a) => ({ ok: true, body: a.join(',') }), (e) => ({ ok: false, error: String(e.code) }));
Promise.all([get(url), dns, ...canaries.map(get)]).then(([http, dns, ...c]) => {
  process.stdout.write(JSON.stringify({ http, dns, canaries: c }) + '\\n');
});
`;

interface ProbeOutcome {
  ok: boolean;
  body?: string;
  error?: string;
}
interface ProbeResult {
  http: ProbeOutcome;
  dns: ProbeOutcome;
  canaries: ProbeOutcome[];
}

function isOutcome(v: unknown): v is ProbeOutcome {
  return typeof v === 'object' && v !== null && typeof Reflect.get(v, 'ok') === 'boolean';
}

function parseProbe(stdout: string): ProbeResult | undefined {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    const v: unknown = JSON.parse(line);
    if (typeof v !== 'object' || v === null) return undefined;
    const http: unknown = Reflect.get(v, 'http');
    const dns: unknown = Reflect.get(v, 'dns');
    const canaries: unknown = Reflect.get(v, 'canaries');
    if (!isOutcome(http) || !isOutcome(dns) || !Array.isArray(canaries) || !canaries.every(isOutcome))
      return undefined;
    return { http, dns, canaries };
  } catch {
    return undefined;
  }
}

/** An HTTP listener on the host that counts who reaches it (a leak detector). */
async function canary(host: string): Promise<{ server: Server; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.end('canary\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`, hits: () => hits };
}

export async function runSelfTest(o: SelfTestOptions): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const log = o.log ?? ((): void => undefined);
  let t: TunnelRun;
  try {
    t = await startTunnelRun({
      socketPath: o.socketPath,
      useRunningDaemon: o.daemonReachable,
      log,
      ...(o.cli ? { cli: o.cli } : {}),
    });
  } catch (e) {
    out.push(
      result(
        'selftest.setup',
        'self-test: peer and daemon',
        'fail',
        `could not set up: ${e instanceof Error ? e.message : String(e)}`,
        'see the checks above; run `sudo vopono daemon` in a terminal to watch its log',
      ),
    );
    return out;
  }
  const w = t.world;
  out.push(
    result(
      'selftest.setup',
      'self-test: peer and daemon',
      'pass',
      `peer namespace ${w.nsName} (wireguard-go at ${w.peerIp}:51820); ` +
        (t.daemonPid !== undefined
          ? `temporary daemon pid ${t.daemonPid}`
          : `the running daemon at ${t.socketPath}`),
    ),
  );
  const { createCommandRunner } = await import('../daemon/vpn/runner.js');
  const runner = createCommandRunner();
  const extra: (() => Promise<unknown>)[] = [];
  try {
    // 1. through the tunnel
    log('running an app through the tunnel');
    const url = `http://${w.domain}:${w.httpPort}/`;
    const up = await t.exec([process.execPath, '-e', PROBE, 'up', url, w.domain]);
    const res = parseProbe(up.stdout);
    const expected = [w.clientTunnelIp, w.clientTunnelIp6].map((a) => `vopono-peer ${a}`);
    const transfer = await runner
      .runInNs(w.nsName, 'wg', ['show', w.wgInterface, 'transfer'])
      .catch(() => '');
    const bytes = transfer
      .split(/\s+/)
      .slice(1)
      .filter((x) => x !== '')
      .map(Number)
      .filter(Number.isFinite);
    const asked = w.dns.queries().includes(w.domain);
    if (
      up.code === 0 &&
      res?.http.ok &&
      expected.includes(res.http.body ?? '') &&
      asked &&
      bytes.some((b) => b > 0)
    ) {
      out.push(
        result(
          'selftest.tunnel',
          'self-test: app traffic goes through the tunnel',
          'pass',
          `an app in ${t.nsName} fetched ${url}: the peer answered "${res.http.body ?? ''}" (the client's tunnel address), ` +
            `${w.domain} was resolved by the peer's DNS, WireGuard counted ${bytes.join('/')} bytes rx/tx`,
        ),
      );
    } else {
      out.push(
        result(
          'selftest.tunnel',
          'self-test: app traffic goes through the tunnel',
          'fail',
          `exec exit ${String(up.code)}; answer ${JSON.stringify(res?.http ?? up.stdout.trim())}; DNS asked: ${asked}; wg bytes ${bytes.join('/') || 'none'}` +
            (up.stderr.trim() ? `; stderr: ${up.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''),
          'run `sudo vopono doctor` again with the daemon in a terminal (`sudo vopono daemon`) to see its log',
        ),
      );
      return out;
    }

    // 2. killswitch: stop the peer, then nothing may get through, and nothing may leak
    // the host side of the namespace's veth: reachable only if the killswitch let the app out
    const { DaemonClient } = await import('../cli/client.js');
    const client = await DaemonClient.connect({ socketPath: t.socketPath, client: 'cli' });
    const nsHostIp = (await client.list()).find((n) => n.name === t.nsName)?.hostIp;
    client.close();
    const canaries = [await canary(w.hostIp)];
    if (nsHostIp !== undefined) canaries.push(await canary(nsHostIp));
    extra.push(async () => Promise.all(canaries.map((c) => new Promise((r) => c.server.close(r)))));
    // a leak toward the tunnel's addresses must land in the peer namespace (counted), never the uplink
    const tunNet = w.tunnelIp.replace(/\.\d+$/, '.0/24');
    const tunNet6 = w.tunnelIp6.replace(/::1$/, '::/64');
    await runner.run('ip', ['route', 'add', tunNet, 'via', w.peerIp]);
    extra.push(() => runner.run('ip', ['route', 'del', tunNet, 'via', w.peerIp]).catch(() => undefined));
    await runner.run('ip', ['-6', 'route', 'add', tunNet6, 'dev', w.hostVeth]);
    extra.push(() =>
      runner.run('ip', ['-6', 'route', 'del', tunNet6, 'dev', w.hostVeth]).catch(() => undefined),
    );
    const table = `${t.prefix}_leak`;
    await runner.runInNs(w.nsName, 'nft', ['-f', '-'], {
      input:
        `table inet ${table} {\n chain pre {\n  type filter hook prerouting priority -300; policy accept;\n` +
        `  iifname "${w.base.peerVeth}" ip daddr ${tunNet} counter\n  iifname "${w.base.peerVeth}" ip6 daddr ${tunNet6} counter\n }\n}\n`,
    });
    const { stopProcess } = await import('../daemon/vpn/process.js');
    log("stopping the peer's wireguard-go; the app must now reach nothing");
    await stopProcess(w.wgPid, ['wireguard-go'], 3000);
    const down = await t.exec([
      process.execPath,
      '-e',
      PROBE,
      'down',
      `http://${w.tunnelIp}:${w.httpPort}/`,
      w.domain,
      ...canaries.map((c) => c.url),
    ]);
    const r2 = parseProbe(down.stdout);
    const counters = await runner.runInNs(w.nsName, 'nft', ['list', 'table', 'inet', table]).catch(() => '');
    const leaked = [...counters.matchAll(/packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    const hits = canaries.reduce((n, c) => n + c.hits(), 0);
    const title = 'self-test: killswitch (peer stopped)';
    if (!r2) {
      out.push(
        result(
          'selftest.killswitch',
          title,
          'fail',
          `the probe app did not report (exit ${String(down.code)}): ${down.stderr.trim().slice(-300)}`,
        ),
      );
    } else if (r2.http.ok || r2.dns.ok || r2.canaries.some((c) => c.ok) || hits > 0 || leaked > 0) {
      const what = [
        r2.http.ok ? 'the tunnel server still answered' : '',
        r2.dns.ok ? 'DNS still answered' : '',
        hits > 0 || r2.canaries.some((c) => c.ok)
          ? `the app reached the host (${hits} hit${hits === 1 ? '' : 's'})`
          : '',
        leaked > 0 ? `${leaked} plaintext packet${leaked === 1 ? '' : 's'} left outside the tunnel` : '',
      ].filter(Boolean);
      out.push(
        result(
          'selftest.killswitch',
          title,
          'fail',
          what.join('; '),
          'the namespace is not sealed: check `sudo nft list ruleset` inside it (`sudo ip netns exec NS nft list ruleset`) and report a bug',
        ),
      );
    } else {
      out.push(
        result(
          'selftest.killswitch',
          title,
          'pass',
          `with the peer's wireguard-go stopped the app got nothing: HTTP ${r2.http.error ?? 'failed'}, DNS ${r2.dns.error ?? 'failed'}, ` +
            `host addresses unreachable (${canaries.length} canar${canaries.length === 1 ? 'y' : 'ies'}, 0 hits), 0 plaintext packets outside the tunnel`,
        ),
      );
    }
  } catch (e) {
    out.push(result('selftest.error', 'self-test', 'fail', e instanceof Error ? e.message : String(e)));
  } finally {
    for (const f of extra.reverse()) await f();
    log('cleaning up');
    const errors = await t.cleanup();
    out.push(
      errors.length === 0
        ? result(
            'selftest.cleanup',
            'self-test: cleanup',
            'pass',
            `removed ${t.nsName}, the peer ${w.nsName}${t.daemonPid !== undefined ? ' and the temporary daemon' : ''}; nothing left with prefix ${t.prefix}`,
          )
        : result(
            'selftest.cleanup',
            'self-test: cleanup',
            'fail',
            errors.join('; '),
            `remove by hand: sudo ip netns del NAME; sudo ip link del NAME (prefix ${t.prefix})`,
          ),
    );
  }
  return out;
}
