// OpenVPN backend: openvpn runs as root inside the namespace (`ip netns exec`), reaching its
// remotes over the veth + NAT path the manager made. The config was checked (a non-root user's
// may not run programs or name files), remote names are resolved on the host, the killswitch is
// installed BEFORE openvpn starts (only the tunnel and the remotes may leave), credentials go to a
// 0600 file in a root-only directory, and setup waits for "Initialization Sequence Completed" or
// fails with the log's reason (AUTH_FAILED, options error, exit).
import { readFileSync, writeFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { CommandRunner, NetnsRecord, VpnBackend, VpnContext, VpnUp } from './backend.js';
import { checkOpenvpnConfig, pushedDns, rewriteOpenvpnConfig, type OpenvpnRemote } from './openvpn-config.js';
import {
  privateDir,
  privateDirPath,
  removePrivateDir,
  spawnDetached,
  stopProcess,
  waitFor,
  isAlive,
} from './process.js';
import {
  applyKillswitch,
  removeKillswitch,
  killswitchTableName,
  type RemoteEndpoint,
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

const MAX_ADDRESSES_PER_REMOTE = 8;

function setupTimeoutMs(): number {
  const v = Number(process.env.VOPONO_OPENVPN_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 30_000;
}

/** Resolves remote host names on the host; returns the name → addresses map and the killswitch endpoints. */
export async function resolveRemotes(
  remotes: OpenvpnRemote[],
  allowV6: boolean,
): Promise<{ resolved: Map<string, string[]>; endpoints: RemoteEndpoint[] }> {
  const resolved = new Map<string, string[]>();
  const endpoints: RemoteEndpoint[] = [];
  const failures: string[] = [];
  for (const r of remotes) {
    let addrs: string[];
    if (isIP(r.host) !== 0) addrs = [r.host];
    else if (resolved.has(r.host)) addrs = resolved.get(r.host) ?? [];
    else {
      try {
        const all = await lookup(r.host, { all: true });
        addrs = all
          .filter((a) => allowV6 || a.family === 4)
          .map((a) => a.address)
          .slice(0, MAX_ADDRESSES_PER_REMOTE);
      } catch (e) {
        failures.push(`${r.host} (line ${r.line}): ${(e as Error).message}`);
        addrs = [];
      }
      resolved.set(r.host, addrs);
    }
    for (const a of addrs) endpoints.push({ address: a, port: r.port, proto: r.proto });
  }
  if (endpoints.length === 0)
    throw new Error(`cannot resolve any OpenVPN remote: ${failures.join('; ') || 'none given'}`);
  return { resolved, endpoints };
}

/** The SO_MARK openvpn puts on its packets in namespace `index` ('vo' in the high bytes). */
export function openvpnMark(index: number): number {
  return 0x766f0000 + (index & 0xffff);
}

export type SetupOutcome = { ok: true } | { ok: false; reason: string };

/** Reads an openvpn log and says whether setup finished, failed (why), or is still going (undefined). */
export function judgeOpenvpnLog(log: string): SetupOutcome | undefined {
  if (log.includes('Initialization Sequence Completed')) return { ok: true };
  const auth = /AUTH_FAILED(?:,([^\n']*))?/.exec(log);
  if (auth)
    return {
      ok: false,
      reason: `authentication failed (AUTH_FAILED${auth[1] ? `: ${auth[1].trim()}` : ''})`,
    };
  const opt = /Options error: ([^\n]*)/.exec(log);
  if (opt?.[1] !== undefined) return { ok: false, reason: `options error: ${opt[1].trim()}` };
  const fatal =
    /(Exiting due to fatal error|Cannot open TUN\/TAP dev[^\n]*|Cannot load [^\n]*|TLS Error: [^\n]*)/.exec(
      log,
    );
  if (fatal?.[1] !== undefined && fatal[1].startsWith('Exiting')) {
    const lines = log.trim().split('\n');
    return { ok: false, reason: lines.slice(-3).join(' | ') };
  }
  return undefined;
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

export const openvpnBackend: VpnBackend = {
  protocol: 'openvpn',
  needsUplink: true,

  async up(ctx: VpnContext): Promise<VpnUp> {
    const { ns, runner, options } = ctx;
    const info = checkOpenvpnConfig(ctx.config.content, { isRoot: ctx.isRoot });
    if (info.authUserPass && options.credentials === undefined) {
      throw new Error('this OpenVPN config needs a username and password (auth-user-pass): none were given');
    }
    const ifname = interfaceName(ns, 't');
    const state: Record<string, unknown> = { ifname };
    let log = '';
    try {
      const { resolved, endpoints } = await resolveRemotes(info.remotes, !options.disableIpv6);
      state.endpoints = endpoints.map((e) => `${e.address}:${e.port}/${e.proto}`);
      const dir = privateDir(ns.name);
      const kind = firewallKind(options);
      const table = killswitchTableName(ns.prefix, ns.index);
      // openvpn marks its own packets (SO_MARK needs CAP_NET_ADMIN, which the user's apps lack):
      // only marked packets may reach the remotes outside the tunnel
      const mark = openvpnMark(ns.index);
      state.firewall = { kind, name: table };
      // the killswitch first: from the moment openvpn starts, only the tunnel and the remotes may leave
      await applyKillswitch(runner, ns.name, kind, {
        name: table,
        tunnelIfs: [ifname],
        vethIf: ns.nsVeth,
        hostIp: ns.hostIp,
        ...(ns.hostIp6 !== undefined ? { hostIp6: ns.hostIp6 } : {}),
        endpoints,
        endpointMark: mark,
        openPorts: options.openPorts,
        forward: options.forward,
        allowHostAccess: options.allowHostAccess,
        openHosts: options.openHosts,
        killswitch: !options.noKillswitch,
        disableIpv6: options.disableIpv6,
      });
      const cfgPath = join(dir, 'openvpn.conf');
      writeFileSync(cfgPath, rewriteOpenvpnConfig(ctx.config.content, resolved), { mode: 0o600 });
      const args = [
        '--config',
        cfgPath,
        '--dev',
        ifname,
        '--dev-type',
        info.devType,
        '--verb',
        '3',
        '--auth-retry',
        'none',
        '--connect-retry-max',
        '3',
        '--mark',
        String(mark),
        // all of the namespace's traffic goes through the tunnel, pushed or not (anything else is
        // dropped by the killswitch anyway)
        '--redirect-gateway',
        'def1',
      ];
      if (!ctx.isRoot) args.push('--script-security', '1');
      if (options.disableIpv6)
        args.push('--pull-filter', 'ignore', 'ifconfig-ipv6', '--pull-filter', 'ignore', 'route-ipv6');
      if (info.authUserPass) {
        const cred = options.credentials;
        if (cred === undefined)
          throw new Error(
            'this OpenVPN config needs a username and password (auth-user-pass): none were given',
          );
        if (/[\n\r\0]/.test(cred.username + cred.password))
          throw new Error('OpenVPN username/password may not contain line breaks');
        const authPath = join(dir, 'auth');
        writeFileSync(authPath, `${cred.username}\n${cred.password}\n`, { mode: 0o600 });
        args.push('--auth-user-pass', authPath);
      }
      const logPath = join(dir, 'openvpn.log');
      ctx.progress('starting openvpn');
      const pid = await spawnDetached('ip', ['netns', 'exec', ns.name, 'openvpn', ...args], {
        logFile: logPath,
      });
      state.pid = pid;
      state.config = cfgPath;
      writeFileSync(join(dir, 'openvpn.pid'), `${pid}\n`, { mode: 0o600 });
      const outcome = await waitFor<SetupOutcome>(
        () => {
          try {
            log = readFileSync(logPath, 'utf8');
          } catch {
            log = '';
          }
          const j = judgeOpenvpnLog(log);
          if (j !== undefined) return j;
          if (!isAlive(pid)) return { ok: false, reason: `openvpn exited: ${lastLines(log, 3)}` };
          return undefined;
        },
        setupTimeoutMs(),
        20,
      );
      if (outcome === undefined)
        throw new Error(`openvpn did not connect within ${setupTimeoutMs() / 1000} s:\n${lastLines(log, 5)}`);
      if (!outcome.ok) throw new Error(`OpenVPN setup failed: ${outcome.reason}`);
      await addOpenHostRoutes(runner, ns, options.openHosts);
    } catch (e) {
      await openvpnBackend.down(ns, state, runner);
      throw e;
    }
    const endpoint =
      Array.isArray(state.endpoints) && typeof state.endpoints[0] === 'string'
        ? state.endpoints[0]
        : undefined;
    return {
      dns: usableDns([...new Set([...pushedDns(log), ...info.dns])], options.disableIpv6),
      state,
      tunnel: endpoint !== undefined ? { kind: 'openvpn', endpoint } : { kind: 'openvpn' },
    };
  },

  async down(ns: NetnsRecord, raw: Record<string, unknown>, runner: CommandRunner): Promise<void> {
    const r = readState(raw);
    const ifname = r.str('ifname') ?? interfaceName(ns, 't');
    const fw = r.firewall();
    const pids = new Set<number>();
    const pid = r.num('pid');
    if (pid !== undefined) pids.add(pid);
    const filePid = readPidFile(join(privateDirPath(ns.name), 'openvpn.pid'));
    if (filePid !== undefined) pids.add(filePid);
    const cfg = join(privateDirPath(ns.name), 'openvpn.conf');
    for (const p of pids) await stopProcess(p, ['openvpn', cfg]);
    await runner.run('ip', ['-n', ns.name, 'link', 'del', 'dev', ifname]).catch(() => undefined);
    // the firewall goes last: while openvpn winds down nothing may leave outside the tunnel
    for (const f of firewallsToRemove(ns, fw)) await removeKillswitch(runner, ns.name, f);
    removePrivateDir(ns.name);
  },
};
