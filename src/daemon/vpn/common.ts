// Small pieces both backends share: derived names, option defaults, reading back the
// backend-private state (JSON from the registry: checked, never cast).
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ExecOptions } from '../../protocol/messages.js';
import type { FirewallKind, FirewallState } from '../firewall/killswitch.js';
import { cidrFamily } from '../firewall/killswitch.js';
import type { CommandRunner, NetnsRecord } from './backend.js';

/** `${prefix}${index}${suffix}`, checked against the kernel's 15-character limit. */
export function interfaceName(ns: NetnsRecord, suffix: string): string {
  const name = `${ns.prefix}${ns.index}${suffix}`;
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) {
    throw new Error(`interface name '${name}' is not valid (at most 15 letters, digits, '_', '.', '-')`);
  }
  return name;
}

export function firewallKind(options: Pick<ExecOptions, 'firewall'>): FirewallKind {
  return options.firewall === 'iptables' ? 'iptables' : 'nftables';
}

export function readState(s: Record<string, unknown>): {
  str(key: string): string | undefined;
  num(key: string): number | undefined;
  firewall(): FirewallState | undefined;
} {
  return {
    str: (key) => {
      const v = s[key];
      return typeof v === 'string' ? v : undefined;
    },
    num: (key) => {
      const v = s[key];
      return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
    },
    firewall: () => {
      const f = s.firewall;
      if (typeof f !== 'object' || f === null) return undefined;
      const kind: unknown = Reflect.get(f, 'kind');
      const name: unknown = Reflect.get(f, 'name');
      if ((kind === 'nftables' || kind === 'iptables') && typeof name === 'string') return { kind, name };
      return undefined;
    },
  };
}

export function readPidFile(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) && n > 1 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** --open-hosts: these destinations go through the veth (via the host), not the tunnel. */
export async function addOpenHostRoutes(
  runner: CommandRunner,
  ns: NetnsRecord,
  hosts: string[],
): Promise<void> {
  for (const h of hosts) {
    const fam = cidrFamily(h);
    if (fam === 0) throw new Error(`--open-hosts: '${h}' is not an address`);
    if (fam === 6) {
      if (ns.hostIp6 === undefined) continue;
      await runner.run('ip', [
        '-n',
        ns.name,
        '-6',
        'route',
        'replace',
        h,
        'via',
        ns.hostIp6,
        'dev',
        ns.nsVeth,
      ]);
    } else {
      await runner.run('ip', [
        '-n',
        ns.name,
        '-4',
        'route',
        'replace',
        h,
        'via',
        ns.hostIp,
        'dev',
        ns.nsVeth,
      ]);
    }
  }
}

/**
 * The killswitch to remove: the recorded one, or (state lost: a daemon that died during setup)
 * the name derived from the namespace, of both kinds.
 */
export function firewallsToRemove(ns: NetnsRecord, recorded: FirewallState | undefined): FirewallState[] {
  if (recorded !== undefined) return [recorded];
  const name = `${ns.prefix}${ns.index}_ks`;
  return [
    { kind: 'nftables', name },
    { kind: 'iptables', name },
  ];
}

/** The resolvers the namespace can reach: no IPv6 ones when IPv6 is disabled there. */
export function usableDns(dns: string[], disableIpv6: boolean): string[] {
  return disableIpv6 ? dns.filter((d) => isIP(d) !== 6) : dns;
}
