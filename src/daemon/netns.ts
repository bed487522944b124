// The namespace manager: creates a namespace (veth pair, addressing, NAT, DNS files) or joins the
// caller's existing one, counts its apps, and tears everything down with the last app. Namespaces
// belong to a uid: another user never joins them.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type { ExecOptions, NamespaceInfo } from '../protocol/messages.js';
import { ProtocolError } from '../protocol/messages.js';
import { log } from './log.js';
import { processStartTicks } from './procfs.js';
import type { NetnsState, RegisteredApp, Registry } from './registry.js';
import type { CommandRunner, NetnsRecord, VpnBackend } from './vpn/backend.js';
import { loadBackend } from './vpn/load.js';

export interface ManagerConfig {
  /** Prefix of every namespace, link and nft table this daemon creates. */
  prefix: string;
  /** First two octets of the /16 the namespaces' /24s come from, e.g. [10, 200]. */
  pool: [number, number];
  registry: Registry;
  runner: CommandRunner;
}

export interface AcquireRequest {
  owner: number;
  gid: number;
  isRoot: boolean;
  options: ExecOptions;
  /** The app being started; its pid is filled in by setAppPid once the launcher runs. */
  app: RegisteredApp;
  progress(message: string): void;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;
/** Namespaces one non-root user may hold at once (the pool has 254 for everyone). */
const MAX_PER_USER = 32;
export const PREFIX_RE = /^[a-z][a-z0-9]{0,7}$/;

/** Options the daemon cannot honour yet: refused by name rather than silently ignored. */
const NOT_YET: [keyof ExecOptions, string][] = [];

export class NamespaceManager {
  /** Stops of the -f/--forward proxies this process runs, by namespace. */
  private readonly forwarders = new Map<string, () => Promise<void>>();

  constructor(private readonly cfg: ManagerConfig) {}

  /** Finds or creates the caller's namespace for these options and registers the app in it. */
  acquire(req: AcquireRequest): Promise<{ state: NetnsState; created: boolean }> {
    this.refuseUnsupported(req.options);
    req.options.hosts.forEach(hostsLine); // bad entries fail before anything is made
    const name = this.nameFor(req.owner, req.options);
    return this.cfg.registry.withLock(async () => {
      const existing = this.cfg.registry.get(name);
      if (existing) {
        if (existing.record.owner !== req.owner)
          throw new ProtocolError('denied', `namespace '${name}' belongs to another user`);
        this.refuseConflicts(existing.record, req.options);
        existing.apps.push(req.app);
        if (req.options.keepAlive || req.options.createNetnsOnly) existing.record.keepAlive = true;
        this.cfg.registry.put(existing);
        return { state: existing, created: false };
      }
      if (
        !req.isRoot &&
        this.cfg.registry.all().filter((s) => s.record.owner === req.owner).length >= MAX_PER_USER
      )
        throw new ProtocolError(
          'busy',
          `you already have ${MAX_PER_USER} namespaces; stop some first (vopono list, vopono stop)`,
        );
      // never adopt, and so never later delete, a namespace or /etc/netns entry vopono did not make
      if (existsSync(`/run/netns/${name}`) || existsSync(`/etc/netns/${name}`))
        throw new ProtocolError(
          'conflict',
          `a network namespace '${name}' already exists and is not vopono's; choose another --custom-netns-name`,
        );
      const record = await this.create(name, req);
      const state: NetnsState = { record, apps: [req.app] };
      this.cfg.registry.put(state);
      return { state, created: true };
    });
  }

  setAppPid(name: string, session: string, pid: number): Promise<void> {
    return this.cfg.registry.withLock(async () => {
      const state = this.cfg.registry.get(name);
      const app = state?.apps.find((a) => a.session === session);
      if (!state || !app) return;
      app.pid = pid;
      app.startTicks = processStartTicks(pid);
      this.cfg.registry.put(state);
    });
  }

  /** Removes the app; the namespace goes with its last app unless kept alive. */
  release(name: string, session: string): Promise<void> {
    return this.cfg.registry.withLock(async () => {
      const state = this.cfg.registry.get(name);
      if (!state) return;
      state.apps = state.apps.filter((a) => a.session !== session);
      if (state.apps.length === 0 && !state.record.keepAlive) await this.teardown(state);
      else this.cfg.registry.put(state);
    });
  }

  /** Namespaces the caller may see: their own (root sees all). */
  async list(uid: number): Promise<NamespaceInfo[]> {
    const states = this.cfg.registry
      .all()
      .filter((s) => uid === 0 || s.record.owner === uid)
      .filter((s) => s.record.prefix === this.cfg.prefix);
    return Promise.all(states.map((s) => this.withTunnelStatus(s)));
  }

  /** The namespace as listed, with what its backend knows live (e.g. the last WireGuard handshake). */
  private async withTunnelStatus(s: NetnsState): Promise<NamespaceInfo> {
    const info = toInfo(s);
    const { vpn } = s.record;
    if (!vpn || !info.tunnel) return info;
    const backend = await loadBackend(s.record.protocol);
    if (!backend?.status) return info;
    const timeout = new Promise<{ lastHandshake?: number }>((r) => setTimeout(() => r({}), 1000).unref());
    const live: { lastHandshake?: number } = await Promise.race([
      backend.status(s.record, vpn, this.cfg.runner).catch(() => ({})),
      timeout,
    ]);
    if (live.lastHandshake !== undefined) info.tunnel.lastHandshake = live.lastHandshake;
    return info;
  }

  /** Stops a namespace (by name) or an app (by pid) the caller owns. */
  stop(uid: number, target: string): Promise<{ namespaces: string[]; pids: number[] }> {
    return this.cfg.registry.withLock(async () => {
      const mine = this.cfg.registry
        .all()
        .filter((s) => s.record.prefix === this.cfg.prefix && (uid === 0 || s.record.owner === uid));
      if (/^\d+$/.test(target)) {
        const pid = Number(target);
        const state = mine.find((s) => s.apps.some((a) => a.pid === pid));
        if (!state) throw new ProtocolError('not-found', `no app with pid ${pid} among your namespaces`);
        signalGroup(pid, 'SIGTERM');
        return { namespaces: [], pids: [pid] };
      }
      const state = mine.find((s) => s.record.name === target);
      if (!state) throw new ProtocolError('not-found', `no namespace '${target}' of yours`);
      const pids = state.apps.map((a) => a.pid).filter((p) => p > 0);
      for (const pid of pids) signalGroup(pid, 'SIGTERM');
      if (pids.length === 0) await this.teardown(state);
      else {
        // the apps' sessions release it as they exit; make sure it does not outlive them
        state.record.keepAlive = false;
        this.cfg.registry.put(state);
      }
      return { namespaces: [state.record.name], pids };
    });
  }

  /**
   * After a restart: drop apps whose supervising process or own process is gone, tear down
   * namespaces left without apps, adopt the rest. Only records of this prefix are touched.
   */
  /** Returns whether anything changed. */
  reconcile(): Promise<boolean> {
    return this.cfg.registry.withLock(async () => {
      let changed = false;
      for (const state of this.cfg.registry.all()) {
        if (state.record.prefix !== this.cfg.prefix) continue;
        const before = state.apps.length;
        state.apps = state.apps.filter((a) => appAlive(a));
        if (state.apps.length === 0 && !state.record.keepAlive) {
          log(`reconcile: removing namespace ${state.record.name} (no app left)`);
          await this.teardown(state);
          changed = true;
        } else if (state.apps.length !== before) {
          this.cfg.registry.put(state);
          changed = true;
        }
      }
      return changed;
    });
  }

  /** Removes every namespace of this prefix (daemon shutdown). */
  stopAll(): Promise<void> {
    return this.cfg.registry.withLock(async () => {
      for (const state of this.cfg.registry.all())
        if (state.record.prefix === this.cfg.prefix) {
          for (const a of state.apps) if (a.pid > 0) signalGroup(a.pid, 'SIGHUP');
          await this.teardown(state);
        }
    });
  }

  nameFor(owner: number, o: ExecOptions): string {
    if (o.customNetnsName !== undefined) {
      if (!NAME_RE.test(o.customNetnsName))
        throw new ProtocolError(
          'bad-request',
          `namespace name '${o.customNetnsName}' is not valid: use letters, digits, '_', '.', '-' (at most 40)`,
        );
      return o.customNetnsName;
    }
    const provider = o.provider.toLowerCase();
    const server = o.server ?? (o.customConfig ? o.customConfig.name.replace(/\.[^.]*$/, '') : undefined);
    const parts = [this.cfg.prefix, provider, ...(server ? [server] : []), `u${owner}`];
    return parts
      .join('_')
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 60);
  }

  private refuseUnsupported(o: ExecOptions): void {
    for (const [key, flag] of NOT_YET) {
      const v = o[key];
      if (v === undefined || v === false || (Array.isArray(v) && v.length === 0)) continue;
      throw new ProtocolError('unsupported', `${flag} is not supported yet`);
    }
  }

  private refuseConflicts(r: NetnsRecord, o: ExecOptions): void {
    const diffs: string[] = [];
    const protocol = protocolOf(o);
    if (protocol !== r.protocol) diffs.push(`protocol ${r.protocol} (asked ${protocol})`);
    if (o.dns.length > 0 && o.dns.join(',') !== r.dns.join(','))
      diffs.push(`DNS ${r.dns.join(',')} (asked ${o.dns.join(',')})`);
    const ro = r.options;
    if (o.noKillswitch !== ro.noKillswitch)
      diffs.push(`--no-killswitch ${ro.noKillswitch} (asked ${o.noKillswitch})`);
    if (o.disableIpv6 !== ro.disableIpv6)
      diffs.push(`--disable-ipv6 ${ro.disableIpv6} (asked ${o.disableIpv6})`);
    if ((o.firewall ?? 'nftables') !== (ro.firewall ?? 'nftables'))
      diffs.push(`--firewall ${ro.firewall ?? 'nftables'} (asked ${o.firewall ?? 'nftables'})`);
    if (o.allowHostAccess !== ro.allowHostAccess)
      diffs.push(`--allow-host-access ${ro.allowHostAccess} (asked ${o.allowHostAccess})`);
    for (const [key, flag] of [
      ['openPorts', '--open-ports'],
      ['forward', '--forward'],
      ['openHosts', '--open-hosts'],
    ] as const) {
      const want = [...o[key]].sort().join(',');
      if (want !== '' && want !== [...ro[key]].sort().join(','))
        diffs.push(`${flag} ${ro[key].join(',') || 'none'} (asked ${want})`);
    }
    if (diffs.length > 0)
      throw new ProtocolError(
        'conflict',
        `namespace '${r.name}' already runs with other options: ${diffs.join('; ')}. ` +
          `Stop it first (vopono stop ${r.name}) or choose another name with --custom-netns-name`,
      );
  }

  private async create(name: string, req: AcquireRequest): Promise<NetnsRecord> {
    const o = req.options;
    const protocol = protocolOf(o);
    let backend: VpnBackend | undefined;
    if (protocol !== 'none') {
      backend = await loadBackend(protocol);
      if (!backend) throw new ProtocolError('unsupported', `protocol '${protocol}' is not supported`);
      if (!o.customConfig)
        throw new ProtocolError(
          'bad-request',
          `protocol '${protocol}' needs a config (--custom FILE or a synced provider)`,
        );
    }
    const index = await this.freeIndex();
    const [a, b] = this.cfg.pool;
    const p = this.cfg.prefix;
    const record: NetnsRecord = {
      name,
      owner: req.owner,
      index,
      provider: o.provider.toLowerCase(),
      server: o.server ?? o.customConfig?.name,
      protocol,
      hostVeth: `${p}${index}_d`,
      nsVeth: `${p}${index}_s`,
      hostIp: `${a}.${b}.${index}.1`,
      nsIp: `${a}.${b}.${index}.2`,
      subnet: `${a}.${b}.${index}.0/24`,
      dns: [],
      keepAlive: o.keepAlive || o.createNetnsOnly,
      createdAt: Date.now(),
      options: {
        firewall: o.firewall,
        noKillswitch: o.noKillswitch,
        disableIpv6: o.disableIpv6,
        openPorts: o.openPorts,
        forward: o.forward,
        allowHostAccess: o.allowHostAccess,
        openHosts: o.openHosts,
      },
      prefix: p,
    };
    req.progress(`creating network namespace ${name}`);
    const state: NetnsState = { record, apps: [] };
    // saved first, so that a crash half way is still found and cleaned by reconcile
    this.cfg.registry.put(state);
    try {
      // NAT through the host's uplink: for the default route (none, OpenVPN) and for --open-hosts,
      // whose addresses bypass the tunnel through the veth
      const defaultRoute = backend?.needsUplink ?? true;
      await this.createLinks(record, defaultRoute, defaultRoute || o.openHosts.length > 0, o.interface);
      let dns = o.dns;
      if (backend && o.customConfig) {
        req.progress(`bringing up ${protocol}`);
        const up = await backend.up({
          ns: record,
          config: o.customConfig,
          options: o,
          uid: req.owner,
          gid: req.gid,
          isRoot: req.isRoot,
          progress: req.progress,
          runner: this.cfg.runner,
        });
        record.vpn = up.state;
        if (dns.length === 0) dns = up.dns;
      } else if (dns.length === 0) dns = hostResolvers();
      record.dns = dns;
      this.writeEtcFiles(record, o);
      await this.startExtras(record, req);
      return record;
    } catch (err) {
      log(`setup of ${name} failed, cleaning up: ${err instanceof Error ? err.message : String(err)}`);
      await this.teardown(state);
      throw err instanceof ProtocolError
        ? err
        : new ProtocolError(
            'setup-failed',
            `could not set up namespace ${name}: ${err instanceof Error ? err.message : String(err)}`,
          );
    }
  }

  /** -f proxies and --postup: after the tunnel is up, before the first app runs. */
  private async startExtras(r: NetnsRecord, req: AcquireRequest): Promise<void> {
    const o = req.options;
    const vpn = await import('./vpn/index.js');
    if (o.forward.length > 0 && !o.noProxy) {
      if (!req.isRoot && o.forward.some((p) => p < 1024))
        throw new ProtocolError(
          'denied',
          `forwarding host ports below 1024 (${o.forward.filter((p) => p < 1024).join(', ')}) needs root`,
        );
      req.progress(`forwarding host port(s) ${o.forward.join(', ')} to the namespace`);
      this.forwarders.set(r.name, await vpn.startForwarders(r, o.forward));
    }
    if (o.predown !== undefined) {
      r.predown = o.predown;
      r.ownerGid = req.gid;
    }
    if (o.postup !== undefined) {
      req.progress('running --postup');
      const res = await vpn.runHook(o.postup, { uid: req.owner, gid: req.gid, ns: r });
      if (res.code !== 0)
        throw new ProtocolError(
          'setup-failed',
          `--postup failed (${res.signal ?? `exit ${res.code}`}): ${res.output.trim().split('\n').slice(-3).join(' / ')}`,
        );
    }
  }

  private async createLinks(
    r: NetnsRecord,
    defaultRoute: boolean,
    nat: boolean,
    iface: string | undefined,
  ): Promise<void> {
    const { run } = this.cfg.runner;
    if (iface !== undefined) {
      if (
        !/^[A-Za-z0-9_.:@-]{1,15}$/.test(iface) ||
        !(await run('ip', ['link', 'show', 'dev', iface]).then(
          () => true,
          () => false,
        ))
      )
        throw new ProtocolError(
          'bad-request',
          `interface '${iface}' does not exist on the host (see ip link)`,
        );
    }
    await run('ip', ['netns', 'add', r.name]);
    await run('ip', ['link', 'add', r.hostVeth, 'type', 'veth', 'peer', 'name', r.nsVeth, 'netns', r.name]);
    await run('ip', ['addr', 'add', `${r.hostIp}/24`, 'dev', r.hostVeth]);
    await run('ip', ['link', 'set', r.hostVeth, 'up']);
    const inside = [
      'link set lo up',
      `addr add ${r.nsIp}/24 dev ${r.nsVeth}`,
      `link set ${r.nsVeth} up`,
      ...(defaultRoute ? [`route add default via ${r.hostIp}`] : []),
    ].join('\n');
    await run('ip', ['-n', r.name, '-batch', '-'], { input: inside + '\n' });
    if (r.options.disableIpv6)
      await this.cfg.runner.runInNs(r.name, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    if (!nat) return;
    const uplink = iface ?? (await defaultUplink(this.cfg.runner));
    r.uplink = uplink;
    writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
    const table = natTable(r);
    const rules = `table ip ${table} {
  chain postrouting { type nat hook postrouting priority srcnat; policy accept; ip saddr ${r.subnet} oifname "${uplink}" masquerade; }
  chain forward { type filter hook forward priority filter; policy accept;
    iifname "${r.hostVeth}" oifname "${uplink}" accept;
    iifname "${uplink}" oifname "${r.hostVeth}" ct state established,related accept; }
}
`;
    await run('nft', ['-f', '-'], { input: rules });
  }

  private writeEtcFiles(r: NetnsRecord, o: ExecOptions): void {
    const dir = `/etc/netns/${r.name}`;
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    writeFileSync(
      `${dir}/resolv.conf`,
      `# written by vopono for namespace ${r.name}\n${r.dns.map((d) => `nameserver ${d}\n`).join('')}`,
    );
    const hosts = [
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      `127.0.1.1\t${hostname()}`,
      ...(o.allowHostAccess ? [`${r.hostIp}\tvopono.host`] : []),
      ...o.hosts.map(hostsLine),
    ];
    writeFileSync(`${dir}/hosts`, hosts.join('\n') + '\n');
    writeFileSync(`${dir}/nsswitch.conf`, namespaceNsswitch());
  }

  private async teardown(state: NetnsState): Promise<void> {
    const r = state.record;
    const { run } = this.cfg.runner;
    const quiet = (p: Promise<unknown>): Promise<unknown> => p.catch(() => undefined);
    if (r.predown !== undefined) {
      const { runHook } = await import('./vpn/hooks.js');
      const res = await runHook(r.predown, { uid: r.owner, gid: r.ownerGid ?? r.owner, ns: r }).catch(
        (e: unknown) => ({ code: -1, signal: null, output: String(e) }),
      );
      if (res.code !== 0)
        log(`--predown of ${r.name} failed (${res.signal ?? res.code}): ${res.output.trim().slice(-200)}`);
    }
    const stopForwarders = this.forwarders.get(r.name);
    this.forwarders.delete(r.name);
    if (stopForwarders) await quiet(stopForwarders());
    if (r.protocol !== 'none') {
      // also with no saved state (a setup cut short): down() finds its pids and names itself
      const backend = await loadBackend(r.protocol);
      if (backend) await quiet(backend.down(r, r.vpn ?? {}, this.cfg.runner));
    }
    await killLeftovers(r.name, this.cfg.runner);
    await quiet(run('nft', ['delete', 'table', 'ip', natTable(r)]));
    await quiet(run('ip', ['link', 'del', r.hostVeth]));
    await quiet(run('ip', ['netns', 'del', r.name]));
    rmSync(`/etc/netns/${r.name}`, { recursive: true, force: true });
    this.cfg.registry.remove(r.name);
    log(`namespace ${r.name} removed`);
  }

  private async freeIndex(): Promise<number> {
    const used = new Set(this.cfg.registry.all().map((s) => s.record.index));
    const taken = await hostSubnets(this.cfg.runner);
    // link names someone else already uses (ours would collide, and teardown would delete theirs)
    const links = new Set(
      (await this.cfg.runner.run('ip', ['-o', 'link', 'show']).catch(() => ''))
        .split('\n')
        .map((l) => l.split(': ')[1]?.split('@')[0] ?? ''),
    );
    const [a, b] = this.cfg.pool;
    const p = this.cfg.prefix;
    for (let i = 1; i < 255; i++) {
      if (used.has(i) || links.has(`${p}${i}_d`) || links.has(`${p}${i}_s`)) continue;
      if (taken.some(([net, len]) => overlaps(net, len, (a << 24) | (b << 16) | (i << 8), 24))) continue;
      // one table looked up, not all listed: `nft list tables` grows slow with hundreds of them
      const tableTaken = await this.cfg.runner.run('nft', ['list', 'table', 'ip', `${p}${i}_nat`]).then(
        () => true,
        () => false,
      );
      if (!tableTaken) return i;
    }
    throw new ProtocolError('setup-failed', `no free /24 left in ${a}.${b}.0.0/16 for a new namespace`);
  }
}

export function protocolOf(o: ExecOptions): string {
  if (o.provider.toLowerCase() === 'none') return 'none';
  if (o.protocol) return o.protocol.toLowerCase();
  if (o.customConfig) return /^\s*\[Interface\]/m.test(o.customConfig.content) ? 'wireguard' : 'openvpn';
  return 'wireguard';
}

/** A --hosts entry, "IP NAME [NAME...]" or upstream-style "NAME=IP", checked before it reaches a root-written file. */
function hostsLine(entry: string): string {
  const eq = /^([A-Za-z0-9.-]+)=(\S+)$/.exec(entry.trim());
  const [ip, ...names] = eq ? [eq[2]!, eq[1]!] : entry.trim().split(/\s+/);
  if (
    !ip ||
    isIP(ip) === 0 ||
    names.length === 0 ||
    !names.every((n) => /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(n))
  )
    throw new ProtocolError(
      'bad-request',
      `--hosts entry '${entry.slice(0, 80)}' is not "IP NAME" (or NAME=IP)`,
    );
  return `${ip}\t${names.join(' ')}`;
}

function natTable(r: NetnsRecord): string {
  return `${r.prefix}${r.index}_nat`;
}

function toInfo(s: NetnsState): NamespaceInfo {
  const r = s.record;
  const info: NamespaceInfo = {
    name: r.name,
    owner: r.owner,
    provider: r.provider,
    protocol: r.protocol,
    hostIp: r.hostIp,
    nsIp: r.nsIp,
    dns: r.dns,
    keepAlive: r.keepAlive,
    createdAt: r.createdAt,
    apps: s.apps
      .filter((a) => a.pid > 0)
      .map((a) => ({ pid: a.pid, uid: a.uid, command: a.command, startedAt: a.startedAt })),
  };
  if (r.server !== undefined) info.server = r.server;
  const endpoint = r.vpn?.endpoint;
  if (r.protocol !== 'none')
    info.tunnel = { kind: r.protocol, ...(typeof endpoint === 'string' ? { endpoint } : {}) };
  return info;
}

export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function appAlive(a: RegisteredApp): boolean {
  // not started yet: alive while the process setting it up lives
  if (a.pid <= 0) return a.manager === process.pid || processStartTicks(a.manager) !== undefined;
  return processStartTicks(a.pid) === a.startTicks;
}

async function killLeftovers(ns: string, runner: CommandRunner): Promise<void> {
  const list = async (): Promise<number[]> =>
    (await runner.run('ip', ['netns', 'pids', ns]).catch(() => ''))
      .split('\n')
      .filter((l) => /^\d+$/.test(l.trim()))
      .map(Number);
  let pids = await list();
  if (pids.length === 0) return;
  for (const pid of pids) signalGroup(pid, 'SIGTERM');
  for (let i = 0; i < 20 && pids.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    pids = await list();
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

async function defaultUplink(runner: CommandRunner): Promise<string> {
  const out = await runner.run('ip', ['-4', 'route', 'show', 'default']);
  const m = /\bdev\s+(\S+)/.exec(out);
  if (!m)
    throw new ProtocolError('setup-failed', 'the host has no default IPv4 route to share with the namespace');
  return m[1]!;
}

/** IPv4 networks the host already routes (prefix length ≥ 16; broader routes don't hide a /24). */
async function hostSubnets(runner: CommandRunner): Promise<[number, number][]> {
  const out = await runner.run('ip', ['-4', 'route', 'show', 'table', 'all']).catch(() => '');
  const nets: [number, number][] = [];
  for (const line of out.split('\n')) {
    const m = /^(?:\S+\s+)?(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?\s/.exec(line);
    if (!m) continue;
    const len = m[5] ? Number(m[5]) : 32;
    if (len < 16) continue;
    nets.push([(Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4]), len]);
  }
  return nets;
}

function overlaps(a: number, alen: number, b: number, blen: number): boolean {
  const len = Math.min(alen, blen);
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return ((a >>> 0) & mask) >>> 0 === ((b >>> 0) & mask) >>> 0;
}

/** The host's resolvers that a namespace can reach (not loopback ones such as systemd-resolved). */
function hostResolvers(): string[] {
  let text = '';
  try {
    text = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    // none
  }
  const found = [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)]
    .map((m) => m[1]!)
    .filter((ip) => !ip.startsWith('127.') && ip !== '::1');
  return found.length > 0 ? found : ['8.8.8.8'];
}

/** The host's nsswitch.conf with hosts resolved from files and DNS only (no host-side daemons). */
function namespaceNsswitch(): string {
  let text = '';
  try {
    text = readFileSync('/etc/nsswitch.conf', 'utf8');
  } catch {
    text = 'passwd: files\ngroup: files\nshadow: files\n';
  }
  const lines = text.split('\n').filter((l) => !/^\s*hosts\s*:/.test(l));
  return `# written by vopono: names resolve through the namespace's own resolver only\nhosts: files dns\n${lines.join('\n')}`;
}
