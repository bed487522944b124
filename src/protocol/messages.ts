// Every message that crosses /run/vopono.sock, both ways, and the checks that turn an untrusted
// decoded value into one of them. The daemon trusts nothing a client sends: each field is checked
// for type and bounds here, once, so the rest of the code works on typed values.

import { isIP } from 'node:net';

export const PROTOCOL_VERSION = 1;

/** Options of an exec request. Names follow upstream vopono's flags. */
export interface ExecOptions {
  provider: string;
  server?: string;
  protocol?: string;
  /** Config file content read by the client (never a path: the daemon opens no user path). */
  customConfig?: { name: string; content: string };
  dns: string[];
  interface?: string;
  keepAlive: boolean;
  createNetnsOnly: boolean;
  customNetnsName?: string;
  noKillswitch: boolean;
  firewall?: 'nftables' | 'iptables';
  openPorts: number[];
  forward: number[];
  noProxy: boolean;
  disableIpv6: boolean;
  allowHostAccess: boolean;
  openHosts: string[];
  hosts: string[];
  postup?: string;
  predown?: string;
  /** OpenVPN credentials typed by the user (or read from the provider's auth file by the client). */
  credentials?: { username: string; password: string };
}

/** Upstream's defaults for an exec: killswitch on, nothing extra. */
export function defaultExecOptions(provider: string, over: Partial<ExecOptions> = {}): ExecOptions {
  return {
    provider,
    dns: [],
    keepAlive: false,
    createNetnsOnly: false,
    noKillswitch: false,
    openPorts: [],
    forward: [],
    noProxy: false,
    disableIpv6: false,
    allowHostAccess: false,
    openHosts: [],
    hosts: [],
    ...over,
  };
}

export interface WindowSize {
  cols: number;
  rows: number;
}

export interface TtyFlags {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

export type ClientMessage =
  | { t: 'hello'; version: number; client: string }
  | {
      t: 'exec';
      argv: string[];
      cwd: string;
      env: string[];
      options: ExecOptions;
      tty: TtyFlags;
      winsize?: WindowSize;
      /** The client's umask, applied to the app. */
      umask?: number;
    }
  | { t: 'resize'; cols: number; rows: number }
  | { t: 'signal'; signal: ForwardedSignal }
  | { t: 'list' }
  | { t: 'stop'; target: string }
  | { t: 'subscribe' };

export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;
export type ForwardedSignal = (typeof FORWARDED_SIGNALS)[number];

export interface AppInfo {
  pid: number;
  uid: number;
  command: string[];
  startedAt: number;
}

export interface NamespaceInfo {
  name: string;
  owner: number;
  provider: string;
  server?: string;
  protocol: string;
  hostIp: string;
  nsIp: string;
  dns: string[];
  keepAlive: boolean;
  createdAt: number;
  apps: AppInfo[];
  /** Backend state the daemon knows, e.g. last WireGuard handshake (ms since epoch). */
  tunnel?: { kind: string; lastHandshake?: number; endpoint?: string };
}

export const ERROR_CODES = [
  'bad-request',
  'bad-version',
  'bad-fds',
  'too-large',
  'timeout',
  'busy',
  'denied',
  'not-found',
  'unsupported',
  'setup-failed',
  'launch-failed',
  'conflict',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export type DaemonMessage =
  | { t: 'welcome'; version: number; daemon: string }
  | { t: 'started'; pid: number; namespace: string; created: boolean }
  | { t: 'progress'; message: string }
  | { t: 'error'; code: ErrorCode; message: string; hint?: string; exitCode?: number }
  | { t: 'exit'; code: number | null; signal: string | null }
  | { t: 'list-result'; namespaces: NamespaceInfo[] }
  | { t: 'stopped'; namespaces: string[]; pids: number[] }
  | { t: 'changed'; namespaces: NamespaceInfo[] };

export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// ---- validation helpers: each throws ProtocolError('bad-request') naming the field ----

type Rec = Record<string, unknown>;

function bad(field: string, what: string): never {
  throw new ProtocolError('bad-request', `field '${field}' ${what}`);
}

function isRecord(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

function str(o: Rec, key: string, max = 4096): string {
  const v = o[key];
  if (typeof v !== 'string') bad(key, 'must be a string');
  if (v.length > max) bad(key, `is longer than ${max} characters`);
  if (v.includes('\0')) bad(key, 'contains a NUL byte');
  return v;
}

function optStr(o: Rec, key: string, max = 4096): string | undefined {
  return o[key] === undefined || o[key] === null ? undefined : str(o, key, max);
}

function bool(o: Rec, key: string): boolean {
  const v = o[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') bad(key, 'must be true or false');
  return v;
}

function int(o: Rec, key: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    bad(key, `must be an integer from ${min} to ${max}`);
  return v;
}

function strList(o: Rec, key: string, maxItems: number, maxLen: number, total = Infinity): string[] {
  const v = o[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) bad(key, 'must be a list');
  if (v.length > maxItems) bad(key, `has more than ${maxItems} items`);
  let size = 0;
  return v.map((item, i) => {
    if (typeof item !== 'string') bad(`${key}[${i}]`, 'must be a string');
    if (item.length > maxLen) bad(`${key}[${i}]`, `is longer than ${maxLen} characters`);
    if (item.includes('\0')) bad(`${key}[${i}]`, 'contains a NUL byte');
    size += item.length;
    if (size > total) bad(key, `is larger than ${total} characters in all`);
    return item;
  });
}

function portList(o: Rec, key: string): number[] {
  const v = o[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > 64) bad(key, 'must be a list of at most 64 ports');
  return v.map((p, i) => {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535)
      bad(`${key}[${i}]`, 'must be a port from 1 to 65535');
    return p;
  });
}

function record(v: unknown, field: string): Rec {
  if (!isRecord(v)) bad(field, 'must be a map');
  return v;
}

function parseOptions(v: unknown): ExecOptions {
  const o = record(v, 'options');
  const firewall = optStr(o, 'firewall', 16);
  if (firewall !== undefined && firewall !== 'nftables' && firewall !== 'iptables')
    bad('firewall', "must be 'nftables' or 'iptables'");
  let customConfig: ExecOptions['customConfig'];
  if (o.customConfig !== undefined && o.customConfig !== null) {
    const c = record(o.customConfig, 'customConfig');
    customConfig = { name: str(c, 'name', 255), content: str(c, 'content', 256 * 1024) };
  }
  let credentials: ExecOptions['credentials'];
  if (o.credentials !== undefined && o.credentials !== null) {
    const c = record(o.credentials, 'credentials');
    credentials = { username: str(c, 'username', 512), password: str(c, 'password', 512) };
  }
  return {
    provider: str(o, 'provider', 64),
    server: optStr(o, 'server', 255),
    protocol: optStr(o, 'protocol', 32),
    customConfig,
    dns: strList(o, 'dns', 16, 64).map((d, i) =>
      isIP(d) ? d : bad(`dns[${i}]`, `${JSON.stringify(d.slice(0, 40))} is not an IP address`),
    ),
    interface: optStr(o, 'interface', 15),
    keepAlive: bool(o, 'keepAlive'),
    createNetnsOnly: bool(o, 'createNetnsOnly'),
    customNetnsName: optStr(o, 'customNetnsName', 64),
    noKillswitch: bool(o, 'noKillswitch'),
    firewall,
    openPorts: portList(o, 'openPorts'),
    forward: portList(o, 'forward'),
    noProxy: bool(o, 'noProxy'),
    disableIpv6: bool(o, 'disableIpv6'),
    allowHostAccess: bool(o, 'allowHostAccess'),
    openHosts: strList(o, 'openHosts', 64, 64),
    hosts: strList(o, 'hosts', 64, 255),
    postup: optStr(o, 'postup', 4096),
    predown: optStr(o, 'predown', 4096),
    credentials,
  };
}

/** Turns a decoded frame from a client into a typed message, or throws ProtocolError. */
export function parseClientMessage(v: unknown): ClientMessage {
  const o = record(v, 'message');
  const t = o.t;
  switch (t) {
    case 'hello':
      return { t, version: int(o, 'version', 0, 1 << 30), client: str(o, 'client', 64) };
    case 'exec': {
      const argv = strList(o, 'argv', 4096, 128 * 1024, 512 * 1024);
      if (argv.length === 0) bad('argv', 'must name a command');
      const tty = record(o.tty, 'tty');
      let winsize: WindowSize | undefined;
      if (o.winsize !== undefined && o.winsize !== null) {
        const w = record(o.winsize, 'winsize');
        winsize = { cols: int(w, 'cols', 1, 10000), rows: int(w, 'rows', 1, 10000) };
      }
      return {
        t,
        argv,
        cwd: str(o, 'cwd', 4096),
        env: strList(o, 'env', 4096, 128 * 1024, 512 * 1024),
        options: parseOptions(o.options),
        tty: { stdin: bool(tty, 'stdin'), stdout: bool(tty, 'stdout'), stderr: bool(tty, 'stderr') },
        winsize,
        umask: o.umask === undefined ? undefined : int(o, 'umask', 0, 0o777),
      };
    }
    case 'resize':
      return { t, cols: int(o, 'cols', 1, 10000), rows: int(o, 'rows', 1, 10000) };
    case 'signal': {
      const s = str(o, 'signal', 16);
      const known = FORWARDED_SIGNALS.find((x) => x === s);
      if (!known) bad('signal', `must be one of ${FORWARDED_SIGNALS.join(', ')}`);
      return { t, signal: known };
    }
    case 'list':
    case 'subscribe':
      return { t };
    case 'stop':
      return { t, target: str(o, 'target', 128) };
    default:
      throw new ProtocolError(
        'bad-request',
        `unknown message type ${JSON.stringify(String(t)).slice(0, 40)}`,
      );
  }
}

/** The client side trusts the daemon more, but still checks the shape it acts on. */
export function parseDaemonMessage(v: unknown): DaemonMessage {
  const o = record(v, 'message');
  switch (o.t) {
    case 'welcome':
      return { t: 'welcome', version: int(o, 'version', 0, 1 << 30), daemon: str(o, 'daemon', 64) };
    case 'started':
      return {
        t: 'started',
        pid: int(o, 'pid', 0, 1 << 30),
        namespace: str(o, 'namespace', 64),
        created: bool(o, 'created'),
      };
    case 'progress':
      return { t: 'progress', message: str(o, 'message', 4096) };
    case 'error': {
      const exitCode = o.exitCode === undefined ? undefined : int(o, 'exitCode', 0, 255);
      const code = str(o, 'code', 32);
      return {
        t: 'error',
        code: ERROR_CODES.find((c) => c === code) ?? 'internal',
        message: str(o, 'message', 16384),
        hint: optStr(o, 'hint', 4096),
        exitCode,
      };
    }
    case 'exit':
      return {
        t: 'exit',
        code: o.code === null || o.code === undefined ? null : int(o, 'code', 0, 255),
        signal: o.signal === null || o.signal === undefined ? null : str(o, 'signal', 16),
      };
    case 'list-result':
    case 'changed': {
      if (!Array.isArray(o.namespaces)) bad('namespaces', 'must be a list');
      return { t: o.t, namespaces: o.namespaces.map(parseNamespaceInfo) };
    }
    case 'stopped':
      return {
        t: 'stopped',
        namespaces: strList(o, 'namespaces', 10000, 128),
        pids: Array.isArray(o.pids) ? o.pids.filter((p): p is number => typeof p === 'number') : [],
      };
    default:
      throw new ProtocolError('bad-request', `unknown message from the daemon: ${String(o.t).slice(0, 40)}`);
  }
}

function parseApp(v: unknown, i: number): AppInfo {
  const a = record(v, `apps[${i}]`);
  return {
    pid: int(a, 'pid', 0, 1 << 30),
    uid: int(a, 'uid', 0, 2 ** 32 - 1),
    command: strList(a, 'command', 4096, 128 * 1024),
    startedAt: int(a, 'startedAt', 0, Number.MAX_SAFE_INTEGER),
  };
}

function parseNamespaceInfo(v: unknown, i: number): NamespaceInfo {
  const n = record(v, `namespaces[${i}]`);
  if (!Array.isArray(n.apps)) bad('apps', 'must be a list');
  const info: NamespaceInfo = {
    name: str(n, 'name', 128),
    owner: int(n, 'owner', 0, 2 ** 32 - 1),
    provider: str(n, 'provider', 64),
    protocol: str(n, 'protocol', 32),
    hostIp: str(n, 'hostIp', 64),
    nsIp: str(n, 'nsIp', 64),
    dns: strList(n, 'dns', 64, 64),
    keepAlive: bool(n, 'keepAlive'),
    createdAt: int(n, 'createdAt', 0, Number.MAX_SAFE_INTEGER),
    apps: n.apps.map(parseApp),
  };
  const server = optStr(n, 'server', 255);
  if (server !== undefined) info.server = server;
  if (n.tunnel !== undefined && n.tunnel !== null) {
    const t = record(n.tunnel, 'tunnel');
    info.tunnel = { kind: str(t, 'kind', 32) };
    const endpoint = optStr(t, 'endpoint', 255);
    if (endpoint !== undefined) info.tunnel.endpoint = endpoint;
    if (typeof t.lastHandshake === 'number') info.tunnel.lastHandshake = t.lastHandshake;
  }
  return info;
}
