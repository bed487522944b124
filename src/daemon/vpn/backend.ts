// The contract between the namespace manager (src/daemon/netns.ts) and a VPN backend
// (WireGuard, OpenVPN, ...). The manager creates the namespace, its veth pair and DNS files and
// keeps the registry; a backend brings the tunnel up inside it, installs the killswitch, and says
// which resolvers the namespace uses.
import type { ExecOptions } from '../../protocol/messages.js';

/** What the manager knows of one namespace; stored as JSON in the root-only state dir. */
export interface NetnsRecord {
  name: string;
  owner: number;
  /** Allocation index: the namespace's /24 and its interface names derive from it. */
  index: number;
  provider: string;
  server?: string;
  protocol: string;
  /** Interface names: host side and namespace side of the veth pair. */
  hostVeth: string;
  nsVeth: string;
  hostIp: string;
  nsIp: string;
  /** The veth subnet, e.g. 10.200.3.0/24. */
  subnet: string;
  hostIp6?: string;
  nsIp6?: string;
  /** Host interface that NATs the namespace's traffic (none/openvpn), when one is used. */
  uplink?: string;
  dns: string[];
  keepAlive: boolean;
  createdAt: number;
  /** The options the namespace was made with; a joining exec must not conflict with them. */
  options: Pick<
    ExecOptions,
    'firewall' | 'noKillswitch' | 'disableIpv6' | 'openPorts' | 'forward' | 'allowHostAccess' | 'openHosts'
  >;
  /** Backend-private state (pids, interface names, firewall table names) for teardown. */
  vpn?: Record<string, unknown>;
  /** Prefix of every name this daemon creates (namespaces, links, nft tables). */
  prefix: string;
  /** --predown, run as the owner (uid `owner`, gid `ownerGid`) before teardown. */
  predown?: string;
  ownerGid?: number;
}

export interface CommandRunner {
  /** Runs a program as root with a fixed argv (never a shell); rejects with its stderr on failure. */
  run(file: string, args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
  /** Runs a program inside the namespace (`ip netns exec`). */
  runInNs(
    ns: string,
    file: string,
    args: string[],
    opts?: { input?: string; timeoutMs?: number },
  ): Promise<string>;
}

export interface VpnContext {
  ns: NetnsRecord;
  /** The config content sent by the client (never a path the daemon opens). */
  config: { name: string; content: string };
  options: ExecOptions;
  /** The requesting user's uid (hooks and anything user-supplied run as this uid, never root). */
  uid: number;
  gid: number;
  /** True when the requesting user is root (some restrictions apply only to other users). */
  isRoot: boolean;
  progress(message: string): void;
  runner: CommandRunner;
}

export interface VpnUp {
  /** Resolvers for the namespace's resolv.conf (before any -d/--dns override). */
  dns: string[];
  /** Saved in NetnsRecord.vpn and handed back to down(). */
  state: Record<string, unknown>;
  /** Shown by list/TUI. */
  tunnel: { kind: string; endpoint?: string };
}

export interface VpnBackend {
  readonly protocol: string;
  /** Does the namespace need a default route + NAT through the host uplink (OpenVPN: yes, WireGuard: no)? */
  readonly needsUplink: boolean;
  up(ctx: VpnContext): Promise<VpnUp>;
  /** Removes everything up() made; must succeed on partial state (called after a failed up, and by reconcile). */
  down(ns: NetnsRecord, state: Record<string, unknown>, runner: CommandRunner): Promise<void>;
  /** Live tunnel facts for list/TUI (e.g. last WireGuard handshake); optional. */
  status?(
    ns: NetnsRecord,
    state: Record<string, unknown>,
    runner: CommandRunner,
  ): Promise<{ lastHandshake?: number }>;
}
