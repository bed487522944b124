// WireGuard backend. The interface is created in the HOST namespace (kernel module when present,
// else wireguard-go, a userspace TUN), configured (wireguard-go: keys over its root-only UAPI
// socket; kernel: `wg setconf` with a 0600 file in the root-only run dir, removed at once), then
// moved into the app namespace: its encrypted UDP socket stays outside, so inside the namespace
// the tunnel is the only way out even before the killswitch (a second wall).
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { CommandRunner, NetnsRecord, VpnBackend, VpnContext, VpnUp } from './backend.js';
import { renderUapiSet, uapiRequest } from './wg-uapi.js';
import {
  parseWireguardConfig,
  renderSetconf,
  formatCidr,
  formatEndpoint,
  type WireguardConfig,
} from './wireguard-config.js';
import {
  privateDir,
  privateDirPath,
  removePrivateDir,
  spawnDetached,
  stopProcess,
  waitFor,
  isAlive,
  withSecretFile,
} from './process.js';
import {
  applyKillswitch,
  removeKillswitch,
  killswitchTableName,
  type FirewallState,
} from '../firewall/killswitch.js';
import {
  addOpenHostRoutes,
  firewallKind,
  firewallsToRemove,
  interfaceName,
  readPidFile,
  readState,
  usableDns,
} from './common.js';

const WG_SOCKET_DIR = '/var/run/wireguard';

export interface WireguardState {
  ifname: string;
  mode?: 'kernel' | 'userspace';
  pid?: number;
  firewall?: FirewallState;
  endpoint?: string;
}

function toState(s: Record<string, unknown>): WireguardState {
  const r = readState(s);
  const ifname = r.str('ifname');
  const mode = r.str('mode');
  const fw = r.firewall();
  const st: WireguardState = { ifname: ifname ?? '' };
  if (mode === 'kernel' || mode === 'userspace') st.mode = mode;
  const pid = r.num('pid');
  if (pid !== undefined) st.pid = pid;
  if (fw !== undefined) st.firewall = fw;
  return st;
}

function fromState(s: WireguardState): Record<string, unknown> {
  return { ...s };
}

/** Resolves each peer's endpoint on the host (the namespace has no resolver before the tunnel). */
export async function resolveEndpoints(cfg: WireguardConfig): Promise<(string | undefined)[]> {
  return Promise.all(
    cfg.peers.map(async (p) => {
      if (p.endpoint === undefined) return undefined;
      if (isIP(p.endpoint.host) !== 0) return p.endpoint.host;
      try {
        const r = await lookup(p.endpoint.host);
        return r.address;
      } catch (e) {
        throw new Error(`cannot resolve WireGuard endpoint '${p.endpoint.host}': ${(e as Error).message}`);
      }
    }),
  );
}

let kernelAvailable: boolean | undefined;

/** Has `ip link add type wireguard` worked here? Cached after the first try. VOPONO_WG_USERSPACE=1 forces wireguard-go. */
export function wireguardMode(): 'kernel' | 'userspace' | 'unknown' {
  if (process.env.VOPONO_WG_USERSPACE === '1') return 'userspace';
  return kernelAvailable === undefined ? 'unknown' : kernelAvailable ? 'kernel' : 'userspace';
}

async function createInterface(
  runner: CommandRunner,
  ifname: string,
  dir: string,
  state: WireguardState,
): Promise<void> {
  if (process.env.VOPONO_WG_USERSPACE !== '1' && kernelAvailable !== false) {
    try {
      await runner.run('ip', ['link', 'add', 'dev', ifname, 'type', 'wireguard']);
      kernelAvailable = true;
      state.mode = 'kernel';
      return;
    } catch {
      kernelAvailable = false;
    }
  }
  state.mode = 'userspace';
  const pid = await spawnDetached('wireguard-go', [ifname], {
    env: { WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' },
    logFile: join(dir, `${ifname}.log`),
  });
  state.pid = pid;
  // a pid file too, so a daemon that died mid-setup can still find the process by pid
  writeFileSync(join(dir, `${ifname}.pid`), `${pid}\n`, { mode: 0o600 });
  const sock = join(WG_SOCKET_DIR, `${ifname}.sock`);
  const ready = await waitFor(() => (existsSync(sock) ? true : isAlive(pid) ? undefined : false), 5000, 5);
  if (ready !== true)
    throw new Error(`wireguard-go did not create ${ifname}${ready === false ? ' (it exited)' : ''}`);
}

export const wireguardBackend: VpnBackend = {
  protocol: 'wireguard',
  needsUplink: false,

  async up(ctx: VpnContext): Promise<VpnUp> {
    const { ns, runner } = ctx;
    const cfg = parseWireguardConfig(ctx.config.content);
    const ifname = interfaceName(ns, 'w');
    const state: WireguardState = { ifname };
    try {
      const endpoints = await resolveEndpoints(cfg);
      const first = cfg.peers.findIndex((p, i) => p.endpoint !== undefined && endpoints[i] !== undefined);
      const firstPeer = cfg.peers[first];
      const firstAddr = endpoints[first];
      if (firstPeer?.endpoint !== undefined && firstAddr !== undefined) {
        state.endpoint = formatEndpoint(firstAddr, firstPeer.endpoint.port);
      }
      const dir = privateDir(ns.name);
      const kind = firewallKind(ctx.options);
      const table = killswitchTableName(ns.prefix, ns.index);
      state.firewall = { kind, name: table };
      // the killswitch (names only, it needs no interface yet) loads while the tunnel is made:
      // both must succeed before anything runs in the namespace
      const firewall = applyKillswitch(runner, ns.name, kind, {
        name: table,
        tunnelIfs: [ifname],
        vethIf: ns.nsVeth,
        hostIp: ns.hostIp,
        ...(ns.hostIp6 !== undefined ? { hostIp6: ns.hostIp6 } : {}),
        endpoints: [],
        openPorts: ctx.options.openPorts,
        forward: ctx.options.forward,
        allowHostAccess: ctx.options.allowHostAccess,
        openHosts: ctx.options.openHosts,
        killswitch: !ctx.options.noKillswitch,
        disableIpv6: ctx.options.disableIpv6,
      });
      const tunnelSetup = (async (): Promise<void> => {
        ctx.progress(`creating WireGuard interface ${ifname}`);
        await createInterface(runner, ifname, dir, state);
        ctx.progress(
          state.mode === 'kernel'
            ? `WireGuard: kernel module (${ifname})`
            : `WireGuard: userspace wireguard-go, pid ${state.pid ?? '?'} (${ifname})`,
        );
        if (state.mode === 'userspace') {
          // keys straight to wireguard-go over its root-only UAPI socket: no file, no process
          await uapiRequest(join(WG_SOCKET_DIR, `${ifname}.sock`), renderUapiSet(cfg, endpoints));
        } else {
          // keys: a 0600 file in the root-only private dir, removed right after (Node's stdin is a
          // socketpair, which `wg` cannot fopen as /dev/stdin)
          await withSecretFile(dir, `${ifname}.setconf`, renderSetconf(cfg, endpoints), (file) =>
            runner.run('wg', ['setconf', ifname, file]),
          );
        }
        await runner.run('ip', ['link', 'set', 'dev', ifname, 'netns', ns.name]);
        const hasV6 = cfg.addresses.some((a) => a.family === 6) && !ctx.options.disableIpv6;
        // one `ip -batch` for addresses, link and routes (one process instead of six)
        const batch: string[] = [];
        for (const a of cfg.addresses) {
          if (a.family === 6 && !hasV6) continue;
          batch.push(`address add ${formatCidr(a)} dev ${ifname}`);
        }
        batch.push(`link set dev ${ifname} mtu ${cfg.mtu ?? 1420} up`);
        for (const p of cfg.peers) {
          for (const c of p.allowedIps) {
            if (c.family === 6 && !hasV6) continue;
            const dest = c.prefix === 0 ? (c.family === 6 ? '::/0' : '0.0.0.0/0') : formatCidr(c);
            batch.push(`route replace ${dest} dev ${ifname}`);
          }
        }
        await runner.run('ip', ['-n', ns.name, '-batch', '-'], { input: batch.join('\n') + '\n' });
        await addOpenHostRoutes(runner, ns, ctx.options.openHosts);
      })();
      const results = await Promise.allSettled([firewall, tunnelSetup]);
      for (const r of results) if (r.status === 'rejected') throw r.reason;
    } catch (e) {
      await wireguardBackend.down(ns, fromState(state), runner);
      throw e;
    }
    const tunnel: VpnUp['tunnel'] = { kind: state.mode === 'kernel' ? 'wireguard' : 'wireguard-go' };
    if (state.endpoint !== undefined) tunnel.endpoint = state.endpoint;
    return { dns: usableDns(cfg.dns, ctx.options.disableIpv6), state: fromState(state), tunnel };
  },

  async down(ns: NetnsRecord, raw: Record<string, unknown>, runner: CommandRunner): Promise<void> {
    const state = toState(raw);
    const ifname = state.ifname !== '' ? state.ifname : interfaceName(ns, 'w');
    // the interface: inside the namespace, or still in the host one if setup stopped before the move
    await runner.run('ip', ['-n', ns.name, 'link', 'del', 'dev', ifname]).catch(() => undefined);
    if (ifname.startsWith(ns.prefix))
      await runner.run('ip', ['link', 'del', 'dev', ifname]).catch(() => undefined);
    const pids = new Set<number>();
    if (state.pid !== undefined) pids.add(state.pid);
    const pidFile = readPidFile(join(privateDirPath(ns.name), `${ifname}.pid`));
    if (pidFile !== undefined) pids.add(pidFile);
    for (const pid of pids) await stopProcess(pid, ['wireguard-go', ifname]);
    rmSync(join(WG_SOCKET_DIR, `${ifname}.sock`), { force: true });
    // the firewall goes last: nothing may leave while the rest is being taken down
    for (const fw of firewallsToRemove(ns, state.firewall)) await removeKillswitch(runner, ns.name, fw);
    removePrivateDir(ns.name);
  },

  async status(
    ns: NetnsRecord,
    raw: Record<string, unknown>,
    runner: CommandRunner,
  ): Promise<{ lastHandshake?: number }> {
    const state = toState(raw);
    if (state.ifname === '') return {};
    try {
      // a kernel interface is only visible inside the namespace; wireguard-go answers on its
      // socket in the host's /var/run/wireguard
      const args = ['show', state.ifname, 'latest-handshakes'];
      const out =
        state.mode === 'kernel' ? await runner.runInNs(ns.name, 'wg', args) : await runner.run('wg', args);
      let latest = 0;
      for (const line of out.split('\n')) {
        const t = Number(line.split('\t')[1] ?? '0');
        if (Number.isFinite(t) && t > latest) latest = t;
      }
      return latest > 0 ? { lastHandshake: latest * 1000 } : {};
    } catch {
      return {};
    }
  },
};
