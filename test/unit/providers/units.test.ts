import { describe, expect, it } from 'vitest';
import { chooseServer, closestNames, filterByPrefix, matchesPrefix } from '../../../src/providers/servers.js';
import { generateKeypair, isWgKey, parseWg, publicKeyOf, renderWg } from '../../../src/providers/wg.js';
import { countryCode, countryName } from '../../../src/providers/country.js';
import { parseAccount, hostAlias } from '../../../src/providers/mullvad.js';
import { parseAuthCookie, protonFileName } from '../../../src/providers/protonvpn.js';
import { airFileName } from '../../../src/providers/airvpn.js';
import {
  chooseProtocol,
  findProvider,
  normaliseProtocol,
  requireProvider,
} from '../../../src/providers/registry.js';
import { providerUrl } from '../../../src/providers/http.js';
import type { ServerEntry } from '../../../src/providers/types.js';

const e = (name: string): ServerEntry => ({
  provider: 'p',
  protocol: 'wireguard',
  name,
  file: `/x/${name}.conf`,
});

describe('prefix rule (upstream: file name, country part or host part)', () => {
  const all = [
    'sweden-segot001',
    'sweden-sesto001',
    'usa-usnyc301',
    'uk-gblon001',
    'germany-defra001',
    'switzerland-ch',
  ].map(e);
  it('matches as upstream does', () => {
    expect(matchesPrefix(e('sweden-segot001'), 'swe')).toBe(true); // country
    expect(matchesPrefix(e('sweden-segot001'), 'segot')).toBe(true); // host
    expect(matchesPrefix(e('sweden-segot001'), 'sweden-seg')).toBe(true); // file name
    expect(matchesPrefix(e('sweden-segot001'), 'got')).toBe(false);
    expect(matchesPrefix(e('sweden-segot001'), 'SE')).toBe(true); // case-insensitive
    expect(filterByPrefix(all, 's').map((x) => x.name)).toEqual([
      'sweden-segot001',
      'sweden-sesto001',
      'switzerland-ch',
    ]);
    expect(filterByPrefix(all, 'us').map((x) => x.name)).toEqual(['usa-usnyc301']);
    expect(filterByPrefix(all, undefined)).toHaveLength(6);
    expect(filterByPrefix(all, 'sweden-segot001.conf').map((x) => x.name)).toEqual(['sweden-segot001']);
  });
  it('chooses at random among matches and reports the count', () => {
    expect(chooseServer(all, 'se', () => 0)).toMatchObject({
      entry: { name: 'sweden-segot001' },
      matches: 2,
    });
    expect(chooseServer(all, 'se', () => 0.999)).toMatchObject({
      entry: { name: 'sweden-sesto001' },
      matches: 2,
    });
    expect(chooseServer(all, 'xx')).toBeUndefined();
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(chooseServer(all, 's')!.entry.name);
    expect(seen.size).toBe(3);
  });
  it('closest names for a typo', () => {
    expect(closestNames(all, 'germny', 1)).toEqual(['germany-defra001']);
    expect(closestNames(all, 'usnyk', 1)).toEqual(['usa-usnyc301']);
  });
});

describe('wireguard keys and config text', () => {
  it('x25519 matches the RFC 7748 test vector', () => {
    const priv = Buffer.from(
      '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
      'hex',
    ).toString('base64');
    expect(publicKeyOf(priv)).toBe(
      Buffer.from('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a', 'hex').toString(
        'base64',
      ),
    );
  });
  it('generates valid distinct keypairs', () => {
    const a = generateKeypair();
    const b = generateKeypair();
    expect(isWgKey(a.privateKey) && isWgKey(a.publicKey)).toBe(true);
    expect(publicKeyOf(a.privateKey)).toBe(a.publicKey);
    expect(a.privateKey).not.toBe(b.privateKey);
    expect(isWgKey('short')).toBe(false);
  });
  it('renders and parses back', () => {
    const t = renderWg({
      privateKey: 'K',
      addresses: ['10.0.0.2/32', 'fc00::2/128'],
      dns: ['10.64.0.1'],
      mtu: 1420,
      peerPublicKey: 'P',
      allowedIps: ['0.0.0.0/0', '::0/0'],
      endpoint: '1.2.3.4:51820',
      keepalive: 25,
    });
    expect(t).toBe(
      '[Interface]\nPrivateKey = K\nAddress = 10.0.0.2/32, fc00::2/128\nMTU = 1420\nDNS = 10.64.0.1\n\n[Peer]\nPublicKey = P\nAllowedIPs = 0.0.0.0/0, ::0/0\nEndpoint = 1.2.3.4:51820\nPersistentKeepalive = 25\n',
    );
    const p = parseWg(t);
    expect(p.iface.get('address')).toEqual(['10.0.0.2/32', 'fc00::2/128']);
    expect(p.peer.get('endpoint')).toEqual(['1.2.3.4:51820']);
  });
});

describe('names', () => {
  it('providers are case-insensitive with upstream aliases', () => {
    expect(findProvider('MullVad')?.name).toBe('mullvad');
    expect(findProvider('PrivateInternetAccess')?.name).toBe('privateinternetaccess');
    expect(findProvider('MozillaVPN')?.dir).toBe('mozilla');
    expect(findProvider('AirVPN')?.dir).toBe('air');
    expect(() => requireProvider('foo')).toThrow(/unknown provider 'foo'/);
    expect(normaliseProtocol('Wireguard')).toBe('wireguard');
    expect(normaliseProtocol('OpenVpn')).toBe('openvpn');
    expect(chooseProtocol(requireProvider('pia'))).toBe('openvpn');
    expect(() => chooseProtocol(requireProvider('nordvpn'), 'wireguard')).toThrow(
      /nordvpn does not support wireguard/,
    );
  });
  it('country names as upstream writes them, without dashes', () => {
    expect(countryName('se')).toBe('sweden');
    expect(countryName('US')).toBe('usa');
    expect(countryName('gb')).toBe('uk');
    expect(countryName('ba')).toBe('bosnia_and_herzegovina');
    expect(countryName('gw')).toBe('guinea_bissau');
    expect(countryName('zz')).toBeUndefined();
    expect(countryCode('Sweden')).toBe('se');
    expect(countryCode('united kingdom')).toBe('gb');
    expect(countryCode('us_california')).toBeUndefined();
  });
  it('provider-specific parsing', () => {
    expect(parseAccount('1234 5678 9012 3456')).toBe('1234567890123456');
    expect(parseAccount('123')).toBeUndefined();
    expect(hostAlias('se-got-wg-001')).toBe('segot001');
    expect(hostAlias('au10-wireguard')).toBe('au10');
    expect(parseAuthCookie('AUTH-abc=123;')).toEqual({ cookie: 'AUTH-abc=123', uid: 'abc' });
    expect(parseAuthCookie('AUTH-abc\t123')).toEqual({ cookie: 'AUTH-abc=123', uid: 'abc' });
    expect(parseAuthCookie('AUTH-uid=value part')).toBeUndefined();
    expect(protonFileName('se-free-01.protonvpn.udp.ovpn')).toBe('sweden-se-free_01.ovpn');
    expect(protonFileName('ch-se-01.protonvpn.udp.ovpn')).toBe('sweden-se-ch_01.ovpn');
    expect(protonFileName('se-03.protonvpn.udp.ovpn')).toBe('sweden-se-03.ovpn');
    expect(airFileName('AirVPN_SE-Stockholm_Alchiba_UDP-443-Entry3.ovpn')).toEqual({
      file: 'se-alchiba.ovpn',
      country: 'se',
      city: 'Stockholm',
      host: 'Alchiba',
    });
  });
  it('base URL override keeps path and query', () => {
    expect(
      providerUrl('https://api.mullvad.net/www/relays/wireguard/?x=1', 'T', {
        T: 'http://127.0.0.1:8080/base/',
      }),
    ).toBe('http://127.0.0.1:8080/base/www/relays/wireguard/?x=1');
    expect(providerUrl('https://api.mullvad.net/a', 'T', {})).toBe('https://api.mullvad.net/a');
  });
});
