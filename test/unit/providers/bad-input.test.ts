// Bad input: each case → a clear message, a rejected promise (non-zero exit in the CLI), and the
// previous configs untouched.
import { chownSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncProvider } from '../../../src/providers/sync.js';
import { listServers, resolveExecConfig } from '../../../src/providers/index.js';
import { fixture, json, prompter, startServer, testEnv, type FixtureServer } from './helpers.js';

let srv: FixtureServer;
let env: ReturnType<typeof testEnv>;
const relayRoute = (): { body: string } => ({ body: fixture('mullvad-relays-wireguard.json') });
beforeEach(async () => {
  srv = await startServer({ 'GET /www/relays/wireguard/': relayRoute });
  env = testEnv(srv.url);
});
afterEach(async () => {
  env.restore();
  await srv.close();
});

const wg = (): string => join(env.config, 'vopono', 'mv', 'wireguard');
/** A previous sync's directory, to prove failures leave it untouched. */
function previous(): void {
  mkdirSync(wg(), { recursive: true, mode: 0o700 });
  writeFileSync(join(wg(), 'sweden-old001.conf'), 'OLD');
}
function untouched(): void {
  expect(readdirSync(wg())).toEqual(['sweden-old001.conf']);
  expect(readFileSync(join(wg(), 'sweden-old001.conf'), 'utf8')).toBe('OLD');
  expect(readdirSync(join(env.config, 'vopono', 'mv'))).toEqual(['wireguard']);
}

async function closedPort(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  const port = typeof a === 'object' && a !== null ? a.port : 1;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe('sync failures keep the previous configs', () => {
  it('network down (connection refused)', async () => {
    previous();
    process.env.VOPONO_MULLVAD_API_URL = await closedPort();
    await expect(
      syncProvider('mullvad', 'wireguard', prompter({ account: '1234567890123456' })),
    ).rejects.toThrow(
      /could not reach 127\.0\.0\.1:\d+ for the Mullvad relay list: ECONNREFUSED.*network up/,
    );
    untouched();
  });

  it('HTTP error', async () => {
    previous();
    srv.routes.set('GET /www/relays/wireguard/', () => ({ status: 503, body: 'maintenance' }));
    await expect(syncProvider('mullvad', 'wireguard', prompter({}))).rejects.toThrow(
      /Mullvad relay list: .* answered HTTP 503.*maintenance/,
    );
    untouched();
  });

  it('200 with malformed JSON', async () => {
    previous();
    srv.routes.set('GET /www/relays/wireguard/', () => ({ body: '[{"hostname": "se-got' }));
    await expect(syncProvider('mullvad', 'wireguard', prompter({}))).rejects.toThrow(
      /malformed answer \(not JSON\)/,
    );
    untouched();
  });

  it('200 with JSON of the wrong shape', async () => {
    previous();
    srv.routes.set('GET /www/relays/wireguard/', () => json([{ hostname: 'se-got-wg-001', active: true }]));
    await expect(syncProvider('mullvad', 'wireguard', prompter({}))).rejects.toThrow(
      /Mullvad relay list: unexpected answer .*country_code/,
    );
    untouched();
  });

  it('corrupt zip', async () => {
    mkdirSync(join(env.config, 'vopono', 'nordvpn', 'openvpn'), { recursive: true });
    writeFileSync(join(env.config, 'vopono', 'nordvpn', 'openvpn', 'sweden-se1.ovpn'), 'OLD');
    srv.routes.set('GET /configs/archives/servers/ovpn.zip', () => ({
      body: new Uint8Array([0x50, 0x4b, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8]),
    }));
    await expect(
      syncProvider('nordvpn', 'openvpn', prompter({ username: 'u', password: 'p' })),
    ).rejects.toThrow(/zip is corrupt or not a zip/);
    expect(readdirSync(join(env.config, 'vopono', 'nordvpn', 'openvpn'))).toEqual(['sweden-se1.ovpn']);
    expect(readdirSync(join(env.config, 'vopono', 'nordvpn'))).toEqual(['openvpn']);
  });

  it('an HTML page instead of a zip', async () => {
    srv.routes.set('GET /openvpn/openvpn.zip', () => ({ body: '<html>Sorry</html>', type: 'text/html' }));
    await expect(syncProvider('pia', 'openvpn', prompter({ username: 'u', password: 'p' }))).rejects.toThrow(
      /PIA OpenVPN configs: the downloaded zip is corrupt/,
    );
  });

  it('an empty relay list writes nothing', async () => {
    previous();
    srv.routes.set('GET /www/relays/wireguard/', () => json([]));
    srv.routes.set('POST /auth/v1/token', () => json({ access_token: 't' }));
    srv.routes.set('GET /accounts/v1/accounts/me', () =>
      json({ expiry: '2099-01-01T00:00:00Z', max_devices: 5, can_add_devices: true }),
    );
    srv.routes.set('GET /accounts/v1/devices', () => json([]));
    srv.routes.set('POST /accounts/v1/devices', (_r, b) =>
      json({
        name: 'x',
        pubkey: (JSON.parse(b) as { pubkey: string }).pubkey,
        ipv4_address: '10.1.1.1/32',
        ipv6_address: 'fc00::1/128',
      }),
    );
    await expect(
      syncProvider('mullvad', 'wireguard', prompter({ account: '1234567890123456' })),
    ).rejects.toThrow(/no active WireGuard relays/);
    untouched();
  });

  it('unknown provider and unsupported protocol', async () => {
    await expect(syncProvider('expressvpn', undefined, prompter({}))).rejects.toThrow(
      /unknown provider 'expressvpn' \(known: mullvad, azirevpn/,
    );
    await expect(syncProvider('azirevpn', 'openvpn', prompter({}))).rejects.toThrow(
      /azirevpn does not support openvpn/,
    );
    await expect(syncProvider('none', undefined, prompter({}))).rejects.toThrow(/nothing to sync/);
  });
});

describe('config directory checks', () => {
  it('a symlinked config dir is refused for sync, servers and exec', async () => {
    const real = join(env.home, 'elsewhere');
    mkdirSync(real, { recursive: true });
    mkdirSync(env.config, { recursive: true });
    symlinkSync(real, join(env.config, 'vopono'));
    await expect(syncProvider('mullvad', 'wireguard', prompter({}))).rejects.toThrow(
      /refusing to use .*vopono: it is a symbolic link/,
    );
    expect(() => listServers('mullvad')).toThrow(/symbolic link/);
    await expect(
      resolveExecConfig({ provider: 'mullvad', server: 'se', cwd: '/', home: env.home }),
    ).rejects.toThrow(/symbolic link/);
    expect(readdirSync(real)).toEqual([]);
  });

  it('a symlinked provider dir is refused too', async () => {
    mkdirSync(join(env.config, 'vopono'), { recursive: true });
    mkdirSync(join(env.home, 'x'));
    symlinkSync(join(env.home, 'x'), join(env.config, 'vopono', 'mv'));
    await expect(syncProvider('mullvad', 'wireguard', prompter({}))).rejects.toThrow(
      /mv: it is a symbolic link/,
    );
  });

  it.skipIf(process.geteuid?.() !== 0)('a config dir owned by another user is refused', async () => {
    mkdirSync(join(env.config, 'vopono', 'mv', 'wireguard'), { recursive: true });
    writeFileSync(join(env.config, 'vopono', 'mv', 'wireguard', 'sweden-x.conf'), 'X');
    chownSync(join(env.config, 'vopono'), 54321, 54321);
    await expect(syncProvider('mullvad', 'wireguard', prompter({}))).rejects.toThrow(
      /owned by uid 54321, not by you/,
    );
    expect(() => listServers('mullvad')).toThrow(/owned by uid 54321/);
    rmSync(join(env.config, 'vopono'), { recursive: true, force: true });
  });
});

describe('an interrupted sync', () => {
  it('killed between the two renames: the previous configs come back at the next sync; dead staging dirs go', async () => {
    const mv = join(env.config, 'vopono', 'mv');
    mkdirSync(join(mv, '.wireguard.old-999999-1700000000000'), { recursive: true });
    writeFileSync(join(mv, '.wireguard.old-999999-1700000000000', 'sweden-old001.conf'), 'OLD');
    mkdirSync(join(mv, '.wireguard.staging-999999-abc123'));
    writeFileSync(join(mv, '.wireguard.staging-999999-abc123', 'half.conf'), 'HALF');
    srv.routes.set('GET /www/relays/wireguard/', () => ({ status: 500, body: 'down' }));
    await expect(syncProvider('mullvad', 'wireguard', prompter({}))).rejects.toThrow(/HTTP 500/);
    untouched();
  });
});
