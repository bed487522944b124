import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getProvider, listProviders, listServers, resolveExecConfig } from '../../../src/providers/index.js';
import { testEnv } from './helpers.js';

let env: ReturnType<typeof testEnv>;
beforeEach(() => {
  env = testEnv('http://127.0.0.1:9');
});
afterEach(() => env.restore());

function synced(dirName: string, proto: string, files: Record<string, string>): string {
  const d = join(env.config, 'vopono', dirName, proto);
  mkdirSync(d, { recursive: true, mode: 0o700 });
  for (const [k, v] of Object.entries(files)) writeFileSync(join(d, k), v);
  return d;
}
const WG = '[Interface]\nPrivateKey = x\n\n[Peer]\nPublicKey = y\nEndpoint = 1.2.3.4:51820\n';

describe('resolveExecConfig', () => {
  it('none: no config', async () => {
    expect(await resolveExecConfig({ provider: 'None', cwd: '/', home: env.home })).toEqual({
      provider: 'none',
      protocol: 'none',
    });
  });

  it('custom: relative to cwd and ~ to home, protocol detected like upstream, explicit protocol wins', async () => {
    mkdirSync(join(env.home, 'vpn'));
    writeFileSync(join(env.home, 'vpn', 'mine.conf'), WG);
    writeFileSync(
      join(env.home, 'vpn', 'work.ovpn'),
      'client\nremote vpn.example 1194\nca ca.crt\ntls-auth ta.key 1\nauth-user-pass creds.txt\n',
    );
    writeFileSync(join(env.home, 'vpn', 'ca.crt'), 'CA-PEM\n');
    writeFileSync(join(env.home, 'vpn', 'ta.key'), 'TA-KEY\n');
    writeFileSync(join(env.home, 'vpn', 'creds.txt'), 'alice\nhunter2\n');
    const a = await resolveExecConfig({
      provider: 'custom',
      customPath: 'vpn/mine.conf',
      cwd: env.home,
      home: '/nonexistent',
    });
    expect(a).toMatchObject({
      provider: 'custom',
      protocol: 'wireguard',
      config: { name: 'mine.conf', content: WG },
    });
    const b = await resolveExecConfig({
      provider: 'mullvad',
      customPath: '~/vpn/work.ovpn',
      cwd: '/',
      home: env.home,
    });
    expect(b.protocol).toBe('openvpn');
    expect(b.config!.content).toContain('<ca>\nCA-PEM\n</ca>');
    expect(b.config!.content).toContain('key-direction 1\n<tls-auth>\nTA-KEY\n</tls-auth>');
    expect(b.config!.content).toMatch(/^auth-user-pass$/m);
    expect(b.credentials).toEqual({ username: 'alice', password: 'hunter2' });
    const c = await resolveExecConfig({
      provider: 'custom',
      customPath: join(env.home, 'vpn', 'mine.conf'),
      protocol: 'OpenVpn',
      cwd: '/',
      home: env.home,
    });
    expect(c.protocol).toBe('openvpn');
    writeFileSync(join(env.home, 'vpn', 'amnezia.conf'), '[Interface]\nJc = 4\n');
    expect(
      (
        await resolveExecConfig({
          provider: 'custom',
          customPath: '~/vpn/amnezia.conf',
          cwd: '/',
          home: env.home,
        })
      ).protocol,
    ).toBe('amneziawg');
  });

  it('custom: a missing file or missing referenced file is a clear error', async () => {
    await expect(
      resolveExecConfig({ provider: 'custom', customPath: 'nope.conf', cwd: env.home, home: env.home }),
    ).rejects.toThrow(/cannot read the custom config .*nope\.conf: no such file/);
    writeFileSync(join(env.home, 'x.ovpn'), 'client\nca missing.crt\n');
    await expect(
      resolveExecConfig({ provider: 'custom', customPath: '~/x.ovpn', cwd: '/', home: env.home }),
    ).rejects.toThrow(/refers to .*missing\.crt \(ca\)/);
  });

  it('missing synced configs name the exact sync command', async () => {
    await expect(
      resolveExecConfig({ provider: 'mullvad', server: 'se', cwd: '/', home: env.home }),
    ).rejects.toThrow(/run: vopono sync mullvad -c wireguard$/);
    await expect(
      resolveExecConfig({ provider: 'pia', server: 'se', protocol: 'wireguard', cwd: '/', home: env.home }),
    ).rejects.toThrow(/run: vopono sync privateinternetaccess -c wireguard$/);
    await expect(resolveExecConfig({ provider: 'mullvad', cwd: '/', home: env.home })).rejects.toThrow(
      /a server is needed for mullvad: pass -s PREFIX/,
    );
  });

  it('several matches: one at random, with a notice; exact name wins; no match lists the closest', async () => {
    synced('mv', 'wireguard', {
      'sweden-segot001.conf': WG,
      'sweden-segot002.conf': WG,
      'sweden-sesto001.conf': WG,
      'usa-usnyc301.conf': WG,
      'germany-defra001.conf': WG,
    });
    const r = await resolveExecConfig({
      provider: 'mullvad',
      server: 'se',
      cwd: '/',
      home: env.home,
      random: () => 0.99,
    });
    expect(r.server).toBe('sweden-sesto001');
    expect(r.notice).toBe("server sweden-sesto001 chosen at random from 3 matches for 'se'");
    expect(r.config).toEqual({ name: 'sweden-sesto001.conf', content: WG });
    expect(r.dns).toEqual(['10.64.0.1']);
    const first = await resolveExecConfig({
      provider: 'mullvad',
      server: 'se',
      cwd: '/',
      home: env.home,
      random: () => 0,
    });
    expect(first.server).toBe('sweden-segot001');
    expect(
      (await resolveExecConfig({ provider: 'MULLVAD', server: 'sweden', cwd: '/', home: env.home })).notice,
    ).toMatch(/from 3 matches/);
    const exact = await resolveExecConfig({
      provider: 'mullvad',
      server: 'sweden-segot001',
      cwd: '/',
      home: env.home,
    });
    expect(exact.notice).toBeUndefined();
    await expect(
      resolveExecConfig({ provider: 'mullvad', server: 'swden', cwd: '/', home: env.home }),
    ).rejects.toThrow(
      /no mullvad wireguard server matches 'swden'; closest: sweden-segot001, sweden-segot002, sweden-sesto001/,
    );
  });

  it('finds a referenced file under its lower-cased name (sync lower-cases names like upstream)', async () => {
    synced('pia', 'openvpn', {
      'sweden-se.ovpn': 'client\nca CA.RSA.2048.crt\nauth-user-pass\n',
      'ca.rsa.2048.crt': 'PIA-CA',
      'auth.txt': 'p1\nsecret',
    });
    const r = await resolveExecConfig({ provider: 'pia', server: 'sweden', cwd: '/', home: env.home });
    expect(r.config!.content).toContain('<ca>\nPIA-CA\n</ca>');
    expect(r.credentials).toEqual({ username: 'p1', password: 'secret' });
  });

  it('strips upstream Mullvad script-security from provider OpenVPN configs', async () => {
    synced('mv', 'openvpn', {
      'sweden-se.ovpn': 'client\nscript-security 2\nca mullvad_ca.crt\nauth-user-pass mullvad_userpass.txt\n',
      'mullvad_ca.crt': 'CA',
      'mullvad_userpass.txt': '1234567890123456\nm',
    });
    const r = await resolveExecConfig({
      provider: 'mullvad',
      protocol: 'openvpn',
      server: 'se',
      cwd: '/',
      home: env.home,
    });
    expect(r.config!.content).not.toMatch(/script-security/);
    expect(r.credentials).toEqual({ username: '1234567890123456', password: 'm' });
  });
});

describe('listProviders / getProvider / listServers', () => {
  it('lists every upstream provider with sync state and counts', () => {
    synced('mv', 'wireguard', { 'sweden-segot001.conf': WG, 'servers.json': '[]' });
    synced('mv', 'openvpn', { 'sweden-se.ovpn': 'client', 'mullvad_ca.crt': 'x' });
    const all = listProviders();
    expect(all.map((p) => p.name)).toEqual([
      'mullvad',
      'azirevpn',
      'ivpn',
      'privateinternetaccess',
      'protonvpn',
      'nordvpn',
      'airvpn',
      'mozillavpn',
      'custom',
      'none',
    ]);
    expect(all[0]).toEqual({
      name: 'mullvad',
      aliases: ['mullvad', 'mv'],
      protocols: ['wireguard', 'openvpn'],
      synced: true,
      serverCount: 2,
    });
    expect(all[1]).toMatchObject({ name: 'azirevpn', synced: false, serverCount: 0 });
    expect(getProvider('PrivateInternetAccess')?.dir).toBe('pia');
    expect(getProvider('pia')?.name).toBe('privateinternetaccess');
    expect(getProvider('ProtonVPN')?.dir).toBe('proton');
    expect(getProvider('nope')).toBeUndefined();
    expect(listServers('mullvad').map((s) => `${s.protocol}:${s.name}`)).toEqual([
      'wireguard:sweden-segot001',
      'openvpn:sweden-se',
    ]);
    expect(listServers('mullvad', 'openvpn')).toHaveLength(1);
    expect(() => listServers('mullvad', 'ipsec')).toThrow(/unknown protocol 'ipsec'/);
  });
});
