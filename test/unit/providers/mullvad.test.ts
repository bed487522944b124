import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncProvider } from '../../../src/providers/sync.js';
import { listServers, resolveExecConfig } from '../../../src/providers/index.js';
import { publicKeyOf } from '../../../src/providers/wg.js';
import { fixture, json, prompter, startServer, testEnv, type FixtureServer } from './helpers.js';

const ACCOUNT = '1234567890123456';
let srv: FixtureServer;
let env: ReturnType<typeof testEnv>;
let devices: Record<string, unknown>[];
let expiry: string;

beforeEach(async () => {
  devices = [];
  expiry = '2099-01-01T00:00:00+00:00';
  srv = await startServer({
    'GET /www/relays/wireguard/': () => ({ body: fixture('mullvad-relays-wireguard.json') }),
    'GET /www/relays/openvpn/': () => ({ body: fixture('mullvad-relays-openvpn.json') }),
    'POST /auth/v1/token': (_r, body) => {
      const b = JSON.parse(body) as { account_number?: string };
      return b.account_number === ACCOUNT
        ? json({ access_token: 'tok-abc', expiry: '2099-01-01T00:00:00Z' })
        : json({ code: 'INVALID_ACCOUNT', error: 'Invalid account' }, 400);
    },
    'GET /accounts/v1/accounts/me': (r) =>
      r.headers.authorization === 'Bearer tok-abc'
        ? json({ id: 'x', expiry, max_devices: 5, can_add_devices: true })
        : json({ code: 'UNAUTHORIZED' }, 401),
    'GET /accounts/v1/devices': () => json(devices),
    'POST /accounts/v1/devices': (_r, body) => {
      const b = JSON.parse(body) as { pubkey: string };
      const d = {
        id: `id${devices.length}`,
        name: 'witty-otter',
        pubkey: b.pubkey,
        hijack_dns: false,
        created: '2026-11-28T10:00:00+00:00',
        ipv4_address: '10.64.12.34/32',
        ipv6_address: 'fc00:bbbb:bbbb:bb01::c:1234/128',
        ports: [],
      };
      devices.push(d);
      return json(d, 201);
    },
  });
  env = testEnv(srv.url);
});

afterEach(async () => {
  env.restore();
  await srv.close();
});

const wgDir = (): string => join(env.config, 'vopono', 'mv', 'wireguard');

describe('mullvad wireguard sync', () => {
  it('logs in, registers a new key and writes one config per active relay in upstream naming', async () => {
    const r = await syncProvider('mullvad', 'wireguard', prompter({ account: ACCOUNT }));
    expect(r.count).toBe(5);
    const files = readdirSync(wgDir()).sort();
    expect(files).toEqual([
      'servers.json',
      'sweden-segot001.conf',
      'sweden-segot002.conf',
      'sweden-sesto001.conf',
      'uk-gblon001.conf',
      'usa-usnyc301.conf',
      'wireguard_device.json',
    ]);
    const conf = readFileSync(join(wgDir(), 'sweden-segot001.conf'), 'utf8');
    expect(conf).toContain('[Interface]');
    expect(conf).toContain('Address = 10.64.12.34/32, fc00:bbbb:bbbb:bb01::c:1234/128');
    expect(conf).toContain('DNS = 10.64.0.1');
    expect(conf).toContain('PublicKey = 5JMPeO7gXIbR5CnUa/NPNK4L5GqUnreF0/Bozai4pl4=');
    expect(conf).toContain('Endpoint = 185.213.154.66:51820');
    const priv = /PrivateKey = (\S+)/.exec(conf)![1]!;
    expect(publicKeyOf(priv)).toBe(devices[0]!.pubkey);
    // permissions: secrets 0600, dirs 0700
    expect(statSync(join(wgDir(), 'sweden-segot001.conf')).mode & 0o777).toBe(0o600);
    expect(statSync(wgDir()).mode & 0o777).toBe(0o700);
    expect(statSync(join(env.config, 'vopono', 'mv')).mode & 0o777).toBe(0o700);
    // nothing left over from staging
    expect(readdirSync(join(env.config, 'vopono', 'mv'))).toEqual(['wireguard']);
    const servers = listServers('Mullvad', 'wireguard');
    expect(servers.find((s) => s.name === 'sweden-segot001')).toMatchObject({
      country: 'Sweden',
      city: 'Gothenburg',
      host: 'se-got-wg-001',
    });
  });

  it('reuses the device key of the previous sync instead of registering another', async () => {
    await syncProvider('mullvad', 'wireguard', prompter({ account: ACCOUNT }));
    const first = readFileSync(join(wgDir(), 'sweden-segot001.conf'), 'utf8');
    await syncProvider('mullvad', 'wireguard', prompter({ account: ACCOUNT, port: '53' }));
    expect(devices).toHaveLength(1);
    const second = readFileSync(join(wgDir(), 'sweden-segot001.conf'), 'utf8');
    expect(/PrivateKey = (\S+)/.exec(second)![1]).toBe(/PrivateKey = (\S+)/.exec(first)![1]);
    expect(second).toContain('Endpoint = 185.213.154.66:53');
  });

  it('wrong account number: clear error, previous configs untouched', async () => {
    await syncProvider('mullvad', 'wireguard', prompter({ account: ACCOUNT }));
    const before = readFileSync(join(wgDir(), 'sweden-segot001.conf'), 'utf8');
    await expect(
      syncProvider('mullvad', 'wireguard', prompter({ account: '9999 9999 9999 9999' })),
    ).rejects.toThrow(/account number was not accepted/);
    expect(readFileSync(join(wgDir(), 'sweden-segot001.conf'), 'utf8')).toBe(before);
    expect(readdirSync(join(env.config, 'vopono', 'mv'))).toEqual(['wireguard']);
  });

  it('an account number that is not 16 digits is refused before any request', async () => {
    await expect(syncProvider('mullvad', 'wireguard', prompter({ account: '1234' }))).rejects.toThrow(
      /16 digits/,
    );
  });

  it('expired account: clear error', async () => {
    expiry = '2020-01-01T00:00:00+00:00';
    await expect(syncProvider('mullvad', 'wireguard', prompter({ account: ACCOUNT }))).rejects.toThrow(
      /expired on 2020-01-01/,
    );
    expect(existsSync(wgDir())).toBe(false);
  });

  it('missing answer non-interactively names the flag and env variable', async () => {
    await expect(syncProvider('mullvad', 'wireguard', prompter({}))).rejects.toThrow(
      /--account or set VOPONO_SYNC_ACCOUNT/,
    );
  });
});

describe('mullvad openvpn sync', () => {
  it('writes one file per country with CA and credentials; exec inlines them', async () => {
    await syncProvider('mv', 'openvpn', prompter({ account: ACCOUNT, variant: 'tcp443' }));
    const dir = join(env.config, 'vopono', 'mv', 'openvpn');
    expect(readdirSync(dir).sort()).toEqual([
      'mullvad_ca.crt',
      'mullvad_userpass.txt',
      'servers.json',
      'sweden-se.ovpn',
      'switzerland-ch.ovpn',
    ]);
    const se = readFileSync(join(dir, 'sweden-se.ovpn'), 'utf8');
    expect(se).toContain('remote se-got-ovpn-001.relays.mullvad.net 443');
    expect(se).toContain('remote-random');
    expect(se).toContain('proto tcp');
    expect(se).toContain('ca mullvad_ca.crt');
    expect(readFileSync(join(dir, 'mullvad_userpass.txt'), 'utf8')).toBe(`${ACCOUNT}\nm`);
    const r = await resolveExecConfig({
      provider: 'mullvad',
      protocol: 'openvpn',
      server: 'swe',
      cwd: '/',
      home: env.home,
    });
    expect(r.server).toBe('sweden-se');
    expect(r.credentials).toEqual({ username: ACCOUNT, password: 'm' });
    expect(r.config!.content).toContain('<ca>\n-----BEGIN CERTIFICATE-----');
    expect(r.config!.content).not.toContain('ca mullvad_ca.crt');
    expect(r.config!.content).toMatch(/^auth-user-pass$/m);
    // the cached account number is reused by a WireGuard sync without asking
    await syncProvider('mullvad', 'wireguard', prompter({}));
    expect(readdirSync(wgDir())).toContain('sweden-segot001.conf');
  });
});

describe('configs synced by upstream vopono', () => {
  it('are listed and resolved unchanged (no servers.json)', async () => {
    const dir = join(env.config, 'vopono', 'mv', 'wireguard');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'sweden-segot001.conf'), '[Interface]\nPrivateKey = x\n');
    writeFileSync(join(dir, 'germany-defra001.conf'), '[Interface]\nPrivateKey = y\n');
    const s = listServers('mullvad');
    expect(s.map((x) => x.name)).toEqual(['germany-defra001', 'sweden-segot001']);
    expect(s[1]).toMatchObject({ country: 'sweden', host: 'segot001', protocol: 'wireguard' });
    const r = await resolveExecConfig({ provider: 'mullvad', server: 'segot', cwd: '/', home: env.home });
    expect(r).toMatchObject({ provider: 'mullvad', protocol: 'wireguard', server: 'sweden-segot001' });
    expect(r.notice).toBeUndefined();
  });

  it('the random-choice notice names the relay host when sync recorded it', async () => {
    await syncProvider('mullvad', 'wireguard', prompter({ account: ACCOUNT }));
    const r = await resolveExecConfig({
      provider: 'mullvad',
      server: 'segot',
      cwd: '/',
      home: env.home,
      random: () => 0,
    });
    expect(r.notice).toBe(
      "server sweden-segot001 (se-got-wg-001) chosen at random from 2 matches for 'segot'",
    );
  });
});
