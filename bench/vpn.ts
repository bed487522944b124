// VPN figures: tunnel set-up time of the backends (WireGuard userspace, OpenVPN), cold
// `vopono exec --custom` with WireGuard through the whole CLI against `node -e 0` in the same run,
// and throughput through each tunnel against the same peer reached directly over its veth.
// Run: npx tsx bench/vpn.ts (as root).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend } from '../src/daemon/vpn/index.js';
import type { NetnsRecord, VpnBackend } from '../src/daemon/vpn/backend.js';
import { createCommandRunner, runCommand } from '../src/daemon/vpn/runner.js';
import { setVpnRunDir } from '../src/daemon/vpn/process.js';
import { createPeerWorld, startHttpServer } from '../src/world/peer.js';
import { connectThroughHost, createOpenvpnWorld } from '../src/world/openvpn-peer.js';
import type { ExecOptions } from '../src/protocol/messages.js';
import { dist, emit, log, main, median, noneOptions, startBenchDaemon, timeInterleaved } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const BYTES = Number(process.env.BENCH_BYTES ?? 200 * 1024 * 1024);
const runner = createCommandRunner();

function prefixFor(): string {
  return `vb${Math.floor(Math.random() * 36 ** 3)
    .toString(36)
    .padStart(3, '0')}`;
}

async function clientNs(
  prefix: string,
  index: number,
  defaultRoute: boolean,
): Promise<{ record: NetnsRecord; destroy(): Promise<void> }> {
  const record: NetnsRecord = {
    name: `${prefix}c${index}`,
    owner: 0,
    index,
    provider: 'custom',
    protocol: 'wireguard',
    hostVeth: `${prefix}${index}h`,
    nsVeth: `${prefix}${index}n`,
    hostIp: `10.236.${index}.1`,
    nsIp: `10.236.${index}.2`,
    subnet: `10.236.${index}.0/24`,
    dns: [],
    keepAlive: false,
    createdAt: Date.now(),
    options: {
      noKillswitch: false,
      disableIpv6: false,
      openPorts: [],
      forward: [],
      allowHostAccess: false,
      openHosts: [],
    },
    prefix,
  };
  const r = record;
  await runner.run('ip', ['netns', 'add', r.name]);
  await runner.run('ip', [
    'link',
    'add',
    r.hostVeth,
    'type',
    'veth',
    'peer',
    'name',
    r.nsVeth,
    'netns',
    r.name,
  ]);
  await runner.run('ip', ['addr', 'add', `${r.hostIp}/24`, 'dev', r.hostVeth]);
  await runner.run('ip', ['link', 'set', r.hostVeth, 'up']);
  await runner.run('ip', ['-n', r.name, 'link', 'set', 'lo', 'up']);
  await runner.run('ip', ['-n', r.name, 'addr', 'add', `${r.nsIp}/24`, 'dev', r.nsVeth]);
  await runner.run('ip', ['-n', r.name, 'link', 'set', r.nsVeth, 'up']);
  if (defaultRoute) await runner.run('ip', ['-n', r.name, 'route', 'add', 'default', 'via', r.hostIp]);
  return {
    record,
    destroy: async () => {
      await runner.run('ip', ['netns', 'del', r.name]).catch(() => undefined);
      await runner.run('ip', ['link', 'del', r.hostVeth]).catch(() => undefined);
    },
  };
}

function options(over: Partial<ExecOptions> = {}): ExecOptions {
  return { ...noneOptions(), provider: 'custom', ...over };
}

/** MB/s of an HTTP download with curl (in a namespace when `ns` is given). */
async function download(ns: string | undefined, url: string): Promise<number> {
  const curl = ['curl', '-sS', '-o', '/dev/null', '--max-time', '60', '-w', '%{speed_download}', url];
  const out =
    ns !== undefined
      ? await runCommand('ip', ['netns', 'exec', ns, ...curl])
      : await runCommand(curl[0]!, curl.slice(1));
  return Number(out) / 1e6;
}

async function upTimes(
  backend: VpnBackend,
  prefix: string,
  firstIndex: number,
  config: string,
  opts: ExecOptions,
  defaultRoute: boolean,
  hostVethOfWorld?: string,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const ns = await clientNs(prefix, firstIndex, defaultRoute);
    const undo =
      hostVethOfWorld !== undefined
        ? await connectThroughHost(runner, prefix, ns.record.hostVeth, hostVethOfWorld)
        : undefined;
    let state: Record<string, unknown> = {};
    try {
      const t0 = performance.now();
      const up = await backend.up({
        ns: ns.record,
        config: { name: 'bench', content: config },
        options: opts,
        uid: 0,
        gid: 0,
        isRoot: true,
        progress: () => undefined,
        runner,
      });
      times.push(performance.now() - t0);
      state = up.state;
    } finally {
      await backend.down(ns.record, state, runner);
      await undo?.();
      await ns.destroy();
    }
  }
  return times;
}

await main('vpn', async () => {
  const prefix = prefixFor();
  const idx = 60 + Math.floor(Math.random() * 100);
  const runDir = mkdtempSync(join(tmpdir(), `vopono-run-${prefix}-`));
  setVpnRunDir(runDir);
  process.env.VOPONO_RUN_DIR = runDir; // the bench daemon inherits it
  const wgBackend = getBackend('wireguard');
  const ovBackend = getBackend('openvpn');
  if (!wgBackend || !ovBackend) throw new Error('backends missing');
  const wg = await createPeerWorld({ prefix, subnetIndex: idx });
  const ov = await createOpenvpnWorld({ prefix, subnetIndex: idx + 1 });
  const cfgDir = mkdtempSync(join(tmpdir(), `vopono-bench-${prefix}-`));
  try {
    // 1. set-up time of the backends
    const wgUp = await upTimes(wgBackend, prefix, idx + 2, wg.clientConfig, options(), false);
    emit({
      figure: 'WireGuard (wireguard-go) tunnel up, backend only',
      measured: dist(wgUp),
      baseline: '',
      target: '',
      verdict: 'info',
    });
    const ovUp = await upTimes(
      ovBackend,
      prefix,
      idx + 3,
      ov.clientConfig,
      options({ credentials: { username: ov.username, password: ov.password } }),
      true,
      ov.hostVeth,
    );
    emit({
      figure: 'OpenVPN tunnel up (to Initialization Sequence Completed), backend only',
      measured: dist(ovUp),
      baseline: '',
      target: '',
      verdict: 'info',
    });

    // 2. cold exec through the whole CLI with WireGuard vs node -e 0
    const d = await startBenchDaemon();
    try {
      const conf = join(cfgDir, 'wg.conf');
      writeFileSync(conf, wg.clientConfig, { mode: 0o600 });
      const [node, cli] = d.cli;
      const t = await timeInterleaved(RUNS, 1, {
        vopono: { file: node!, args: [cli!, 'exec', '--custom', conf, '--', 'true'], opts: { env: d.env } },
        node: { file: process.execPath, args: ['-e', '0'] },
      });
      const cold = t.vopono ?? [];
      const base = t.node ?? [];
      const m = median(cold);
      emit({
        figure: 'cold vopono exec --custom wg.conf true (WireGuard userspace, whole CLI)',
        measured: dist(cold),
        baseline: `node -e 0 ${dist(base)}`,
        target: '≤ 250 ms median',
        verdict: m <= 250 ? 'pass' : 'miss',
      });
    } finally {
      await d.stop();
    }

    // 3. throughput: tunnel vs the same peer over its veth
    await startHttpServer(wg.base, [wg.peerIp], 8081);
    const direct = await download(undefined, `http://${wg.peerIp}:8081/bytes/${BYTES}`);
    const ns = await clientNs(prefix, idx + 4, false);
    let state: Record<string, unknown> = {};
    try {
      const up = await wgBackend.up({
        ns: ns.record,
        config: { name: 'b', content: wg.clientConfig },
        options: options(),
        uid: 0,
        gid: 0,
        isRoot: true,
        progress: () => undefined,
        runner,
      });
      state = up.state;
      const tunneled = await download(ns.record.name, `http://${wg.tunnelIp}:${wg.httpPort}/bytes/${BYTES}`);
      emit({
        figure: 'throughput through WireGuard (wireguard-go, both ends)',
        measured: `${tunneled.toFixed(0)} MB/s`,
        baseline: `same peer over its veth ${direct.toFixed(0)} MB/s`,
        target: '',
        verdict: 'info',
        note: `${((tunneled / direct) * 100).toFixed(1)} % of direct`,
      });
    } finally {
      await wgBackend.down(ns.record, state, runner);
      await ns.destroy();
    }
    await startHttpServer(ov.base, [ov.peerIp], 8081);
    const directOv = await download(undefined, `http://${ov.peerIp}:8081/bytes/${BYTES}`);
    const ns2 = await clientNs(prefix, idx + 5, true);
    const undo = await connectThroughHost(runner, prefix, ns2.record.hostVeth, ov.hostVeth);
    state = {};
    try {
      const up = await ovBackend.up({
        ns: ns2.record,
        config: { name: 'b', content: ov.clientConfig },
        options: options({ credentials: { username: ov.username, password: ov.password } }),
        uid: 0,
        gid: 0,
        isRoot: true,
        progress: () => undefined,
        runner,
      });
      state = up.state;
      const tunneled = await download(ns2.record.name, `http://${ov.tunnelIp}:${ov.httpPort}/bytes/${BYTES}`);
      emit({
        figure: 'throughput through OpenVPN (udp, both ends in namespaces)',
        measured: `${tunneled.toFixed(0)} MB/s`,
        baseline: `same peer over its veth ${directOv.toFixed(0)} MB/s`,
        target: '',
        verdict: 'info',
        note: `${((tunneled / directOv) * 100).toFixed(1)} % of direct`,
      });
    } finally {
      await ovBackend.down(ns2.record, state, runner);
      await undo();
      await ns2.destroy();
    }
  } finally {
    await wg.destroy().catch((e: unknown) => log(String(e)));
    await ov.destroy().catch((e: unknown) => log(String(e)));
    rmSync(cfgDir, { recursive: true, force: true });
    setVpnRunDir(undefined);
    rmSync(runDir, { recursive: true, force: true });
  }
});
