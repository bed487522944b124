// A self-contained "VPN provider" for tests, `vopono doctor`'s self-test and `vopono demo`: a
// network namespace reachable from the host by a veth pair, running a real WireGuard peer
// (wireguard-go), dnsmasq answering `test.vopono` and an HTTP server bound to the tunnel address
// (so it is reachable only through the tunnel). Everything it makes carries the caller's prefix
// and is removed by destroy(), even after a partial failure; processes are stopped by pid.
//
// Network safety: addresses are private (10.237.N.0/24 veth, 10.238.N.0/24 and fd37:N::/64
// tunnel), checked free before use, and only namespaces made here get them. Nothing here routes
// or NATs toward the host's uplink.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { CommandRunner } from '../daemon/vpn/backend.js';
import { createCommandRunner } from '../daemon/vpn/runner.js';
import { spawnDetached, stopProcess, waitFor, isAlive, withSecretFile } from '../daemon/vpn/process.js';

export const TEST_DOMAIN = 'test.vopono';
export const HTTP_PORT = 8080;
export const WG_PORT = 51820;

export interface WorldOptions {
  /** WireGuard world: how many client configs (distinct keys) to make; 1 by default. */
  clients?: number;
  /** Name prefix of everything made (unique per run), letters/digits/underscore, ≤ 8 characters. */
  prefix: string;
  /** 1..250: selects the /24s (10.237.N.0/24, 10.238.N.0/24, ...). */
  subnetIndex: number;
  runner?: CommandRunner;
  /** Give the provider namespace a default route back through the host veth (needed when clients come through the host, e.g. OpenVPN). */
  routeBack?: boolean;
}

export interface WireguardKeys {
  privateKey: string;
  publicKey: string;
}

/** Curve25519 key pair in WireGuard's base64 form, made with Node's crypto (no process, no file). */
export function generateWireguardKeys(): WireguardKeys {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const priv = privateKey.export({ format: 'jwk' });
  const pub = publicKey.export({ format: 'jwk' });
  if (typeof priv.d !== 'string' || typeof pub.x !== 'string') throw new Error('x25519 export failed');
  return {
    privateKey: Buffer.from(priv.d, 'base64url').toString('base64'),
    publicKey: Buffer.from(pub.x, 'base64url').toString('base64'),
  };
}

/** The namespace + veth part shared by the WireGuard and OpenVPN worlds. */
export interface BaseWorld {
  prefix: string;
  index: number;
  nsName: string;
  hostVeth: string;
  peerVeth: string;
  /** Host side of the veth. */
  hostIp: string;
  /** The provider namespace's veth address (what a client's Endpoint/remote points at). */
  peerIp: string;
  vethSubnet: string;
  tempDir: string;
  runner: CommandRunner;
  /** Processes started (by pid, with the program name checked before stopping). */
  procs: { pid: number; prog: string }[];
  /** Files to remove at destroy (outside tempDir). */
  extraFiles: string[];
  /** Links to delete in the host namespace at destroy. */
  hostLinks: string[];
}

function checkOptions(o: WorldOptions): void {
  if (!/^[a-z][a-z0-9_]{0,7}$/.test(o.prefix))
    throw new Error(`world prefix '${o.prefix}' must be 1-8 lowercase letters/digits/_`);
  if (!Number.isInteger(o.subnetIndex) || o.subnetIndex < 1 || o.subnetIndex > 250)
    throw new Error('subnetIndex must be 1..250');
}

/** Throws if any of these /24s (given as 'a.b.c.') is already used by an address or route on the host. */
async function checkFree(runner: CommandRunner, nets: string[]): Promise<void> {
  const addrs = await runner.run('ip', ['-o', 'addr', 'show']);
  const routes = await runner.run('ip', ['route', 'show', 'table', 'all']);
  for (const n of nets) {
    if (addrs.includes(` ${n}`) || routes.includes(`${n}`))
      throw new Error(`${n}0/24 is already in use on this host`);
  }
}

export async function createBaseWorld(o: WorldOptions, kind: string, nets: string[]): Promise<BaseWorld> {
  checkOptions(o);
  const runner = o.runner ?? createCommandRunner();
  const idx = o.subnetIndex;
  const vethNet = `10.237.${idx}.`;
  await checkFree(runner, [vethNet, ...nets]);
  const w: BaseWorld = {
    prefix: o.prefix,
    index: idx,
    nsName: `${o.prefix}${kind}${idx}`,
    hostVeth: `${o.prefix}${idx}${kind}h`,
    peerVeth: `${o.prefix}${idx}${kind}p`,
    hostIp: `${vethNet}1`,
    peerIp: `${vethNet}2`,
    vethSubnet: `${vethNet}0/24`,
    tempDir: mkdtempSync(join(tmpdir(), `vopono-world-${o.prefix}-`)),
    runner,
    procs: [],
    extraFiles: [],
    hostLinks: [],
  };
  for (const n of [w.hostVeth, w.peerVeth])
    if (n.length > 15) throw new Error(`interface name ${n} is too long`);
  try {
    await runner.run('ip', ['netns', 'add', w.nsName]);
    await runner.run('ip', [
      'link',
      'add',
      w.hostVeth,
      'type',
      'veth',
      'peer',
      'name',
      w.peerVeth,
      'netns',
      w.nsName,
    ]);
    w.hostLinks.push(w.hostVeth);
    await runner.run('ip', ['addr', 'add', `${w.hostIp}/24`, 'dev', w.hostVeth]);
    await runner.run('ip', ['link', 'set', w.hostVeth, 'up']);
    await runner.run('ip', ['-n', w.nsName, 'link', 'set', 'lo', 'up']);
    await runner.run('ip', ['-n', w.nsName, 'addr', 'add', `${w.peerIp}/24`, 'dev', w.peerVeth]);
    await runner.run('ip', ['-n', w.nsName, 'link', 'set', w.peerVeth, 'up']);
    if (o.routeBack === true)
      await runner.run('ip', ['-n', w.nsName, 'route', 'add', 'default', 'via', w.hostIp]);
  } catch (e) {
    await destroyBaseWorld(w);
    throw e;
  }
  return w;
}

/** Removes everything a world made; collects errors and throws them at the end (after trying everything). */
export async function destroyBaseWorld(w: BaseWorld): Promise<void> {
  const errors: string[] = [];
  for (const { pid, prog } of w.procs.splice(0).reverse()) {
    try {
      await stopProcess(pid, [prog], 3000);
    } catch (e) {
      errors.push(`stop ${pid}: ${(e as Error).message}`);
    }
  }
  const list = await w.runner.run('ip', ['netns', 'list']).catch(() => '');
  if (list.split('\n').some((l) => l.split(' ')[0] === w.nsName)) {
    await w.runner.run('ip', ['netns', 'del', w.nsName]).catch((e: Error) => errors.push(e.message));
  }
  for (const link of w.hostLinks.splice(0)) {
    // deleting the namespace removes the veth pair (asynchronously); this is for a half-made one
    await w.runner.run('ip', ['link', 'del', 'dev', link]).catch((e: Error) => {
      if (!/Cannot find device|does not exist/.test(e.message)) errors.push(e.message);
    });
  }
  for (const f of w.extraFiles.splice(0)) rmSync(f, { force: true });
  rmSync(w.tempDir, { recursive: true, force: true });
  if (errors.length > 0) throw new Error(`world cleanup: ${errors.join('; ')}`);
}

/** Starts a long-lived program inside the world's namespace; its pid is recorded for destroy(). */
export async function startInWorld(
  w: BaseWorld,
  name: string,
  file: string,
  args: string[],
  env?: Record<string, string>,
): Promise<{ log: string; pid: number }> {
  const log = join(w.tempDir, `${name}.log`);
  const pid = await spawnDetached('ip', ['netns', 'exec', w.nsName, file, ...args], {
    logFile: log,
    ...(env ? { env } : {}),
  });
  w.procs.push({ pid, prog: basename(file) });
  return { log, pid };
}

/** Waits until `log` contains `text`; throws with the log's content if it doesn't in time. */
export async function waitForLog(
  log: string,
  text: string | RegExp,
  timeoutMs: number,
  pid?: number,
): Promise<void> {
  const read = (): string => {
    try {
      return readFileSync(log, 'utf8');
    } catch {
      return '';
    }
  };
  const ok = await waitFor(
    () => {
      const t = read();
      if (typeof text === 'string' ? t.includes(text) : text.test(t)) return true;
      if (pid !== undefined && !isAlive(pid)) return false;
      return undefined;
    },
    timeoutMs,
    10,
  );
  if (ok !== true)
    throw new Error(`timed out waiting for '${String(text)}' in ${log}:\n${read().slice(-2000)}`);
}

/** The HTTP server: answers `vopono-peer <client address>` on each listen address. */
const HTTP_SCRIPT = `
const http = require('node:http');
const port = Number(process.argv[2]);
const addrs = process.argv.slice(3);
let up = 0;
for (const a of addrs) {
  const s = http.createServer((req, res) => {
    if (req.url && req.url.startsWith('/bytes/')) {
      const n = Math.min(Number(req.url.slice(7)) || 0, 1 << 30);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
      const chunk = Buffer.alloc(65536, 120);
      let left = n;
      const pump = () => { while (left > 0) { const c = left >= chunk.length ? chunk : chunk.subarray(0, left); left -= c.length; if (!res.write(c)) { res.once('drain', pump); return; } } res.end(); };
      pump();
      return;
    }
    res.end('vopono-peer ' + req.socket.remoteAddress + '\\n');
  });
  s.listen(port, a, () => { if (++up === addrs.length) console.log('ready'); });
}
`;

export async function startHttpServer(w: BaseWorld, addrs: string[], port = HTTP_PORT): Promise<void> {
  const { log, pid } = await startInWorld(w, `http-${port}`, process.execPath, [
    '-e',
    HTTP_SCRIPT,
    `vopono-world-${w.nsName}`,
    String(port),
    ...addrs,
  ]);
  await waitForLog(log, 'ready', 10_000, pid);
}

export interface DnsServer {
  log: string;
  /** Names asked so far (from dnsmasq's query log). */
  queries(): string[];
}

export async function startDnsmasq(
  w: BaseWorld,
  listen: string[],
  answer4: string,
  answer6?: string,
): Promise<DnsServer> {
  const args = [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--bind-interfaces',
    '--pid-file=',
    `--dhcp-leasefile=${join(w.tempDir, 'leases')}`,
    '--user=nobody',
    '--group=nogroup',
    '--log-queries',
    '--log-facility=-',
    ...listen.map((a) => `--listen-address=${a}`),
    `--address=/${TEST_DOMAIN}/${answer4}`,
    ...(answer6 !== undefined ? [`--address=/${TEST_DOMAIN}/${answer6}`] : []),
  ];
  const { log, pid } = await startInWorld(w, 'dnsmasq', 'dnsmasq', args);
  await waitForLog(log, /started, version/, 10_000, pid);
  return {
    log,
    queries: () => {
      let text = '';
      try {
        text = readFileSync(log, 'utf8');
      } catch {
        return [];
      }
      const out: string[] = [];
      for (const m of text.matchAll(/query\[[A-Z]+\] (\S+) from/g)) if (m[1] !== undefined) out.push(m[1]);
      return out;
    },
  };
}

export interface PeerWorld {
  nsName: string;
  hostVeth: string;
  hostIp: string;
  peerIp: string;
  /** The peer's tunnel addresses: HTTP and DNS listen there. */
  tunnelIp: string;
  tunnelIp6: string;
  clientTunnelIp: string;
  clientTunnelIp6: string;
  wgInterface: string;
  wgPid: number;
  httpPort: number;
  domain: string;
  /** A wg-quick config for the client side (Endpoint = the peer's veth address). */
  clientConfig: string;
  /** One config per client (`clients` option), each with its own key and address (.2, .3, ...). */
  clientConfigs: string[];
  dns: DnsServer;
  base: BaseWorld;
  destroy(): Promise<void>;
}

/** Builds the WireGuard provider world. */
export async function createPeerWorld(o: WorldOptions): Promise<PeerWorld> {
  const idx = o.subnetIndex;
  const hex = idx.toString(16);
  const tunNet = `10.238.${idx}.`;
  const base = await createBaseWorld(o, 'p', [tunNet]);
  const runner = base.runner;
  const wgIf = `${o.prefix}${idx}pw`;
  const tunnelIp = `${tunNet}1`;
  const clientTunnelIp = `${tunNet}2`;
  const tunnelIp6 = `fd37:${hex}::1`;
  const clientTunnelIp6 = `fd37:${hex}::2`;
  try {
    if (wgIf.length > 15) throw new Error(`interface name ${wgIf} is too long`);
    const server = generateWireguardKeys();
    // client 0 is the one clientConfig describes; more (distinct keys and addresses) on request:
    // two tunnels sharing one key would steal each other's session at the peer
    const clientCount = Math.max(1, Math.min(o.clients ?? 1, 200));
    const clients = Array.from({ length: clientCount }, () => generateWireguardKeys());
    const { pid: wgPid } = await startInWorld(base, 'wireguard-go', 'wireguard-go', [wgIf], {
      WG_PROCESS_FOREGROUND: '1',
      LOG_LEVEL: 'error',
    });
    base.extraFiles.push(`/var/run/wireguard/${wgIf}.sock`);
    const ready = await waitFor(
      async () =>
        (await runner.run('ip', ['-n', base.nsName, 'link', 'show', wgIf]).then(
          () => true,
          () => undefined,
        )) ?? (isAlive(wgPid) ? undefined : false),
      5000,
      10,
    );
    if (ready !== true) throw new Error('wireguard-go did not start in the provider namespace');
    // the UAPI socket may appear a moment after the TUN
    await waitFor(
      () => (isAlive(wgPid) ? (existsSync(`/var/run/wireguard/${wgIf}.sock`) ? true : undefined) : false),
      5000,
      5,
    );
    await withSecretFile(
      base.tempDir,
      'peer.setconf',
      `[Interface]\nPrivateKey = ${server.privateKey}\nListenPort = ${WG_PORT}\n` +
        clients
          .map(
            (c, i) =>
              `\n[Peer]\nPublicKey = ${c.publicKey}\nAllowedIPs = ${tunNet}${i + 2}/32, fd37:${hex}::${(i + 2).toString(16)}/128\n`,
          )
          .join(''),
      (file) => runner.run('wg', ['setconf', wgIf, file]),
    );
    await runner.run('ip', ['-n', base.nsName, 'addr', 'add', `${tunnelIp}/24`, 'dev', wgIf]);
    await runner.run('ip', ['-n', base.nsName, '-6', 'addr', 'add', `${tunnelIp6}/64`, 'dev', wgIf, 'nodad']);
    await runner.run('ip', ['-n', base.nsName, 'link', 'set', wgIf, 'up']);
    await startHttpServer(base, [tunnelIp, tunnelIp6]);
    const dns = await startDnsmasq(base, [tunnelIp, tunnelIp6], tunnelIp, tunnelIp6);
    const configFor = (c: WireguardKeys, i: number): string =>
      [
        '[Interface]',
        `PrivateKey = ${c.privateKey}`,
        `Address = ${tunNet}${i + 2}/32, fd37:${hex}::${(i + 2).toString(16)}/128`,
        `DNS = ${tunnelIp}`,
        '',
        '[Peer]',
        `PublicKey = ${server.publicKey}`,
        `Endpoint = ${base.peerIp}:${WG_PORT}`,
        'AllowedIPs = 0.0.0.0/0, ::/0',
        '',
      ].join('\n');
    const clientConfigs = clients.map(configFor);
    const clientConfig = clientConfigs[0]!;
    return {
      nsName: base.nsName,
      hostVeth: base.hostVeth,
      hostIp: base.hostIp,
      peerIp: base.peerIp,
      tunnelIp,
      tunnelIp6,
      clientTunnelIp,
      clientTunnelIp6,
      wgInterface: wgIf,
      wgPid,
      httpPort: HTTP_PORT,
      domain: TEST_DOMAIN,
      clientConfig,
      clientConfigs,
      dns,
      base,
      destroy: () => destroyBaseWorld(base),
    };
  } catch (e) {
    await destroyBaseWorld(base).catch(() => undefined);
    throw e;
  }
}
