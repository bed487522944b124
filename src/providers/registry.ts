// The static catalogue: one entry per provider with upstream's names, directory aliases,
// protocols and defaults. Importing this file is cheap: each provider's sync code is loaded with a
// dynamic import only when `vopono sync` runs.
import type { ProviderDef } from './types.js';

export const PROVIDERS: readonly ProviderDef[] = [
  {
    name: 'mullvad',
    aliases: ['mullvad', 'mv'],
    dir: 'mv',
    protocols: ['wireguard', 'openvpn'],
    defaultProtocol: 'wireguard',
    dns: ['10.64.0.1'],
    urlEnv: 'VOPONO_MULLVAD_API_URL',
    load: () => import('./mullvad.js'),
  },
  {
    name: 'azirevpn',
    aliases: ['azirevpn', 'azire', 'az'],
    dir: 'azire',
    protocols: ['wireguard'],
    defaultProtocol: 'wireguard',
    dns: ['91.231.153.2', '192.211.0.2'],
    urlEnv: 'VOPONO_AZIREVPN_API_URL',
    load: () => import('./azirevpn.js'),
  },
  {
    name: 'ivpn',
    aliases: ['ivpn', 'iv'],
    dir: 'ivpn',
    protocols: ['wireguard', 'openvpn'],
    defaultProtocol: 'wireguard',
    dns: ['172.16.0.1'],
    urlEnv: 'VOPONO_IVPN_API_URL',
    load: () => import('./ivpn.js'),
  },
  {
    name: 'privateinternetaccess',
    aliases: ['pia', 'privateinternetaccess', 'pi'],
    dir: 'pia',
    protocols: ['openvpn', 'wireguard'],
    defaultProtocol: 'openvpn',
    dns: ['209.222.18.222', '209.222.18.218'],
    urlEnv: 'VOPONO_PIA_API_URL',
    load: () => import('./pia.js'),
  },
  {
    name: 'protonvpn',
    aliases: ['protonvpn', 'proton', 'pr'],
    dir: 'proton',
    protocols: ['openvpn'],
    defaultProtocol: 'openvpn',
    dns: [],
    urlEnv: 'VOPONO_PROTONVPN_API_URL',
    load: () => import('./protonvpn.js'),
  },
  {
    name: 'nordvpn',
    aliases: ['nordvpn', 'nord', 'nd'],
    dir: 'nordvpn',
    protocols: ['openvpn'],
    defaultProtocol: 'openvpn',
    dns: ['103.86.96.100', '103.86.99.100'],
    urlEnv: 'VOPONO_NORDVPN_API_URL',
    load: () => import('./nordvpn.js'),
  },
  {
    name: 'airvpn',
    aliases: ['airvpn', 'air', 'ar'],
    dir: 'air',
    protocols: ['openvpn'],
    defaultProtocol: 'openvpn',
    dns: [],
    urlEnv: 'VOPONO_AIRVPN_API_URL',
    load: () => import('./airvpn.js'),
  },
  {
    name: 'mozillavpn',
    aliases: ['mozillavpn', 'mozilla', 'mz'],
    dir: 'mozilla',
    protocols: ['wireguard'],
    defaultProtocol: 'wireguard',
    dns: ['10.64.0.1'],
    urlEnv: 'VOPONO_MOZILLAVPN_API_URL',
    load: () => import('./mozillavpn.js'),
  },
  {
    name: 'custom',
    aliases: ['custom'],
    dir: 'custom',
    protocols: ['wireguard', 'openvpn'],
    defaultProtocol: 'openvpn',
    dns: [],
  },
  {
    name: 'none',
    aliases: ['none'],
    dir: 'none',
    protocols: [],
    defaultProtocol: 'none',
    dns: [],
  },
];

/** Finds a provider by any of its names, case-insensitively; undefined when unknown. */
export function findProvider(name: string): ProviderDef | undefined {
  const n = name.trim().toLowerCase();
  return PROVIDERS.find((p) => p.aliases.includes(n) || p.name === n);
}

/** Like findProvider, but an unknown name is an Error that lists the known ones. */
export function requireProvider(name: string): ProviderDef {
  const p = findProvider(name);
  if (p === undefined) {
    const known = PROVIDERS.map((x) => x.name).join(', ');
    throw new Error(`unknown provider '${name}' (known: ${known}; 'pia' = privateinternetaccess)`);
  }
  return p;
}

/** Upstream's protocol names (OpenVpn, Wireguard, wg, ovpn, ...) → ours; undefined when unknown. */
export function normaliseProtocol(name: string): string | undefined {
  const n = name.trim().toLowerCase().replace(/[-_ ]/g, '');
  if (n === 'wireguard' || n === 'wg') return 'wireguard';
  if (n === 'openvpn' || n === 'ovpn') return 'openvpn';
  if (n === 'amneziawg' || n === 'awg') return 'amneziawg';
  if (n === 'openconnect') return 'openconnect';
  if (n === 'openfortivpn') return 'openfortivpn';
  if (n === 'warp') return 'warp';
  if (n === 'none') return 'none';
  return undefined;
}

/** Resolves the protocol for a provider: explicit (checked against the provider) or its default. */
export function chooseProtocol(p: ProviderDef, protocol?: string): string {
  if (protocol === undefined || protocol === '') return p.defaultProtocol;
  const n = normaliseProtocol(protocol);
  if (n === undefined) throw new Error(`unknown protocol '${protocol}' (use wireguard or openvpn)`);
  if (p.name !== 'custom' && p.name !== 'none' && !(p.protocols as string[]).includes(n)) {
    const hint =
      p.name === 'protonvpn' && n === 'wireguard'
        ? ' (ProtonVPN WireGuard: download a config from your account and use --custom FILE)'
        : '';
    throw new Error(`${p.name} does not support ${n} (supported: ${p.protocols.join(', ')})${hint}`);
  }
  return n;
}
