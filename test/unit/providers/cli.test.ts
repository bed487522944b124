// `vopono servers` and `vopono sync` as a user runs them: a child process, real exit codes.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixture, json, startServer, testEnv, type FixtureServer } from './helpers.js';

const ROOT = join(import.meta.dirname, '../../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const MAIN = join(ROOT, 'src/cli/main.ts');

let srv: FixtureServer;
let env: ReturnType<typeof testEnv>;
beforeEach(async () => {
  srv = await startServer();
  env = testEnv(srv.url);
});
afterEach(async () => {
  env.restore();
  await srv.close();
});

/** Runs the CLI asynchronously (the fixture server lives in this process). */
async function vopono(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    const c = spawn(TSX, [MAIN, ...args], {
      env: { ...process.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function seed(): void {
  const wg = join(env.config, 'vopono', 'mv', 'wireguard');
  mkdirSync(wg, { recursive: true });
  for (const n of ['sweden-segot001', 'sweden-sesto001', 'usa-usnyc301'])
    writeFileSync(join(wg, `${n}.conf`), '[Interface]\n');
  writeFileSync(
    join(wg, 'servers.json'),
    JSON.stringify([
      { file: 'sweden-segot001.conf', country: 'Sweden', city: 'Gothenburg', host: 'se-got-wg-001' },
    ]),
  );
  const ov = join(env.config, 'vopono', 'mv', 'openvpn');
  mkdirSync(ov, { recursive: true });
  writeFileSync(join(ov, 'sweden-se.ovpn'), 'client\n');
}

describe('vopono servers', () => {
  it('prints upstream’s table plus country/city, filtered by prefix', async () => {
    seed();
    const r = await vopono(['servers', 'Mullvad', '--prefix', 'se']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'provider\tprotocol\tconfig_file\tcountry\tcity\n' +
        'mullvad\twireguard\tsweden-segot001.conf\tSweden\tGothenburg\n' +
        'mullvad\twireguard\tsweden-sesto001.conf\tsweden\n' +
        'mullvad\topenvpn\tsweden-se.ovpn\tsweden\n',
    );
  });

  it('--json and -c', async () => {
    seed();
    const r = await vopono(['servers', 'mv', '-c', 'wireguard', '--json', '--prefix', 'usa']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(rows).toEqual([
      {
        provider: 'mullvad',
        protocol: 'wireguard',
        name: 'usa-usnyc301',
        file: join(env.config, 'vopono/mv/wireguard/usa-usnyc301.conf'),
        country: 'usa',
        host: 'usnyc301',
      },
    ]);
  });

  it('errors: not synced, unknown provider, no match', async () => {
    let r = await vopono(['servers', 'azirevpn']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no azirevpn configs .*; run: vopono sync azirevpn -c wireguard/);
    r = await vopono(['servers', 'bogusvpn']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown provider 'bogusvpn'/);
    seed();
    r = await vopono(['servers', 'mullvad', '--prefix', 'swedn']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no mullvad server matches 'swedn'; closest: sweden-/);
    expect(r.stdout).toBe('');
  });
});

describe('vopono sync', () => {
  it('runs non-interactively from flags and env, progress on stderr', async () => {
    const devices: unknown[] = [];
    srv.routes.set('GET /www/relays/wireguard/', () => ({ body: fixture('mullvad-relays-wireguard.json') }));
    srv.routes.set('POST /auth/v1/token', () => json({ access_token: 't' }));
    srv.routes.set('GET /accounts/v1/accounts/me', () =>
      json({ expiry: '2099-01-01T00:00:00Z', max_devices: 5, can_add_devices: true }),
    );
    srv.routes.set('GET /accounts/v1/devices', () => json(devices));
    srv.routes.set('POST /accounts/v1/devices', (_r, b) => {
      const d = {
        name: 'x',
        pubkey: (JSON.parse(b) as { pubkey: string }).pubkey,
        ipv4_address: '10.1.1.1/32',
        ipv6_address: 'fc00::1/128',
      };
      devices.push(d);
      return json(d);
    });
    const r = await vopono(['sync', 'mullvad', '-c', 'wireguard', '--port', '4000'], {
      VOPONO_SYNC_ACCOUNT: '1234567890123456',
    });
    expect(r.stderr).toMatch(/mullvad wireguard: 5 configs written to/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(readdirSync(join(env.config, 'vopono', 'mv', 'wireguard'))).toContain('usa-usnyc301.conf');
  });

  it('fails with a non-zero exit and names the missing answer', async () => {
    srv.routes.set('GET /www/relays/wireguard/', () => ({ body: fixture('mullvad-relays-wireguard.json') }));
    const r = await vopono(['sync', 'mullvad', '-c', 'wireguard']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /Mullvad account number: no answer given; pass --account or set VOPONO_SYNC_ACCOUNT/,
    );
    const r2 = await vopono(['sync']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/which provider\? e\.g\. vopono sync mullvad/);
  });

  it.skipIf(process.geteuid?.() !== 0)('refuses to run under sudo (configs belong to the user)', async () => {
    const r = await vopono(['sync', 'mullvad'], { SUDO_USER: 'alice' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/run vopono sync as alice, without sudo/);
  });
});

describe('vopono servers into a closed pipe', () => {
  it('exits quietly when the reader stops early (| head)', async () => {
    const wg = join(env.config, 'vopono', 'mv', 'wireguard');
    mkdirSync(wg, { recursive: true });
    for (let i = 0; i < 3000; i++) writeFileSync(join(wg, `sweden-se${i}.conf`), '[Interface]\n');
    const { spawn } = await import('node:child_process');
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn('sh', ['-c', `'${TSX}' '${MAIN}' servers mullvad | head -1`], {
        env: process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      c.stdout.resume();
      c.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
