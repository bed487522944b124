import { describe, expect, it } from 'vitest';
import {
  checkOpenvpnConfig,
  inlineOpenvpnFiles,
  OpenvpnConfigError,
  PROGRAM_DIRECTIVES,
  pushedDns,
  rewriteOpenvpnConfig,
  tokenize,
} from '../../../src/daemon/vpn/openvpn-config.js';
import { judgeOpenvpnLog } from '../../../src/daemon/vpn/openvpn.js';

const BASE = `client
dev tun
proto udp
remote vpn.example.com 1194
remote 192.0.2.10 443 tcp
nobind
auth-user-pass
<ca>
-----BEGIN CERTIFICATE-----
up /bin/sh
-----END CERTIFICATE-----
</ca>
`;

function problems(text: string, isRoot = false): string[] {
  try {
    checkOpenvpnConfig(text, { isRoot });
  } catch (e) {
    if (e instanceof OpenvpnConfigError) return e.problems.map((p) => `${p.line}: ${p.message}`);
    throw e;
  }
  return [];
}

describe('checkOpenvpnConfig', () => {
  it('accepts a plain client config (inline block contents are not directives)', () => {
    const info = checkOpenvpnConfig(BASE, { isRoot: false });
    expect(info.remotes).toEqual([
      { host: 'vpn.example.com', port: 1194, proto: 'udp', line: 4 },
      { host: '192.0.2.10', port: 443, proto: 'tcp', line: 5 },
    ]);
    expect(info.authUserPass).toBe(true);
    expect(info.devType).toBe('tun');
  });

  it.each([...PROGRAM_DIRECTIVES])('refuses %s from a non-root user, naming directive and line', (d) => {
    const p = problems(BASE.replace('nobind', `nobind\n${d} /usr/bin/something arg`));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(new RegExp(`^7: '${d}' runs a program`));
  });

  it("collects the config's own dhcp-option DNS", () => {
    expect(
      checkOpenvpnConfig(BASE + 'dhcp-option DNS 10.8.0.1\ndhcp-option DOMAIN x\n', { isRoot: false }).dns,
    ).toEqual(['10.8.0.1']);
  });

  it('allows them for root', () => {
    expect(
      problems(BASE.replace('nobind', 'nobind\nscript-security 2\nup /etc/openvpn/up.sh'), true),
    ).toEqual([]);
  });

  it('refuses script-security above 1 but not 0 or 1', () => {
    expect(problems(BASE + 'script-security 2\n')).toEqual([
      "13: 'script-security 2' allows scripts; at most 1 is allowed",
    ]);
    expect(problems(BASE + 'script-security 3\n')).toHaveLength(1);
    expect(problems(BASE + 'script-security 1\n')).toEqual([]);
    expect(problems(BASE + 'script-security 0\n')).toEqual([]);
  });

  it('refuses files named by path, host-state directives and foreign devices', () => {
    const p = problems(
      BASE.replace(
        '<ca>',
        'ca /root/ca.crt\nlog /etc/passwd\nmanagement 127.0.0.1 7505\ndev eth0\nconfig /root/other.conf\nauth-user-pass /root/creds\n<ca>',
      ),
    );
    expect(p).toEqual(
      [
        "2: 'dev eth0': only tun or tap (vopono names the device)",
        "8: 'ca /root/ca.crt' names a file, which the daemon does not open for you: put its content inline as <ca>...</ca>",
        "9: 'log' changes files or state outside the namespace; not allowed in a user's config",
        "10: 'management' changes files or state outside the namespace; not allowed in a user's config",
        "11: 'dev eth0': only tun or tap (vopono names the device)",
        "12: 'config' changes files or state outside the namespace; not allowed in a user's config",
        "13: 'auth-user-pass /root/creds' names a file, which the daemon does not open for you",
      ].filter((l) => !l.startsWith('2:')),
    );
  });

  it('handles quoting, comments, leading dashes and case', () => {
    expect(tokenize(`up "/bin/my script" 'x y' # comment`)).toEqual(['up', '/bin/my script', 'x y']);
    expect(problems(BASE + '--UP "/bin/a b"\n')).toEqual([
      "13: 'up' runs a program or loads code as root; not allowed in a user's config",
    ]);
    expect(problems(BASE + '# up /bin/sh\n; down /bin/sh\n')).toEqual([]);
  });

  it('needs a remote, and checks ports and protocols', () => {
    expect(problems('client\ndev tun\n')).toEqual(["1: no 'remote' in the config"]);
    expect(problems('client\nremote a.example 99999\n')).toEqual(["2: 'remote a.example 99999': bad port"]);
    expect(problems('client\nremote a.example 1194 sctp\n')).toEqual([
      "2: 'remote': unknown protocol 'sctp'",
    ]);
    const info = checkOpenvpnConfig('client\nport 443\nproto tcp-client\nremote a.example\n', {
      isRoot: false,
    });
    expect(info.remotes).toEqual([{ host: 'a.example', port: 443, proto: 'tcp', line: 4 }]);
  });

  it('reports an unclosed inline block', () => {
    expect(problems('client\nremote 192.0.2.1\n<ca>\nabc\n')).toEqual(['3: <ca> is never closed']);
  });
});

describe('checkOpenvpnConfig: what openvpn would read differently', () => {
  it('splits on any whitespace, like openvpn (vertical tab, form feed, CR)', () => {
    expect(problems(BASE + 'up\v/bin/sh\n')).toEqual([
      "13: 'up' runs a program or loads code as root; not allowed in a user's config",
    ]);
    expect(problems(BASE + 'plugin\f/tmp/x.so\n')).toHaveLength(1);
    expect(problems(BASE.replace(/\n/g, '\r\n') + 'up /bin/sh\r\n')).toHaveLength(1);
  });

  it('refuses lines openvpn would split (over 255 bytes), also inside inline blocks', () => {
    const long = `remote 192.0.2.1 1194 udp ${' '.repeat(230)}up /bin/sh`;
    expect(problems(BASE + long + '\n')).toEqual([
      '13: line is longer than 255 bytes (openvpn would split it)',
    ]);
    const inBlock = BASE.replace('up /bin/sh\n', `${'A'.repeat(255)}</ca>\n`);
    expect(problems(inBlock)).toEqual(['10: line is longer than 255 bytes (openvpn would split it)']);
  });

  it('ends an inline block where openvpn does (a line starting with the closing tag)', () => {
    const sneaky = BASE.replace(
      '-----END CERTIFICATE-----\n</ca>',
      '</ca> trailing words\nup /bin/sh\n</ca>',
    );
    expect(problems(sneaky)).toContainEqual(
      "12: 'up' runs a program or loads code as root; not allowed in a user's config",
    );
  });

  it('sees through a UTF-8 BOM and refuses NUL bytes', () => {
    expect(problems('\uFEFFup /bin/sh\n' + BASE)).toEqual([
      "1: 'up' runs a program or loads code as root; not allowed in a user's config",
    ]);
    expect(problems(BASE + 'verb 3\0\nup /bin/sh\n')).toContainEqual('1: the config contains a NUL byte');
  });
});

describe('rewriteOpenvpnConfig', () => {
  it('replaces remote names by resolved addresses and comments out what vopono sets', () => {
    const out = rewriteOpenvpnConfig(BASE, new Map([['vpn.example.com', ['198.51.100.1', '198.51.100.2']]]));
    expect(out).toContain('remote 198.51.100.1 1194\nremote 198.51.100.2 1194\nremote 192.0.2.10 443 tcp\n');
    expect(out).toContain('# (vopono) dev tun');
    expect(out).toContain('# (vopono) auth-user-pass');
    expect(out).toContain('up /bin/sh\n-----END'); // inline block body untouched
  });
});

describe('openvpn log', () => {
  it('takes pushed DNS from PUSH_REPLY', () => {
    const log =
      "2026-11-28 PUSH: Received control message: 'PUSH_REPLY,redirect-gateway def1,dhcp-option DNS 10.8.0.1,dhcp-option DNS6 fd00::1,dns server 0 address 10.8.0.53,route-gateway 10.8.0.1'\n";
    expect(pushedDns(log)).toEqual(['10.8.0.1', 'fd00::1', '10.8.0.53']);
  });

  it('judges success, AUTH_FAILED and options errors', () => {
    expect(judgeOpenvpnLog('... Initialization Sequence Completed\n')).toEqual({ ok: true });
    expect(judgeOpenvpnLog('AUTH: Received control message: AUTH_FAILED\n')).toEqual({
      ok: false,
      reason: 'authentication failed (AUTH_FAILED)',
    });
    expect(
      judgeOpenvpnLog(
        'Options error: Unrecognized option or missing or extra parameter(s) in x.conf:3: bogus (2.6.14)\n',
      ),
    ).toEqual({
      ok: false,
      reason:
        'options error: Unrecognized option or missing or extra parameter(s) in x.conf:3: bogus (2.6.14)',
    });
    expect(judgeOpenvpnLog('TLS: Initial packet from ...\n')).toBeUndefined();
  });
});

describe('inlineOpenvpnFiles', () => {
  it('inlines files read by the client', () => {
    const files: Record<string, string> = { 'ca.crt': 'CA-PEM\n', 'ta.key': 'TA\n' };
    const out = inlineOpenvpnFiles(
      'client\nca ca.crt\ntls-auth ta.key 1\ncert missing.crt\n',
      (p) => files[p],
    );
    expect(out).toBe(
      'client\n<ca>\nCA-PEM\n</ca>\n<tls-auth>\nTA\n</tls-auth>\nkey-direction 1\ncert missing.crt\n',
    );
  });
});
