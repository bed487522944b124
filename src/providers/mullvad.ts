// Mullvad: WireGuard (account login, device key registration or reuse, relay list) and OpenVPN
// (relay list + CA + account number as credentials). Endpoints and file names as upstream vopono.
import { arr, bool, fail, obj, optStr, str } from './check.js';
import { readProviderFile, shuffle } from './common.js';
import { MULLVAD_CA } from './certs.js';
import { getJson, HttpError, providerUrl } from './http.js';
import type { Prompter, SyncContext, VpnProtocol } from './types.js';
import { generateKeypair, isWgKey, publicKeyOf, renderWg } from './wg.js';

const API = 'https://api.mullvad.net';
const ENV = 'VOPONO_MULLVAD_API_URL';
const url = (path: string): string => providerUrl(API + path, ENV);

export function parseAccount(raw: string): string | undefined {
  const digits = raw.replace(/\D/g, '');
  return digits.length === 16 ? digits : undefined;
}

export interface Relay {
  hostname: string;
  countryCode: string;
  countryName: string;
  cityName: string;
  active: boolean;
  ipv4: string;
  pubkey?: string;
}

export function parseRelays(v: unknown, what: string, wireguard: boolean): Relay[] {
  return arr(v, what).map((r, i) => {
    const o = obj(r, what, `relay ${i}`);
    const relay: Relay = {
      hostname: str(o, 'hostname', what),
      countryCode: str(o, 'country_code', what),
      countryName: str(o, 'country_name', what),
      cityName: optStr(o, 'city_name') ?? '',
      active: bool(o, 'active', what),
      ipv4: str(o, 'ipv4_addr_in', what),
    };
    if (wireguard) relay.pubkey = str(o, 'pubkey', what);
    return relay;
  });
}

/** Upstream's host alias: `se-got-wg-001` → `segot001`; old style `au10-wireguard` → `au10`. */
export function hostAlias(hostname: string): string {
  const parts = hostname.split('-');
  if (parts.length > 2) return `${parts[0]}${parts[1]}${parts[3] ?? ''}`;
  return parts[0] ?? hostname;
}

export const countrySlug = (name: string): string => name.toLowerCase().replace(/ /g, '_');

async function askAccount(ctx: SyncContext): Promise<string> {
  if (ctx.prompt.hasAnswer?.('account') !== true) {
    const cached = readProviderFile(ctx, 'openvpn/mullvad_userpass.txt');
    const acc = cached !== undefined ? parseAccount(cached.split('\n')[0] ?? '') : undefined;
    if (acc !== undefined) {
      ctx.prompt.info(`Using cached Mullvad account number ${acc.slice(0, 4)}...${acc.slice(12)}`);
      return acc;
    }
  }
  const raw = await ctx.prompt.text('account', 'Mullvad account number', {
    secret: true,
    validate: (s) => (parseAccount(s) === undefined ? 'a Mullvad account number has 16 digits' : undefined),
  });
  return parseAccount(raw)!;
}

interface Device {
  name: string;
  pubkey: string;
  ipv4: string;
  ipv6: string;
}

function parseDevice(v: unknown, what: string): Device {
  const o = obj(v, what);
  return {
    name: optStr(o, 'name') ?? '',
    pubkey: str(o, 'pubkey', what),
    ipv4: str(o, 'ipv4_address', what),
    ipv6: str(o, 'ipv6_address', what),
  };
}

interface Cached {
  public_key: string;
  private_key: string;
  ipv4_address: string;
  ipv6_address: string;
}

function readCachedDevice(ctx: SyncContext): Cached | undefined {
  const t = readProviderFile(ctx, 'wireguard/wireguard_device.json');
  if (t === undefined) return undefined;
  try {
    const o = JSON.parse(t) as Record<string, unknown>;
    const c = {
      public_key: o.public_key,
      private_key: o.private_key,
      ipv4_address: o.ipv4_address,
      ipv6_address: o.ipv6_address,
    };
    if (Object.values(c).every((x) => typeof x === 'string') && isWgKey(c.private_key as string))
      return c as Cached;
  } catch {
    /* not reusable */
  }
  return undefined;
}

async function syncWireguard(ctx: SyncContext): Promise<void> {
  const p = ctx.prompt;
  p.info('Fetching the Mullvad WireGuard relay list...');
  const relays = parseRelays(
    await getJson(url('/www/relays/wireguard/'), { what: 'Mullvad relay list' }),
    'Mullvad relay list',
    true,
  );
  const account = await askAccount(ctx);

  p.info('Logging in to Mullvad...');
  let token: string;
  try {
    const t = obj(
      await getJson(url('/auth/v1/token'), { json: { account_number: account }, what: 'Mullvad login' }),
      'Mullvad login',
    );
    token = str(t, 'access_token', 'Mullvad login');
  } catch (err) {
    if (err instanceof HttpError && err.status !== undefined && err.status >= 400 && err.status < 500) {
      throw new Error(
        `Mullvad login failed: the account number was not accepted (HTTP ${err.status}); check it and try again`,
      );
    }
    throw err;
  }
  const auth = { authorization: `Bearer ${token}` };
  const me = obj(
    await getJson(url('/accounts/v1/accounts/me'), { headers: auth, what: 'Mullvad account details' }),
    'Mullvad account details',
  );
  const expiry = str(me, 'expiry', 'Mullvad account details');
  const expiryMs = Date.parse(expiry);
  if (!Number.isNaN(expiryMs) && expiryMs <= Date.now())
    throw new Error(`the Mullvad account expired on ${expiry}; add time to it, then sync again`);
  const maxDevices = typeof me.max_devices === 'number' ? me.max_devices : 5;
  const canAdd = typeof me.can_add_devices === 'boolean' ? me.can_add_devices : true;
  const devices = arr(
    await getJson(url('/accounts/v1/devices'), { headers: auth, what: 'Mullvad device list' }),
    'Mullvad device list',
  ).map((d) => parseDevice(d, 'Mullvad device list'));

  let privateKey: string;
  let device: Device | undefined;
  const cached = readCachedDevice(ctx);
  const cachedDev = cached !== undefined ? devices.find((d) => d.pubkey === cached.public_key) : undefined;
  if (
    cached !== undefined &&
    cachedDev !== undefined &&
    (await p.confirm(
      'reuse_device',
      `Reuse the device key ${cachedDev.pubkey} (${cachedDev.name}) from the last sync?`,
      true,
    ))
  ) {
    device = cachedDev;
    privateKey = cached.private_key;
  } else {
    const choices = [
      { value: 'new', label: 'Generate a new keypair and register it' },
      ...devices.map((d) => ({ value: d.pubkey, label: `${d.name}: ${d.pubkey}` })),
    ];
    const pick =
      devices.length === 0
        ? 'new'
        : await p.choice(
            'device',
            'Which WireGuard key should vopono use? (an existing one needs its private key)',
            choices,
            'new',
          );
    if (pick === 'new') {
      if (devices.length >= maxDevices || !canAdd)
        throw new Error(
          `the Mullvad account already has ${devices.length} devices (the maximum); remove one in the Mullvad account page, or reuse one with --device PUBKEY`,
        );
      const kp = generateKeypair();
      p.info('Registering a new WireGuard key with Mullvad...');
      device = parseDevice(
        await getJson(url('/accounts/v1/devices'), {
          json: { pubkey: kp.publicKey },
          headers: auth,
          what: 'Mullvad device registration',
        }),
        'Mullvad device registration',
      );
      privateKey = kp.privateKey;
      p.info(`Registered public key ${kp.publicKey} as device '${device.name}'`);
    } else {
      device = devices.find((d) => d.pubkey === pick)!;
      const pub = device.pubkey;
      privateKey = await askPrivateKeyOf(p, pub);
    }
  }

  const port = await askWireguardPort(p);

  const n = writeWireguardConfigs(ctx, relays, { privateKey, addresses: [device.ipv4, device.ipv6], port });
  if (n === 0) fail('Mullvad relay list', 'no active WireGuard relays');
  ctx.write(
    'wireguard_device.json',
    JSON.stringify({
      public_key: device.pubkey,
      private_key: privateKey,
      ipv4_address: device.ipv4,
      ipv6_address: device.ipv6,
    }),
  );
}

const OVPN_SETTINGS = [
  'client',
  'dev tun',
  'resolv-retry infinite',
  'nobind',
  'persist-key',
  'persist-tun',
  'verb 3',
  'remote-cert-tls server',
  'ping 10',
  'ping-restart 60',
  'sndbuf 524288',
  'rcvbuf 524288',
  'cipher AES-256-CBC',
  'tls-cipher TLS-DHE-RSA-WITH-AES-256-GCM-SHA384:TLS-DHE-RSA-WITH-AES-256-CBC-SHA',
  'auth-user-pass mullvad_userpass.txt',
  'ca mullvad_ca.crt',
  'tun-ipv6',
];

async function syncOpenvpn(ctx: SyncContext): Promise<void> {
  const p = ctx.prompt;
  p.info('Fetching the Mullvad OpenVPN relay list...');
  const relays = parseRelays(
    await getJson(url('/www/relays/openvpn/'), { what: 'Mullvad relay list' }),
    'Mullvad relay list',
    false,
  );
  const variant = await p.choice(
    'variant',
    'OpenVPN protocol and port',
    [
      { value: 'udp', label: 'Default (UDP)' },
      { value: 'udp53', label: 'UDP (port 53)' },
      { value: 'tcp80', label: 'TCP (port 80)' },
      { value: 'tcp443', label: 'TCP (port 443)' },
    ],
    'udp',
  );
  const ports: Record<string, number[]> = {
    udp: [1300, 1301, 1302, 1194, 1195, 1196, 1197],
    udp53: [53],
    tcp80: [80],
    tcp443: [443],
  };
  const choices = ports[variant]!;
  const port = choices[Math.floor(Math.random() * choices.length)]!;
  const useIps = await p.confirm(
    'use_ips',
    'Use IP addresses instead of host names? (resists DNS blocking; sync more often)',
    false,
  );
  const settings = [
    ...OVPN_SETTINGS,
    ...(variant.startsWith('udp') ? ['proto udp', 'fast-io'] : ['proto tcp']),
  ];

  const files = new Map<string, { remotes: string[]; country: string }>();
  for (const r of relays.filter((x) => x.active)) {
    const name = `${countrySlug(r.countryName)}-${r.countryCode}.ovpn`;
    const e = files.get(name) ?? { remotes: [], country: r.countryName };
    e.remotes.push(
      useIps ? `remote ${r.ipv4} ${port} # ${r.hostname}` : `remote ${r.hostname}.relays.mullvad.net ${port}`,
    );
    files.set(name, e);
  }
  for (const [name, e] of files) {
    const remotes = shuffle(e.remotes).slice(0, 64);
    const body =
      [...settings, ...remotes, ...(remotes.length > 1 ? ['remote-random'] : [])].join('\n') + '\n';
    const file = ctx.write(name, body);
    ctx.index({ file, country: e.country, host: name.split('-')[1]?.replace('.ovpn', '') });
  }
  ctx.write('mullvad_ca.crt', MULLVAD_CA.endsWith('\n') ? MULLVAD_CA : MULLVAD_CA + '\n');
  const account = await askAccount(ctx);
  ctx.write('mullvad_userpass.txt', `${account}\nm`);
}

/** Asks for the private key of a registered device, checked against its public key. */
export function askPrivateKeyOf(p: Prompter, publicKey: string): Promise<string> {
  return p.text('private_key', `Private key for ${publicKey}`, {
    secret: true,
    validate: (s) =>
      !isWgKey(s)
        ? 'expected a 44-character base64 WireGuard key'
        : publicKeyOf(s) !== publicKey
          ? 'this private key does not match the public key'
          : undefined,
  });
}

/** Asks for a WireGuard port among those Mullvad's relays accept. */
export async function askWireguardPort(p: Prompter): Promise<number> {
  return Number(
    await p.text('port', 'WireGuard port (53, 4000-33433, 33565-51820, 52000-60000)', {
      default: '51820',
      validate: (s) => {
        const n = Number(s);
        return Number.isInteger(n) &&
          (n === 53 || (n >= 4000 && n <= 33433) || (n >= 33565 && n <= 51820) || (n >= 52000 && n <= 60000))
          ? undefined
          : 'port must be 53, or in 4000-33433, 33565-51820, 52000-60000';
      },
    }),
  );
}

/** One wg-quick config per active relay, in upstream's file naming; returns how many. */
export function writeWireguardConfigs(
  ctx: SyncContext,
  relays: Relay[],
  o: { privateKey: string; addresses: string[]; port: number },
): number {
  let n = 0;
  for (const r of relays.filter((x) => x.active)) {
    const file = ctx.write(
      `${countrySlug(r.countryName)}-${hostAlias(r.hostname)}.conf`,
      renderWg({
        privateKey: o.privateKey,
        addresses: o.addresses,
        dns: ['10.64.0.1'],
        mtu: 1420,
        peerPublicKey: r.pubkey!,
        allowedIps: ['0.0.0.0/0', '::0/0'],
        endpoint: `${r.ipv4}:${o.port}`,
      }),
    );
    ctx.index({ file, country: r.countryName, city: r.cityName, host: r.hostname });
    n++;
  }
  return n;
}

export async function sync(protocol: VpnProtocol, ctx: SyncContext): Promise<void> {
  if (protocol === 'wireguard') await syncWireguard(ctx);
  else await syncOpenvpn(ctx);
}
