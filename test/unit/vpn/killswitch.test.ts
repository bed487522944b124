import { describe, expect, it } from 'vitest';
import {
  buildIptablesRestore,
  buildNftRuleset,
  type KillswitchSpec,
} from '../../../src/daemon/firewall/killswitch.js';

const spec: KillswitchSpec = {
  name: 'vo3_ks',
  tunnelIfs: ['vo3t'],
  vethIf: 'vo3n',
  hostIp: '10.200.3.1',
  hostIp6: 'fd00:3::1',
  endpoints: [{ address: '198.51.100.7', port: 1194, proto: 'udp' }],
  openPorts: [],
  forward: [],
  allowHostAccess: false,
  openHosts: [],
  killswitch: true,
  disableIpv6: false,
};

describe('nftables killswitch', () => {
  it('drops by default and lets out only lo, the tunnel and the remotes', () => {
    const r = buildNftRuleset(spec);
    expect(r.startsWith('table inet vo3_ks\ndelete table inet vo3_ks\ntable inet vo3_ks {')).toBe(true);
    expect(r.match(/policy drop;/g)).toHaveLength(3);
    const output = r.slice(r.indexOf('chain output'), r.indexOf('chain forward'));
    expect(output).toContain('oifname "lo" accept');
    expect(output).toContain('oifname "vo3t" accept');
    expect(output).toContain('oifname "vo3n" ip daddr 198.51.100.7 udp dport 1194 accept');
    expect(output).toContain('oifname "vo3n" ip daddr 10.200.3.1 ct state established,related accept');
    // no neighbour discovery and no general veth access without a reason
    expect(output).not.toContain('icmpv6');
    expect(output.split('\n').filter((l) => l.includes('"vo3n"') && !l.includes('daddr'))).toEqual([]);
  });

  it('lets only marked packets (the VPN client) reach the endpoints when a mark is set', () => {
    const r = buildNftRuleset({ ...spec, endpointMark: 0x766f0003 });
    expect(r).toContain('oifname "vo3n" meta mark 0x766f0003 ip daddr 198.51.100.7 udp dport 1194 accept');
    expect(buildIptablesRestore({ ...spec, endpointMark: 0x766f0003 }, 4)).toContain(
      '-A vo3_ks_out -o vo3n -m mark --mark 0x766f0003 -d 198.51.100.7 -p udp --dport 1194 -j ACCEPT',
    );
  });

  it('opens ports, host access and open hosts when asked', () => {
    const r = buildNftRuleset({
      ...spec,
      openPorts: [8080],
      forward: [3000],
      allowHostAccess: true,
      openHosts: ['192.0.2.0/24', '2001:db8::1'],
    });
    expect(r).toContain('iifname "vo3t" tcp dport { 8080 } accept');
    expect(r).toContain('iifname "vo3n" ip saddr 10.200.3.1 tcp dport { 3000, 8080 } accept');
    expect(r).toContain('oifname "vo3n" ip daddr 10.200.3.1 accept');
    expect(r).toContain('oifname "vo3n" ip6 daddr fd00:3::1 accept');
    expect(r).toContain('oifname "vo3n" ip daddr 192.0.2.0/24 accept');
    expect(r).toContain('oifname "vo3n" ip6 daddr 2001:db8::1 accept');
    expect(r).toContain('icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept');
  });

  it('blocks IPv6 with disableIpv6, also without the killswitch', () => {
    const r = buildNftRuleset({ ...spec, disableIpv6: true });
    expect(r).toContain('meta nfproto ipv6 oifname != "lo" drop');
    const off = buildNftRuleset({ ...spec, killswitch: false, disableIpv6: true });
    expect(off.match(/policy accept;/g)).toHaveLength(3);
    expect(off).toContain('meta nfproto ipv6 oifname != "lo" drop');
    expect(off).not.toContain('oifname "vo3t"');
  });

  it('refuses names and addresses that are not what they claim', () => {
    expect(() => buildNftRuleset({ ...spec, name: 'x; flush ruleset' })).toThrow(/table name/);
    expect(() => buildNftRuleset({ ...spec, vethIf: 'a" accept' })).toThrow(/interface/);
    expect(() => buildNftRuleset({ ...spec, openHosts: ['1.2.3.4 accept'] })).toThrow(/open-hosts/);
    expect(() => buildNftRuleset({ ...spec, openPorts: [70000] })).toThrow(/port/);
  });
});

describe('iptables killswitch', () => {
  it('uses its own chains with a final DROP, for v4 and v6', () => {
    const v4 = buildIptablesRestore(spec, 4);
    expect(v4.split('\n')).toEqual([
      '*filter',
      ':vo3_ks_in - [0:0]',
      ':vo3_ks_out - [0:0]',
      ':vo3_ks_fwd - [0:0]',
      '-A vo3_ks_in -i lo -j ACCEPT',
      '-A vo3_ks_in -i vo3t -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
      '-A vo3_ks_in -i vo3n -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
      '-A vo3_ks_in -j DROP',
      '-A vo3_ks_out -o lo -j ACCEPT',
      '-A vo3_ks_out -o vo3t -j ACCEPT',
      '-A vo3_ks_out -o vo3n -d 198.51.100.7 -p udp --dport 1194 -j ACCEPT',
      '-A vo3_ks_out -o vo3n -d 10.200.3.1 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
      '-A vo3_ks_out -j DROP',
      '-A vo3_ks_fwd -j DROP',
      '-I INPUT 1 -j vo3_ks_in',
      '-I OUTPUT 1 -j vo3_ks_out',
      '-I FORWARD 1 -j vo3_ks_fwd',
      'COMMIT',
      '',
    ]);
    const v6 = buildIptablesRestore(spec, 6);
    expect(v6).toContain('-A vo3_ks_out -o vo3t -j ACCEPT');
    expect(v6).not.toContain('198.51.100.7');
    expect(v6).toContain('-A vo3_ks_out -j DROP');
  });

  it('drops all IPv6 but loopback with disableIpv6', () => {
    const v6 = buildIptablesRestore({ ...spec, disableIpv6: true }, 6);
    expect(v6).toContain('-A vo3_ks_out -o lo -j ACCEPT\n-A vo3_ks_out -j DROP');
    expect(v6).not.toContain('vo3t');
  });
});
