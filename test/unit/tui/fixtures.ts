// Fakes for the TUI's edges: a catalogue with generated servers, a scriptable daemon connection,
// a recording step-aside launcher.
import { EventEmitter } from 'node:events';
import { defaultExecOptions, type ExecOptions, type NamespaceInfo } from '../../../src/protocol/messages.js';
import { staticCatalogue, type ProviderSummary, type ServerRow } from '../../../src/tui/catalogue.js';
import type { ExitStatus } from '../../../src/tui/format.js';
import type { DaemonConnection, LaunchHooks, LaunchRequest, TuiDeps } from '../../../src/tui/ports.js';

const COUNTRIES = [
  ['Sweden', 'Gothenburg', 'se-got'],
  ['Germany', 'Frankfurt', 'de-fra'],
  ['United States', 'New York', 'us-nyc'],
  ['Japan', 'Tokyo', 'jp-tyo'],
  ['Brazil', 'Sao Paulo', 'br-sao'],
  ['Switzerland', 'Zurich', 'ch-zrh'],
] as const;

export function makeServers(provider: string, n: number): ServerRow[] {
  const out: ServerRow[] = [];
  for (let i = 0; i < n; i++) {
    const [country, city, code] = COUNTRIES[i % COUNTRIES.length]!;
    const protocol = Math.floor(i / COUNTRIES.length) % 2 === 0 ? 'wireguard' : 'openvpn';
    const name = `${code}-${protocol === 'wireguard' ? 'wg' : 'ovpn'}-${String(i).padStart(4, '0')}`;
    out.push({
      provider,
      protocol,
      name,
      file: `/cfg/${provider}/${protocol}/${name}.conf`,
      country,
      city,
      host: `${name}.example.net`,
    });
  }
  return out;
}

export const PROVIDERS: ProviderSummary[] = [
  { name: 'mullvad', aliases: ['mv'], protocols: ['wireguard', 'openvpn'], synced: true, serverCount: 300 },
  { name: 'protonvpn', aliases: ['pr'], protocols: ['openvpn'], synced: false, serverCount: 0 },
  {
    name: 'custom',
    aliases: ['custom'],
    protocols: ['wireguard', 'openvpn'],
    synced: true,
    serverCount: 0,
    note: 'your own config',
  },
  { name: 'none', aliases: ['none'], protocols: ['none'], synced: true, serverCount: 0, note: 'no VPN' },
];

export function testCatalogue(serverCount = 300) {
  return staticCatalogue(PROVIDERS, makeServers('mullvad', serverCount));
}

export class FakeConnection extends EventEmitter implements DaemonConnection {
  namespaces: NamespaceInfo[] = [];
  stops: string[] = [];
  stopResult: { namespaces: string[]; pids: number[] } | Error = { namespaces: [], pids: [1] };
  private listener?: (ns: NamespaceInfo[]) => void;
  private closers: (() => void)[] = [];
  closed = false;
  list(): Promise<NamespaceInfo[]> {
    return Promise.resolve(this.namespaces);
  }
  stop(target: string): Promise<{ namespaces: string[]; pids: number[] }> {
    this.stops.push(target);
    const r = this.stopResult;
    return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
  }
  subscribe(onChange: (ns: NamespaceInfo[]) => void): void {
    this.listener = onChange;
  }
  onClose(cb: () => void): void {
    this.closers.push(cb);
  }
  close(): void {
    this.closed = true;
  }
  push(ns: NamespaceInfo[]): void {
    this.namespaces = ns;
    this.listener?.(ns);
  }
  drop(): void {
    for (const c of this.closers) c();
  }
}

export class Unavailable extends Error {}

export function defaultOptions(provider: string): ExecOptions {
  return defaultExecOptions(provider);
}

export interface FakeDeps extends TuiDeps {
  launches: LaunchRequest[];
  nextExit: ExitStatus | Error;
  quits: number;
  connections: FakeConnection[];
}

export function fakeDeps(opts: { daemon?: boolean; uid?: number; servers?: number } = {}): FakeDeps {
  const deps: FakeDeps = {
    catalogue: testCatalogue(opts.servers),
    socketPath: '/run/vopono.sock',
    launches: [],
    nextExit: { code: 0 },
    quits: 0,
    connections: [],
    connect() {
      if (opts.daemon === false)
        return Promise.reject(new Unavailable('no vopono daemon at /run/vopono.sock'));
      const c = new FakeConnection();
      deps.connections.push(c);
      return Promise.resolve(c);
    },
    isUnavailable: (err) => err instanceof Unavailable,
    stepAside(req: LaunchRequest, hooks: LaunchHooks) {
      deps.launches.push(req);
      hooks.onStarted?.(4242, 'vo_none_t1');
      const r = deps.nextExit;
      return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
    },
    quit() {
      deps.quits++;
    },
    defaultOptions,
    uid: opts.uid ?? 1000,
    cwd: '/home/u',
    env: ['HOME=/home/u', 'TERM=xterm-256color'],
    now: () => 1_000_000,
    retryMs: 50,
  };
  return deps;
}

export function ns(
  name: string,
  owner: number,
  pids: number[],
  extra: Partial<NamespaceInfo> = {},
): NamespaceInfo {
  return {
    name,
    owner,
    provider: 'mullvad',
    server: 'se-got-wg-0000',
    protocol: 'wireguard',
    hostIp: '10.200.1.1',
    nsIp: '10.200.1.2',
    dns: ['10.64.0.1'],
    keepAlive: false,
    createdAt: 1_000_000 - 65_000,
    apps: pids.map((pid) => ({ pid, uid: owner, command: ['bash', '-l'], startedAt: 1_000_000 - 5_000 })),
    tunnel: { kind: 'wireguard', lastHandshake: 1_000_000 - 12_000, endpoint: '10.0.0.1:51820' },
    ...extra,
  };
}

export const tick = (ms = 0) => new Promise<void>((r) => setTimeout(r, ms));
