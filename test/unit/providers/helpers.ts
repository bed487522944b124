// Test world for the provider tests: a loopback HTTP server serving fixtures in the providers'
// response formats, a temp HOME/XDG_CONFIG_HOME, env overrides pointing every provider at it.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { createPrompter } from '../../../src/providers/prompt.js';

export const FIXTURES = join(import.meta.dirname, '../../fixtures/providers');
export const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

export interface Reply {
  status?: number;
  body?: string | Uint8Array;
  type?: string;
}
export type Handler = (req: IncomingMessage, body: string, url: URL) => Reply | Promise<Reply>;

export interface FixtureServer {
  url: string;
  routes: Map<string, Handler>;
  log: { method: string; path: string; body: string; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

export async function startServer(routes: Record<string, Handler> = {}): Promise<FixtureServer> {
  const map = new Map(Object.entries(routes));
  const log: FixtureServer['log'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      log.push({ method: req.method ?? 'GET', path: url.pathname, body, headers: req.headers });
      const h = map.get(`${req.method} ${url.pathname}`);
      if (h === undefined) {
        res.writeHead(404).end('not found');
        return;
      }
      Promise.resolve(h(req, body, url)).then(
        (r) => {
          const b = r.body ?? '';
          res.writeHead(r.status ?? 200, {
            'content-type': r.type ?? (typeof b === 'string' ? 'application/json' : 'application/zip'),
          });
          res.end(b);
        },
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    routes: map,
    log,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export const json = (v: unknown, status = 200): Reply => ({ status, body: JSON.stringify(v) });

export function makeZip(files: Record<string, string>): Uint8Array {
  const entries: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(files)) entries[k] = strToU8(v);
  return zipSync(entries);
}

export function ovpn(remote: string, extra: string[] = []): string {
  return [
    'client',
    'dev tun',
    'proto udp',
    `remote ${remote} 1198`,
    'resolv-retry infinite',
    'nobind',
    'persist-key',
    'cipher aes-128-cbc',
    'auth sha1',
    'tls-client',
    'remote-cert-tls server',
    'auth-user-pass',
    'verb 1',
    ...extra,
    '<ca>',
    '-----BEGIN CERTIFICATE-----',
    'MIIFake',
    '-----END CERTIFICATE-----',
    '</ca>',
    '',
  ].join('\n');
}

const ENV_KEYS = [
  'HOME',
  'XDG_CONFIG_HOME',
  'VOPONO_MULLVAD_API_URL',
  'VOPONO_AZIREVPN_API_URL',
  'VOPONO_IVPN_API_URL',
  'VOPONO_PIA_API_URL',
  'VOPONO_PROTONVPN_API_URL',
  'VOPONO_NORDVPN_API_URL',
  'VOPONO_AIRVPN_API_URL',
  'VOPONO_MOZILLAVPN_API_URL',
  'AIRVPN_API_KEY',
];

/** A temp HOME with XDG_CONFIG_HOME inside, every provider URL at `base`; restore() undoes it all. */
export function testEnv(base: string): { home: string; config: string; restore(): void } {
  const saved = new Map(ENV_KEYS.map((k) => [k, process.env[k]]));
  const home = mkdtempSync(join(tmpdir(), 'vopono-prov-'));
  const config = join(home, 'xdg');
  process.env.HOME = home;
  process.env.XDG_CONFIG_HOME = config;
  for (const k of ENV_KEYS.filter((k) => k.startsWith('VOPONO_'))) process.env[k] = base;
  delete process.env.AIRVPN_API_KEY;
  return {
    home,
    config,
    restore() {
      for (const [k, v] of saved) {
        if (v === undefined) Reflect.deleteProperty(process.env, k);
        else process.env[k] = v;
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A non-interactive prompter with the given answers; collects progress lines. */
export function prompter(
  answers: Record<string, string>,
): ReturnType<typeof createPrompter> & { lines: string[] } {
  const lines: string[] = [];
  const out = { write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WritableStream;
  const p = createPrompter({ answers, interactive: false, env: {}, out });
  return Object.assign(p, { lines });
}
