import { describe, expect, it } from 'vitest';
import { optionsFrom } from '../../../src/tui/main.js';

describe('TUI exec options from config.toml', () => {
  it('carries what the form does not ask, as vopono exec would', () => {
    const o = optionsFrom({
      firewall: 'iptables',
      interface: 'eth9',
      openPorts: [8080],
      hosts: ['a.example'],
      allowHostAccess: true,
      postup: '/bin/true',
    })('mullvad');
    expect(o).toMatchObject({
      provider: 'mullvad',
      firewall: 'iptables',
      interface: 'eth9',
      openPorts: [8080],
      hosts: ['a.example'],
      allowHostAccess: true,
      postup: '/bin/true',
      noKillswitch: false,
      keepAlive: false,
      dns: [],
    });
    const plain = optionsFrom({})('none');
    expect(plain).toMatchObject({ provider: 'none', openPorts: [] });
    expect(plain.firewall).toBeUndefined();
  });
});
