import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadUserDefaults } from '../../../src/providers/user-config.js';
import { testEnv } from './helpers.js';

let env: ReturnType<typeof testEnv>;
beforeEach(() => {
  env = testEnv('http://127.0.0.1:9');
});
afterEach(() => env.restore());

function write(text: string): string {
  const d = join(env.config, 'vopono');
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'config.toml'), text);
  return join(d, 'config.toml');
}

describe('config.toml', () => {
  it('none there → {}', async () => {
    expect(await loadUserDefaults()).toEqual({});
  });

  it("reads upstream's example and keys in snake or kebab case", async () => {
    write(
      [
        'firewall = "NfTables"',
        'provider = "Mullvad"',
        'protocol = "Wireguard"',
        'server = "usa-us22"',
        'postup = "/home/archie/postup.sh"',
        'predown = "/home/archie/predown.sh"',
        'user = "archie"',
        'dns = "8.8.8.8"',
        '# custom = "/home/user/vpn/mycustomconfig.ovpn"',
        'keep-alive = true',
        'open_ports = [8080, 9090]',
        'forward = 3000',
        'interface = "eth0"',
        'allow_host_access = true',
        'something_unknown = 1',
      ].join('\n'),
    );
    expect(await loadUserDefaults()).toEqual({
      firewall: 'nftables',
      provider: 'Mullvad',
      protocol: 'wireguard',
      server: 'usa-us22',
      postup: '/home/archie/postup.sh',
      predown: '/home/archie/predown.sh',
      user: 'archie',
      dns: ['8.8.8.8'],
      keepAlive: true,
      openPorts: [8080, 9090],
      forward: [3000],
      interface: 'eth0',
      allowHostAccess: true,
    });
  });

  it('invalid TOML → error with the line', async () => {
    const f = write('provider = "Mullvad"\nserver = [\n');
    await expect(loadUserDefaults()).rejects.toThrow(
      new RegExp(`${f.replace(/[/.]/g, '\\$&')} line \\d+, column \\d+: invalid TOML`),
    );
    write('provider = "Mullvad"\nserver "x"\n');
    await expect(loadUserDefaults()).rejects.toThrow(/line 2, column \d+: invalid TOML/);
  });

  it('wrong types and values are named', async () => {
    write('keep_alive = "yes"\n');
    await expect(loadUserDefaults()).rejects.toThrow(/'keep_alive' must be true or false/);
    write('protocol = "ipsec"\n');
    await expect(loadUserDefaults()).rejects.toThrow(/unknown protocol 'ipsec'/);
    write('firewall = "pf"\n');
    await expect(loadUserDefaults()).rejects.toThrow(/firewall must be NfTables or IpTables/);
    write('open_ports = [0]\n');
    await expect(loadUserDefaults()).rejects.toThrow(/'open_ports' must be a port number/);
  });

  it('an explicit path that does not exist is an error', async () => {
    await expect(loadUserDefaults({ path: join(env.home, 'nope.toml') })).rejects.toThrow(
      /cannot read .*nope\.toml: ENOENT/,
    );
  });
});
