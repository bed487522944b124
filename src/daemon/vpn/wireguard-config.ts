// wg-quick style WireGuard configuration: parsing (with line-numbered errors) and rendering of the
// subset `wg setconf` accepts. Pure functions; no I/O.
import { isIP } from 'node:net';

export interface Cidr {
  address: string;
  prefix: number;
  family: 4 | 6;
}

export interface Endpoint {
  host: string;
  port: number;
}

export interface WireguardPeer {
  publicKey: string;
  presharedKey?: string;
  endpoint?: Endpoint;
  allowedIps: Cidr[];
  persistentKeepalive?: number;
}

export interface WireguardConfig {
  privateKey: string;
  addresses: Cidr[];
  /** Resolver addresses from DNS = (IPs only). */
  dns: string[];
  /** Non-IP entries of DNS = (wg-quick treats them as search domains). */
  searchDomains: string[];
  mtu?: number;
  listenPort?: number;
  peers: WireguardPeer[];
}

export interface ConfigProblem {
  line: number;
  message: string;
}

export class WireguardConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super('invalid WireGuard config:\n' + problems.map((p) => `  line ${p.line}: ${p.message}`).join('\n'));
    this.name = 'WireguardConfigError';
  }
}

const KEY_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** wg-quick keys that run programs or change host state: named explicitly in the refusal. */
const REFUSED_INTERFACE_KEYS = new Set([
  'preup',
  'postup',
  'predown',
  'postdown',
  'saveconfig',
  'table',
  'fwmark',
]);

export function isWireguardKey(s: string): boolean {
  return KEY_RE.test(s);
}

export function parseCidr(text: string, defaultToHost: boolean): Cidr | string {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = slash === -1 ? t : t.slice(0, slash);
  const family = isIP(addr);
  if (family !== 4 && family !== 6) return `'${addr}' is not an IP address`;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const p = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return `'${p}' is not a prefix length for IPv${family}`;
    prefix = Number(p);
  } else if (!defaultToHost) {
    return `'${t}' has no prefix length`;
  }
  return { address: addr, prefix, family };
}

export function parseEndpoint(text: string): Endpoint | string {
  const t = text.trim();
  let host: string;
  let port: string;
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close === -1 || t[close + 1] !== ':') return `'${t}' is not [address]:port`;
    host = t.slice(1, close);
    port = t.slice(close + 2);
    if (isIP(host) !== 6) return `'${host}' is not an IPv6 address`;
  } else {
    const colon = t.lastIndexOf(':');
    if (colon <= 0) return `'${t}' is not host:port`;
    host = t.slice(0, colon);
    port = t.slice(colon + 1);
    if (host.includes(':')) return `'${t}': write IPv6 endpoints as [address]:port`;
    if (
      isIP(host) === 0 &&
      !/^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$/.test(host)
    ) {
      return `'${host}' is not a host name or address`;
    }
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return `'${port}' is not a port`;
  return { host, port: Number(port) };
}

function intIn(value: string, min: number, max: number): number | undefined {
  if (!/^\d{1,6}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

/** Parses a wg-quick configuration. Throws WireguardConfigError listing every problem with its line. */
export function parseWireguardConfig(text: string): WireguardConfig {
  const problems: ConfigProblem[] = [];
  const cfg: WireguardConfig = { privateKey: '', addresses: [], dns: [], searchDomains: [], peers: [] };
  let section: 'none' | 'interface' | 'peer' = 'none';
  let sawInterface = false;
  let peer: WireguardPeer | undefined;
  const peersWithKeyLine = new Set<WireguardPeer>();
  const peerKeyLines = new Map<WireguardPeer, number>();
  let privateKeyLine = 0;
  const seen = new Set<string>();

  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const n = i + 1;
    const hash = raw.indexOf('#');
    const line = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    if (line === '' || line.startsWith(';')) return;
    const err = (message: string): void => {
      problems.push({ line: n, message });
    };
    if (line.startsWith('[')) {
      const name = line.toLowerCase();
      if (name === '[interface]') {
        if (sawInterface) err('a second [Interface] section');
        sawInterface = true;
        section = 'interface';
      } else if (name === '[peer]') {
        section = 'peer';
        peer = { publicKey: '', allowedIps: [] };
        peerKeyLines.set(peer, n);
        cfg.peers.push(peer);
      } else {
        err(`unknown section ${line}`);
        section = 'none';
      }
      seen.clear();
      return;
    }
    const eq = line.indexOf('=');
    if (eq === -1) {
      err(`'${line}' is not 'Key = Value'`);
      return;
    }
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const k = key.toLowerCase();
    if (section === 'none') {
      err(`'${key}' outside of an [Interface] or [Peer] section`);
      return;
    }
    const list = (): string[] =>
      value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    const once = (): boolean => {
      if (seen.has(k)) {
        err(`${key} given twice in this section`);
        return false;
      }
      seen.add(k);
      return true;
    };
    if (section === 'interface') {
      switch (k) {
        case 'privatekey':
          if (!once()) return;
          if (!KEY_RE.test(value)) err('PrivateKey is not a base64 WireGuard key');
          else cfg.privateKey = value;
          privateKeyLine = n;
          return;
        case 'address':
          for (const item of list()) {
            const c = parseCidr(item, true);
            if (typeof c === 'string') err(`Address: ${c}`);
            else cfg.addresses.push(c);
          }
          return;
        case 'dns':
          for (const item of list()) {
            if (isIP(item) !== 0) cfg.dns.push(item);
            else if (/^[A-Za-z0-9.-]{1,253}$/.test(item)) cfg.searchDomains.push(item);
            else err(`DNS: '${item}' is neither an IP address nor a search domain`);
          }
          return;
        case 'mtu': {
          if (!once()) return;
          const v = intIn(value, 576, 65535);
          if (v === undefined) err(`MTU '${value}' is not a number between 576 and 65535`);
          else cfg.mtu = v;
          return;
        }
        case 'listenport': {
          if (!once()) return;
          const v = intIn(value, 0, 65535);
          if (v === undefined) err(`ListenPort '${value}' is not a port`);
          else cfg.listenPort = v;
          return;
        }
        default:
          if (REFUSED_INTERFACE_KEYS.has(k))
            err(`${key} is not supported by vopono (it would run commands or change the host)`);
          else err(`unknown key '${key}' in [Interface]`);
          return;
      }
    }
    // [Peer]
    const p = peer;
    if (p === undefined) return;
    switch (k) {
      case 'publickey':
        if (!once()) return;
        peersWithKeyLine.add(p);
        if (!KEY_RE.test(value)) err('PublicKey is not a base64 WireGuard key');
        else p.publicKey = value;
        return;
      case 'presharedkey':
        if (!once()) return;
        if (!KEY_RE.test(value)) err('PresharedKey is not a base64 WireGuard key');
        else p.presharedKey = value;
        return;
      case 'endpoint': {
        if (!once()) return;
        const e = parseEndpoint(value);
        if (typeof e === 'string') err(`Endpoint: ${e}`);
        else p.endpoint = e;
        return;
      }
      case 'allowedips':
        for (const item of list()) {
          const c = parseCidr(item, true);
          if (typeof c === 'string') err(`AllowedIPs: ${c}`);
          else p.allowedIps.push(c);
        }
        return;
      case 'persistentkeepalive': {
        if (!once()) return;
        if (value.toLowerCase() === 'off') return;
        const v = intIn(value, 0, 65535);
        if (v === undefined) err(`PersistentKeepalive '${value}' is not a number of seconds`);
        else if (v > 0) p.persistentKeepalive = v;
        return;
      }
      default:
        err(`unknown key '${key}' in [Peer]`);
        return;
    }
  });

  if (!sawInterface) problems.push({ line: 1, message: 'no [Interface] section' });
  else if (privateKeyLine === 0) problems.push({ line: 1, message: '[Interface] has no PrivateKey' });
  if (sawInterface && cfg.addresses.length === 0)
    problems.push({ line: 1, message: '[Interface] has no Address' });
  if (cfg.peers.length === 0 && sawInterface)
    problems.push({ line: lines.length, message: 'no [Peer] section' });
  for (const [p, at] of peerKeyLines) {
    if (!peersWithKeyLine.has(p)) problems.push({ line: at, message: '[Peer] has no PublicKey' });
  }
  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line);
    throw new WireguardConfigError(problems);
  }
  return cfg;
}

export function formatCidr(c: Cidr): string {
  return `${c.address}/${c.prefix}`;
}

export function formatEndpoint(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Renders what `wg setconf` accepts (no Address/DNS/MTU). `endpoints` maps each peer (by index)
 * to its resolved address; host names must be resolved before (on the host).
 */
export function renderSetconf(cfg: WireguardConfig, endpoints: (string | undefined)[]): string {
  const out: string[] = ['[Interface]', `PrivateKey = ${cfg.privateKey}`];
  if (cfg.listenPort !== undefined) out.push(`ListenPort = ${cfg.listenPort}`);
  cfg.peers.forEach((p, i) => {
    out.push('', '[Peer]', `PublicKey = ${p.publicKey}`);
    if (p.presharedKey !== undefined) out.push(`PresharedKey = ${p.presharedKey}`);
    const ep = endpoints[i];
    if (p.endpoint !== undefined && ep !== undefined)
      out.push(`Endpoint = ${formatEndpoint(ep, p.endpoint.port)}`);
    if (p.allowedIps.length > 0) out.push(`AllowedIPs = ${p.allowedIps.map(formatCidr).join(', ')}`);
    if (p.persistentKeepalive !== undefined) out.push(`PersistentKeepalive = ${p.persistentKeepalive}`);
  });
  return out.join('\n') + '\n';
}
