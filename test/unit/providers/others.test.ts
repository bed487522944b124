// Sync of every other provider against loopback fixtures in its real response format.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncProvider } from '../../../src/providers/sync.js';
import { listServers, resolveExecConfig } from '../../../src/providers/index.js';
import { generateKeypair, publicKeyOf } from '../../../src/providers/wg.js';
import {
  fixture,
  json,
  makeZip,
  ovpn,
  prompter,
  startServer,
  testEnv,
  type FixtureServer,
} from './helpers.js';

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
const dir = (...p: string[]): string => join(env.config, 'vopono', ...p);
const ls = (...p: string[]): string[] => readdirSync(dir(...p)).sort();

describe('azirevpn', () => {
  it('logs in, registers a device, writes one config per location and caches the token', async () => {
    let registered = '';
    srv.routes.set('POST /v3/tokens', (_r, body) => {
      const b = JSON.parse(body) as { username: string; password: string };
      return b.password === 'pw'
        ? json({
            status: 'success',
            data: { id: 't1', device_name: null, key: 'azire-token', comment: 'vopono sync', created_at: 1 },
          })
        : json({ status: 'error', message: 'Invalid credentials' }, 401);
    });
    srv.routes.set('GET /v3/users/me', (r) =>
      r.headers.authorization === 'Bearer azire-token'
        ? json({
            status: 'success',
            data: {
              username: 'u',
              email: 'e',
              currency: 'EUR',
              is_email_verified: true,
              is_active: true,
              is_oldschool: false,
              is_subscribed: true,
              ips: { allocated: 0, available: 10 },
              created_at: 1,
              expires_at: 4102444800,
            },
          })
        : json({ status: 'error' }, 401),
    );
    srv.routes.set('POST /v3/ips', (_r, body) => {
      registered = (JSON.parse(body) as { key: string }).key;
      return json({
        status: 'success',
        data: {
          id: 'dev1',
          ipv4_address: '10.0.12.5',
          ipv4_netmask: 19,
          ipv6_address: '2a0e:1c80:1337:1:10:0:12:5',
          ipv6_netmask: 64,
          dns: ['91.231.153.2', '192.211.0.2'],
          device_name: 'witty',
          keys: [{ key: registered, created_at: 1 }],
        },
      });
    });
    srv.routes.set('GET /v3/locations', () => ({ body: fixture('azirevpn-locations.json') }));
    await syncProvider('AzireVPN', undefined, prompter({ username: 'u', password: 'pw' }));
    expect(ls('azire')).toEqual(['token.txt', 'wireguard']);
    expect(readFileSync(dir('azire', 'token.txt'), 'utf8')).toBe('azire-token');
    expect(statSync(dir('azire', 'token.txt')).mode & 0o777).toBe(0o600);
    expect(ls('azire', 'wireguard')).toEqual([
      'netherlands-nl-ams.conf',
      'servers.json',
      'sweden-se-sto.conf',
      'usa-us-nyc.conf',
    ]);
    const c = readFileSync(dir('azire', 'wireguard', 'sweden-se-sto.conf'), 'utf8');
    expect(c).toContain('Address = 10.0.12.5/19');
    expect(c).toContain('DNS = 91.231.153.2');
    expect(c).toContain('Endpoint = 127.0.0.1:51820');
    expect(publicKeyOf(/PrivateKey = (\S+)/.exec(c)![1]!)).toBe(registered);
    // second sync uses the cached token (no login)
    srv.routes.delete('POST /v3/tokens');
    await syncProvider('azire', 'wireguard', prompter({}));
  });

  it('wrong password: clear error, nothing written', async () => {
    srv.routes.set('POST /v3/tokens', () => json({ status: 'error', message: 'Invalid credentials' }, 401));
    await expect(
      syncProvider('azirevpn', 'wireguard', prompter({ username: 'u', password: 'bad' })),
    ).rejects.toThrow(/wrong username or password/);
    expect(ls('azire')).toEqual([]);
  });

  it('inactive (expired) account: clear error', async () => {
    srv.routes.set('GET /v3/users/me', () =>
      json({ status: 'success', data: { is_active: false, ips: { allocated: 0, available: 10 } } }),
    );
    await expect(syncProvider('azirevpn', 'wireguard', prompter({ token: 't' }))).rejects.toThrow(
      /not active/,
    );
  });
});

describe('ivpn', () => {
  it('wireguard: generated key, assigned address, one config per host', async () => {
    srv.routes.set('GET /v5/servers.json', () => ({ body: fixture('ivpn-servers.json') }));
    const p = prompter({ ip: '172.21.4.8', dns_choice: 'antitracker' });
    await syncProvider('ivpn', 'wireguard', p);
    expect(ls('ivpn', 'wireguard')).toEqual([
      'austria-at-vienna.conf',
      'servers.json',
      'uk-gb-london.conf',
      'uk-gb-london2.conf',
    ]);
    const c = readFileSync(dir('ivpn', 'wireguard', 'uk-gb-london2.conf'), 'utf8');
    expect(c).toContain('Address = 172.21.4.8/32');
    expect(c).toContain('DNS = 10.0.254.2');
    expect(c).toContain('Endpoint = 185.59.221.225:41893');
    expect(p.lines.join('')).toMatch(/Add this public key in the iVPN client area/);
  });

  it('wireguard: an address outside 172/8 is refused', async () => {
    srv.routes.set('GET /v5/servers.json', () => ({ body: fixture('ivpn-servers.json') }));
    await expect(syncProvider('ivpn', 'wireguard', prompter({ ip: '10.1.2.3' }))).rejects.toThrow(
      /--ip: expected an IPv4 address starting with 172/,
    );
  });

  it('openvpn: zip unpacked in upstream naming, auth.txt written, exec passes credentials', async () => {
    srv.routes.set('GET /releases/config/ivpn-openvpn-config.zip', () => ({
      body: makeZip({
        'ivpn-openvpn-config/Sweden.ovpn': ovpn('se.gw.ivpn.net', [
          'up /etc/openvpn/update-resolv-conf',
          'down /etc/openvpn/update-resolv-conf',
        ]),
        'ivpn-openvpn-config/USA-New_York.ovpn': ovpn('us-ny.gw.ivpn.net'),
        'ivpn-openvpn-config/ta.key': 'KEY',
      }),
    }));
    await syncProvider('iv', 'openvpn', prompter({ username: 'i-ABCD-EFGH-IJKL' }));
    expect(ls('ivpn', 'openvpn')).toEqual([
      'auth.txt',
      'servers.json',
      'sweden-se.ovpn',
      'ta.key',
      'usa-us-new_york.ovpn',
    ]);
    const se = readFileSync(dir('ivpn', 'openvpn', 'sweden-se.ovpn'), 'utf8');
    expect(se).not.toMatch(/^up /m);
    expect(se).not.toMatch(/^auth-user-pass/m);
    const r = await resolveExecConfig({
      provider: 'ivpn',
      protocol: 'openvpn',
      server: 'usa',
      cwd: '/',
      home: env.home,
    });
    expect(r.credentials).toEqual({ username: 'i-ABCD-EFGH-IJKL', password: 'password' });
    expect(r.config!.content).toMatch(/^auth-user-pass$/m);
  });
});

describe('privateinternetaccess', () => {
  const zip = (): Uint8Array =>
    makeZip({
      'Sweden.ovpn': ovpn('sweden.privacy.network'),
      'US California.ovpn': ovpn('us-california.privacy.network'),
      'ca.rsa.2048.crt': 'CA',
      'crl.rsa.2048.pem': 'CRL',
    });

  it('openvpn: zip, hostname lookup, auth, CA', async () => {
    srv.routes.set('GET /openvpn/openvpn-strong.zip', () => ({ body: zip() }));
    await syncProvider(
      'PIA',
      'openvpn',
      prompter({ variant: 'strong', username: 'p1234567', password: 'secret' }),
    );
    expect(ls('pia', 'openvpn')).toEqual([
      'auth.txt',
      'ca.rsa.2048.crt',
      'config.txt',
      'crl.rsa.2048.pem',
      'servers.json',
      'sweden-se.ovpn',
      'us_california.ovpn',
    ]);
    expect(ls('pia')).toEqual(['ca.rsa.4096.crt', 'openvpn']);
    expect(JSON.parse(readFileSync(dir('pia', 'openvpn', 'config.txt'), 'utf8'))).toEqual({
      hostname_lookup: {
        'sweden-se.ovpn': 'sweden.privacy.network',
        'us_california.ovpn': 'us-california.privacy.network',
      },
    });
    const r = await resolveExecConfig({
      provider: 'privateinternetaccess',
      server: 'sweden',
      cwd: '/',
      home: env.home,
    });
    expect(r.credentials).toEqual({ username: 'p1234567', password: 'secret' });
    expect(r.dns).toEqual(['209.222.18.222', '209.222.18.218']);
  });

  it('wireguard: server list at sync, token + addKey at connect (client side)', async () => {
    let tokenCalls = 0;
    srv.routes.set('GET /vpninfo/servers/v6', () => ({
      body: fixture('pia-serverlist.txt'),
      type: 'text/plain',
    }));
    srv.routes.set('GET /gtoken/generateToken', (r) => {
      tokenCalls++;
      return r.headers.authorization === `Basic ${Buffer.from('p1234567:secret').toString('base64')}`
        ? json({ status: 'OK', token: 'pia-token' })
        : json({ status: 'ERROR', message: 'Authentication failed' }, 401);
    });
    let added = '';
    srv.routes.set('GET /addKey', (_r, _b, url) => {
      expect(url.searchParams.get('pt')).toBe('pia-token');
      added = url.searchParams.get('pubkey') ?? '';
      return json({
        status: 'OK',
        server_key: 'SERVERKEYxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=',
        server_port: 1337,
        server_ip: '127.0.0.1',
        server_vip: '10.1.0.1',
        peer_ip: '10.13.14.15',
        peer_pubkey: added,
        dns_servers: ['10.0.0.243', '10.0.0.242'],
      });
    });
    await syncProvider(
      'pia',
      'wireguard',
      prompter({ username: 'p1234567', password: 'secret', only_port_forwarding: 'yes' }),
    );
    expect(ls('pia', 'wireguard')).toEqual(['config.txt', 'servers.json', 'sweden.conf', 'swiss.conf']);
    const cfg = JSON.parse(readFileSync(dir('pia', 'wireguard', 'config.txt'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(cfg.cn_lookup).toEqual({ '127.0.0.1': 'zurich403', '127.0.0.3': 'stockholm404' });
    const r = await resolveExecConfig({
      provider: 'pia',
      protocol: 'wireguard',
      server: 'swiss',
      cwd: '/',
      home: env.home,
    });
    expect(tokenCalls).toBe(2);
    const priv = /PrivateKey = (\S+)/.exec(r.config!.content)![1]!;
    expect(publicKeyOf(priv)).toBe(added);
    expect(r.config!.content).toContain('Address = 10.13.14.15/32');
    expect(r.config!.content).toContain('DNS = 10.0.0.243');
    expect(r.config!.content).toContain('PublicKey = SERVERKEY');
    expect(r.config!.content).toContain('Endpoint = 127.0.0.1:1337');
    expect(r.config!.content).toContain('PersistentKeepalive = 25');
  });

  it('wireguard: wrong password fails at sync with a clear message', async () => {
    srv.routes.set('GET /vpninfo/servers/v6', () => ({
      body: fixture('pia-serverlist.txt'),
      type: 'text/plain',
    }));
    srv.routes.set('GET /gtoken/generateToken', () =>
      json({ status: 'ERROR', message: 'Authentication failed' }, 401),
    );
    await expect(
      syncProvider('pia', 'wireguard', prompter({ username: 'p1', password: 'bad' })),
    ).rejects.toThrow(/PIA login failed: wrong username or password/);
  });
});

describe('protonvpn', () => {
  it('fetches the zip with the session cookie and writes upstream names', async () => {
    srv.routes.set('GET /api/vpn/config', (r, _b, url) => {
      if (r.headers.cookie !== 'AUTH-uid123=val456' || r.headers['x-pm-uid'] !== 'uid123')
        return json({ Code: 10013, Error: 'Invalid access token' }, 401);
      expect(url.searchParams.get('Tier')).toBe('2');
      expect(url.searchParams.get('Category')).toBe('SecureCore');
      return {
        body: makeZip({
          'ch-se-01.protonvpn.udp.ovpn': ovpn('185.159.157.1'),
          'is-se-02.protonvpn.udp.ovpn': ovpn('185.159.158.1'),
        }),
      };
    });
    await syncProvider(
      'proton',
      undefined,
      prompter({
        tier: 'plus',
        category: 'securecore',
        cookie: 'AUTH-uid123: val456;',
        username: 'user+pmp',
        password: 'ovpnpw',
      }),
    );
    expect(ls('proton', 'openvpn')).toEqual([
      'auth.txt',
      'servers.json',
      'sweden-se-ch_01.ovpn',
      'sweden-se-is_02.ovpn',
    ]);
    expect(readFileSync(dir('proton', 'openvpn', 'auth.txt'), 'utf8')).toBe('user+pmp\novpnpw');
  });

  it('an expired cookie gives a clear message', async () => {
    srv.routes.set('GET /api/vpn/config', () => json({ Code: 10013 }, 401));
    await expect(
      syncProvider('protonvpn', 'openvpn', prompter({ cookie: 'AUTH-a=b', username: 'u', password: 'p' })),
    ).rejects.toThrow(/refused the session cookie/);
  });

  it('wireguard is refused with the custom hint', async () => {
    await expect(syncProvider('protonvpn', 'wireguard', prompter({}))).rejects.toThrow(/--custom/);
  });
});

describe('nordvpn', () => {
  it('keeps the chosen transport and kind only', async () => {
    srv.routes.set('GET /configs/archives/servers/ovpn.zip', () => ({
      body: makeZip({
        'ovpn_udp/se123.nordvpn.com.udp.ovpn': ovpn('1.2.3.4'),
        'ovpn_udp/de-nl4.nordvpn.com.udp.ovpn': ovpn('1.2.3.5'),
        'ovpn_udp/nl-onion2.nordvpn.com.udp.ovpn': ovpn('1.2.3.6'),
        'ovpn_tcp/se123.nordvpn.com.tcp.ovpn': ovpn('1.2.3.4'),
        'ovpn_udp/us5012.nordvpn.com.udp.ovpn': ovpn('1.2.3.7'),
      }),
    }));
    await syncProvider('NordVPN', 'openvpn', prompter({ variant: 'udp', username: 'svc', password: 'pw' }));
    expect(ls('nordvpn', 'openvpn')).toEqual([
      'auth.txt',
      'servers.json',
      'sweden-se123.ovpn',
      'usa-us5012.ovpn',
    ]);
    const s = listServers('nord', 'openvpn');
    expect(s.find((x) => x.name === 'sweden-se123')?.host).toBe('se123.nordvpn.com');
  });
});

describe('airvpn', () => {
  it('status list + generator zip with the API key header', async () => {
    srv.routes.set('GET /api/status/', () => ({ body: fixture('airvpn-status.json') }));
    srv.routes.set('GET /api/generator/', (r, _b, url) => {
      if (r.headers['api-key'] !== 'k3y') return json({ result: 'Not authorized' }, 403);
      expect(url.searchParams.get('servers')).toBe('Alchiba,Bunda');
      expect(url.searchParams.get('protocols')).toBe('openvpn_1_tcp_443');
      return {
        body: makeZip({
          'AirVPN_SE-Stockholm_Alchiba_TCP-443-Entry1.ovpn': ovpn('1.1.1.1'),
          'AirVPN_NL-Amsterdam_Bunda_TCP-443-Entry1.ovpn': ovpn('1.1.1.2'),
        }),
      };
    });
    process.env.AIRVPN_API_KEY = 'k3y';
    const { runSync } = await import('../../../src/providers/sync-command.js');
    await runSync('airvpn', { nonInteractive: true, variant: 'tcp' });
    expect(ls('air', 'openvpn')).toEqual(['nl-bunda.ovpn', 'se-alchiba.ovpn', 'servers.json']);
  });

  it('a rejected API key is a clear error', async () => {
    srv.routes.set('GET /api/status/', () => ({ body: fixture('airvpn-status.json') }));
    srv.routes.set('GET /api/generator/', () => json({ result: 'Not authorized' }, 403));
    await expect(syncProvider('airvpn', 'openvpn', prompter({ api_key: 'bad' }))).rejects.toThrow(
      /refused the API key/,
    );
  });
});

describe('mozillavpn', () => {
  const setup = (): {
    devices: { name: string; pubkey: string; ipv4_address: string; ipv6_address: string }[];
  } => {
    const state = {
      devices: [] as { name: string; pubkey: string; ipv4_address: string; ipv6_address: string }[],
    };
    srv.routes.set('GET /www/relays/wireguard/', () => ({ body: fixture('mullvad-relays-wireguard.json') }));
    srv.routes.set('GET /api/v1/vpn/account', (r) =>
      r.headers.authorization === 'Bearer moz-token'
        ? json({ email: 'a@b', devices: state.devices, subscriptions: {} })
        : json({ errno: 401 }, 401),
    );
    srv.routes.set('POST /api/v1/vpn/device', (_r, body) => {
      const b = JSON.parse(body) as { name: string; pubkey: string };
      state.devices.push({
        name: b.name,
        pubkey: b.pubkey,
        ipv4_address: '10.67.1.2/32',
        ipv6_address: 'fc00:bbbb:bbbb:bb01::4:102/128',
      });
      return json({}, 201);
    });
    srv.routes.set('POST /api/v2/vpn/login/verify', (_r, body) => {
      const b = JSON.parse(body) as { code: string; code_verifier: string };
      return b.code === 'ab'.repeat(40) && b.code_verifier.length === 43
        ? json({ user: { devices: state.devices }, token: 'moz-token' })
        : json({ errno: 1 }, 400);
    });
    return state;
  };

  it('with a token: registers a device and writes relay configs', async () => {
    const state = setup();
    await syncProvider('mozilla', 'wireguard', prompter({ token: 'moz-token', device_name: 'laptop' }));
    expect(state.devices).toHaveLength(1);
    expect(ls('mozilla', 'wireguard')).toContain('sweden-segot001.conf');
    expect(readFileSync(dir('mozilla', 'wireguard', 'sweden-segot001.conf'), 'utf8')).toContain(
      'Address = 10.67.1.2/32, fc00:bbbb:bbbb:bb01::4:102/128',
    );
  });

  it('browser login: the loopback callback with the code completes the login', async () => {
    setup();
    const p = prompter({ device_name: 'laptop' });
    const origInfo = p.info.bind(p);
    p.info = (m: string) => {
      origInfo(m);
      const m2 = /port=(\d+)/.exec(m);
      if (m2 !== null) void fetch(`http://127.0.0.1:${m2[1]}/?code=${'ab'.repeat(40)}`);
    };
    await syncProvider('mozillavpn', 'wireguard', p);
    expect(ls('mozilla', 'wireguard')).toContain('uk-gblon001.conf');
  });

  it('an existing device needs its matching private key', async () => {
    const state = setup();
    const kp = generateKeypair();
    state.devices.push({
      name: 'old',
      pubkey: kp.publicKey,
      ipv4_address: '10.67.9.9/32',
      ipv6_address: 'fc00::9/128',
    });
    await expect(
      syncProvider(
        'mozillavpn',
        'wireguard',
        prompter({ token: 'moz-token', device: kp.publicKey, private_key: generateKeypair().privateKey }),
      ),
    ).rejects.toThrow(/does not match/);
    await syncProvider(
      'mozillavpn',
      'wireguard',
      prompter({ token: 'moz-token', device: kp.publicKey, private_key: kp.privateKey }),
    );
    expect(readFileSync(dir('mozilla', 'wireguard', 'sweden-segot001.conf'), 'utf8')).toContain(
      '10.67.9.9/32',
    );
  });
});
