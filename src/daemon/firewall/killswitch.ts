// The killswitch: firewall rules inside the app namespace that let traffic out only through the
// tunnel (plus, where asked, the VPN's own remote endpoints, the host's veth address and
// --open-hosts through the veth), for IPv4 and IPv6. nftables (one `inet` table, loaded atomically
// with `nft -f -`) by default, iptables/ip6tables (own chains, loaded with *-restore) when chosen.
// Rule text is built by pure functions; apply/remove run through the CommandRunner and every
// failure is thrown (the caller aborts setup: fail closed).
import { isIP } from 'node:net';
import type { CommandRunner } from '../vpn/backend.js';

export type FirewallKind = 'nftables' | 'iptables';

export interface RemoteEndpoint {
  address: string;
  port: number;
  proto: 'udp' | 'tcp';
}

export interface KillswitchSpec {
  /** nft table name / iptables chain prefix; starts with the daemon's name prefix. */
  name: string;
  /** Interface(s) of the tunnel: everything may leave through them. */
  tunnelIfs: string[];
  /** Namespace side of the veth pair. */
  vethIf: string;
  hostIp: string;
  hostIp6?: string;
  /** Remotes reachable through the veth (OpenVPN servers). */
  endpoints: RemoteEndpoint[];
  /**
   * When set, only packets carrying this mark (SO_MARK, which only a process with CAP_NET_ADMIN
   * can set: the VPN client, never the user's apps) may go to the endpoints.
   */
  endpointMark?: number;
  /** Inbound TCP accepted (from the tunnel, and from the host's veth address). */
  openPorts: number[];
  /** Inbound TCP from the host's veth address (the daemon's port forwarders). */
  forward: number[];
  allowHostAccess: boolean;
  /** Addresses (or CIDRs) allowed out through the veth, bypassing the tunnel. */
  openHosts: string[];
  /** false = --no-killswitch: no filtering (only the IPv6 block, when asked). */
  killswitch: boolean;
  disableIpv6: boolean;
}

const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const NAME_RE = /^[A-Za-z0-9_]{1,24}$/;

function checkSpec(s: KillswitchSpec): void {
  if (!NAME_RE.test(s.name)) throw new Error(`bad firewall table name '${s.name}'`);
  for (const i of [...s.tunnelIfs, s.vethIf])
    if (!IFNAME_RE.test(i)) throw new Error(`bad interface name '${i}'`);
  const addrs = [
    s.hostIp,
    ...(s.hostIp6 !== undefined ? [s.hostIp6] : []),
    ...s.endpoints.map((e) => e.address),
  ];
  for (const a of addrs) if (isIP(a) === 0) throw new Error(`bad address '${a}'`);
  for (const h of s.openHosts) if (cidrFamily(h) === 0) throw new Error(`bad --open-hosts entry '${h}'`);
  if (
    s.endpointMark !== undefined &&
    !(Number.isInteger(s.endpointMark) && s.endpointMark > 0 && s.endpointMark <= 0xffffffff)
  ) {
    throw new Error(`bad mark ${s.endpointMark}`);
  }
  for (const p of [...s.openPorts, ...s.forward, ...s.endpoints.map((e) => e.port)]) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`bad port ${p}`);
  }
}

export function cidrFamily(text: string): 0 | 4 | 6 {
  const [addr, prefix, extra] = text.split('/');
  if (addr === undefined || extra !== undefined) return 0;
  const f = isIP(addr);
  if (f !== 4 && f !== 6) return 0;
  if (prefix !== undefined) {
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > (f === 4 ? 32 : 128)) return 0;
  }
  return f;
}

const ip = (a: string): string => (cidrFamily(a) === 6 ? 'ip6' : 'ip');

/**
 * IPv6 neighbour discovery on the veth is let through only when some IPv6 traffic may use the veth
 * (host access, IPv6 --open-hosts or endpoints, IPv6 forwarders); otherwise even the kernel's
 * own DAD/router solicitations stay inside.
 */
function needsNeighbourDiscovery(s: KillswitchSpec): boolean {
  if (s.disableIpv6 || s.hostIp6 === undefined) return false;
  return (
    s.allowHostAccess ||
    s.openHosts.some((h) => cidrFamily(h) === 6) ||
    s.endpoints.some((e) => isIP(e.address) === 6) ||
    s.forward.length > 0 ||
    s.openPorts.length > 0
  );
}

// ---------------------------------------------------------------- nftables

/** The whole table, replacing any previous one of the same name atomically. */
export function buildNftRuleset(s: KillswitchSpec): string {
  checkSpec(s);
  const t = s.name;
  const q = (i: string): string => `"${i}"`;
  const input: string[] = [];
  const output: string[] = [];
  const forward: string[] = [];
  const v6block = s.disableIpv6 ? ['meta nfproto ipv6 iifname != "lo" drop'] : [];
  const v6blockOut = s.disableIpv6 ? ['meta nfproto ipv6 oifname != "lo" drop'] : [];
  if (s.killswitch) {
    input.push(...v6block, 'iifname "lo" accept');
    for (const tun of s.tunnelIfs) input.push(`iifname ${q(tun)} ct state established,related accept`);
    input.push(`iifname ${q(s.vethIf)} ct state established,related accept`);
    if (s.openPorts.length > 0) {
      for (const tun of s.tunnelIfs)
        input.push(`iifname ${q(tun)} tcp dport { ${s.openPorts.join(', ')} } accept`);
    }
    const fromHost = [...new Set([...s.forward, ...s.openPorts])].sort((a, b) => a - b);
    if (fromHost.length > 0) {
      input.push(`iifname ${q(s.vethIf)} ip saddr ${s.hostIp} tcp dport { ${fromHost.join(', ')} } accept`);
      if (s.hostIp6 !== undefined && !s.disableIpv6) {
        input.push(
          `iifname ${q(s.vethIf)} ip6 saddr ${s.hostIp6} tcp dport { ${fromHost.join(', ')} } accept`,
        );
      }
    }
    const nd = needsNeighbourDiscovery(s);
    if (nd)
      input.push(`iifname ${q(s.vethIf)} icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept`);
    output.push(...v6blockOut, 'oifname "lo" accept');
    for (const tun of s.tunnelIfs) output.push(`oifname ${q(tun)} accept`);
    const mark = s.endpointMark !== undefined ? `meta mark 0x${s.endpointMark.toString(16)} ` : '';
    for (const e of s.endpoints) {
      output.push(
        `oifname ${q(s.vethIf)} ${mark}${ip(e.address)} daddr ${e.address} ${e.proto} dport ${e.port} accept`,
      );
    }
    output.push(`oifname ${q(s.vethIf)} ip daddr ${s.hostIp} ct state established,related accept`);
    if (s.hostIp6 !== undefined && !s.disableIpv6) {
      output.push(`oifname ${q(s.vethIf)} ip6 daddr ${s.hostIp6} ct state established,related accept`);
    }
    if (nd)
      output.push(`oifname ${q(s.vethIf)} icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept`);
    if (s.allowHostAccess) {
      output.push(`oifname ${q(s.vethIf)} ip daddr ${s.hostIp} accept`);
      if (s.hostIp6 !== undefined && !s.disableIpv6)
        output.push(`oifname ${q(s.vethIf)} ip6 daddr ${s.hostIp6} accept`);
    }
    for (const h of s.openHosts) {
      if (s.disableIpv6 && cidrFamily(h) === 6) continue;
      output.push(`oifname ${q(s.vethIf)} ${ip(h)} daddr ${h} accept`);
    }
  } else {
    input.push(...v6block);
    output.push(...v6blockOut);
    forward.push(...(s.disableIpv6 ? ['meta nfproto ipv6 drop'] : []));
  }
  const policy = s.killswitch ? 'drop' : 'accept';
  const chain = (name: string, hook: string, rules: string[]): string =>
    [
      `  chain ${name} {`,
      `    type filter hook ${hook} priority filter; policy ${policy};`,
      ...rules.map((r) => `    ${r}`),
      `  }`,
    ].join('\n');
  return [
    `table inet ${t}`,
    `delete table inet ${t}`,
    `table inet ${t} {`,
    chain('input', 'input', input),
    chain('output', 'output', output),
    chain('forward', 'forward', forward),
    `}`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- iptables

/** iptables-restore / ip6tables-restore input (used with --noflush: our chains only, plus one jump each). */
export function buildIptablesRestore(s: KillswitchSpec, family: 4 | 6): string {
  checkSpec(s);
  const inC = `${s.name}_in`;
  const outC = `${s.name}_out`;
  const fwdC = `${s.name}_fwd`;
  const lines: string[] = ['*filter', `:${inC} - [0:0]`, `:${outC} - [0:0]`, `:${fwdC} - [0:0]`];
  const ipOf = (a: string): boolean => cidrFamily(a) === family;
  const icmp = family === 4 ? 'icmp' : 'ipv6-icmp';
  const blockAll = family === 6 && s.disableIpv6;
  const hostIp = family === 4 ? s.hostIp : s.hostIp6;
  if (blockAll) {
    lines.push(`-A ${inC} -i lo -j ACCEPT`, `-A ${inC} -j DROP`);
    lines.push(`-A ${outC} -o lo -j ACCEPT`, `-A ${outC} -j DROP`);
    lines.push(`-A ${fwdC} -j DROP`);
  } else if (s.killswitch) {
    lines.push(`-A ${inC} -i lo -j ACCEPT`);
    for (const tun of s.tunnelIfs)
      lines.push(`-A ${inC} -i ${tun} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`);
    lines.push(`-A ${inC} -i ${s.vethIf} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`);
    for (const p of s.openPorts)
      for (const tun of s.tunnelIfs) lines.push(`-A ${inC} -i ${tun} -p tcp --dport ${p} -j ACCEPT`);
    const fromHost = [...new Set([...s.forward, ...s.openPorts])].sort((a, b) => a - b);
    if (hostIp !== undefined) {
      for (const p of fromHost)
        lines.push(`-A ${inC} -i ${s.vethIf} -s ${hostIp} -p tcp --dport ${p} -j ACCEPT`);
    }
    const nd = family === 6 && needsNeighbourDiscovery(s);
    if (nd) {
      for (const type of ['neighbour-solicitation', 'neighbour-advertisement']) {
        lines.push(`-A ${inC} -i ${s.vethIf} -p ${icmp} --icmpv6-type ${type} -j ACCEPT`);
      }
    }
    lines.push(`-A ${inC} -j DROP`);
    lines.push(`-A ${outC} -o lo -j ACCEPT`);
    for (const tun of s.tunnelIfs) lines.push(`-A ${outC} -o ${tun} -j ACCEPT`);
    const mark = s.endpointMark !== undefined ? ` -m mark --mark 0x${s.endpointMark.toString(16)}` : '';
    for (const e of s.endpoints) {
      if (ipOf(e.address))
        lines.push(
          `-A ${outC} -o ${s.vethIf}${mark} -d ${e.address} -p ${e.proto} --dport ${e.port} -j ACCEPT`,
        );
    }
    if (hostIp !== undefined) {
      lines.push(
        `-A ${outC} -o ${s.vethIf} -d ${hostIp} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`,
      );
      if (s.allowHostAccess) lines.push(`-A ${outC} -o ${s.vethIf} -d ${hostIp} -j ACCEPT`);
    }
    if (nd) {
      for (const type of ['neighbour-solicitation', 'neighbour-advertisement']) {
        lines.push(`-A ${outC} -o ${s.vethIf} -p ${icmp} --icmpv6-type ${type} -j ACCEPT`);
      }
    }
    for (const h of s.openHosts) if (ipOf(h)) lines.push(`-A ${outC} -o ${s.vethIf} -d ${h} -j ACCEPT`);
    lines.push(`-A ${outC} -j DROP`);
    lines.push(`-A ${fwdC} -j DROP`);
  }
  lines.push(`-I INPUT 1 -j ${inC}`, `-I OUTPUT 1 -j ${outC}`, `-I FORWARD 1 -j ${fwdC}`, 'COMMIT', '');
  return lines.join('\n');
}

// ---------------------------------------------------------------- apply / remove

export interface FirewallState {
  kind: FirewallKind;
  name: string;
}

async function ignoreMissing(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch {
    /* already gone (or the namespace is): removal is idempotent */
  }
}

/** Installs the rules in namespace `ns`; throws on any failure after removing what it added. */
export async function applyKillswitch(
  runner: CommandRunner,
  ns: string,
  kind: FirewallKind,
  spec: KillswitchSpec,
): Promise<FirewallState> {
  const state: FirewallState = { kind, name: spec.name };
  if (spec.disableIpv6) {
    await runner.runInNs(ns, 'sysctl', [
      '-q',
      '-w',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    ]);
  }
  try {
    if (kind === 'nftables') {
      await runner.runInNs(ns, 'nft', ['-f', '-'], { input: buildNftRuleset(spec) });
    } else {
      await removeKillswitch(runner, ns, state);
      await runner.runInNs(ns, 'iptables-restore', ['--noflush', '-w', '5'], {
        input: buildIptablesRestore(spec, 4),
      });
      await runner.runInNs(ns, 'ip6tables-restore', ['--noflush', '-w', '5'], {
        input: buildIptablesRestore(spec, 6),
      });
    }
  } catch (e) {
    await removeKillswitch(runner, ns, state);
    throw e;
  }
  return state;
}

export async function removeKillswitch(
  runner: CommandRunner,
  ns: string,
  state: FirewallState,
): Promise<void> {
  if (!NAME_RE.test(state.name)) return;
  if (state.kind === 'nftables') {
    await ignoreMissing(runner.runInNs(ns, 'nft', ['delete', 'table', 'inet', state.name]));
    return;
  }
  for (const tool of ['iptables', 'ip6tables']) {
    for (const [builtin, suffix] of [
      ['INPUT', 'in'],
      ['OUTPUT', 'out'],
      ['FORWARD', 'fwd'],
    ] as const) {
      const chain = `${state.name}_${suffix}`;
      // delete every jump (a repeated apply may have added more than one)
      for (let i = 0; i < 8; i++) {
        try {
          await runner.runInNs(ns, tool, ['-w', '5', '-D', builtin, '-j', chain]);
        } catch {
          break;
        }
      }
      await ignoreMissing(runner.runInNs(ns, tool, ['-w', '5', '-F', chain]));
      await ignoreMissing(runner.runInNs(ns, tool, ['-w', '5', '-X', chain]));
    }
  }
}

/** Counters for tests and diagnostics: packets dropped by the killswitch's output chain (nftables). */
export function killswitchTableName(prefix: string, index: number): string {
  return `${prefix}${index}_ks`;
}
