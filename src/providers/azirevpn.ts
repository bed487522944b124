// AzireVPN: WireGuard via its v3 API (token login, device registration / key replacement, locations).
import { lookup } from 'node:dns/promises';
import { arr, bool, fail, num, obj, optStr, str } from './check.js';
import { countryOrCode, readProviderFile } from './common.js';
import { getJson, HttpError, providerUrl } from './http.js';
import type { SyncContext, VpnProtocol } from './types.js';
import { generateKeypair, isWgKey, publicKeyOf, renderWg } from './wg.js';

const API = 'https://api.azirevpn.com';
const url = (path: string): string => providerUrl(API + path, 'VOPONO_AZIREVPN_API_URL');

interface Device {
  id: string;
  ipv4: string;
  mask: number;
  dns: string[];
  name?: string;
  keys: string[];
}

function parseDevice(v: unknown, what: string): Device {
  const o = obj(v, what);
  const dns = arr(o.dns, what, 'dns').filter((x): x is string => typeof x === 'string');
  const keys = Array.isArray(o.keys)
    ? (o.keys as unknown[])
        .map((k) => (typeof k === 'object' && k !== null ? (k as Record<string, unknown>).key : undefined))
        .filter((k): k is string => typeof k === 'string')
    : [];
  const d: Device = {
    id: str(o, 'id', what),
    ipv4: str(o, 'ipv4_address', what),
    mask: num(o, 'ipv4_netmask', what),
    dns,
    keys,
  };
  const name = optStr(o, 'device_name');
  if (name !== undefined) d.name = name;
  return d;
}

async function token(ctx: SyncContext): Promise<string> {
  const given =
    ctx.prompt.hasAnswer?.('token') === true
      ? await ctx.prompt.text('token', 'AzireVPN access token')
      : undefined;
  if (given !== undefined) return given;
  if (ctx.prompt.hasAnswer?.('username') !== true) {
    const cached = readProviderFile(ctx, 'token.txt')?.trim();
    if (cached !== undefined && cached !== '') {
      ctx.prompt.info('Using the cached AzireVPN access token (token.txt)');
      return cached;
    }
  }
  const username = await ctx.prompt.text('username', 'AzireVPN username');
  const password = await ctx.prompt.text('password', 'AzireVPN password', { secret: true });
  let res: unknown;
  try {
    res = await getJson(url('/v3/tokens'), {
      json: { username, password, comment: 'vopono sync' },
      what: 'AzireVPN login',
    });
  } catch (err) {
    if (err instanceof HttpError && (err.status === 400 || err.status === 401 || err.status === 403))
      throw new Error('AzireVPN login failed: wrong username or password');
    throw err;
  }
  const o = obj(res, 'AzireVPN login');
  if (o.status !== 'success')
    throw new Error(`AzireVPN login failed (${String(o.status)}): check your username and password`);
  const key = str(obj(o.data, 'AzireVPN login', 'data'), 'key', 'AzireVPN login');
  ctx.writeProviderFile('token.txt', key, true);
  return key;
}

async function resolveHost(host: string): Promise<string> {
  try {
    const r = await Promise.race([
      lookup(host, { family: 4 }),
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timeout')), 5000).unref()),
    ]);
    return r.address;
  } catch {
    return host;
  }
}

export async function sync(_protocol: VpnProtocol, ctx: SyncContext): Promise<void> {
  const p = ctx.prompt;
  const tok = await token(ctx);
  const auth = { authorization: `Bearer ${tok}` };
  let me: Record<string, unknown>;
  try {
    me = obj(
      obj(
        await getJson(url('/v3/users/me'), { headers: auth, what: 'AzireVPN account details' }),
        'AzireVPN account details',
      ).data,
      'AzireVPN account details',
      'data',
    );
  } catch (err) {
    if (err instanceof HttpError && err.status === 401)
      throw new Error(
        'AzireVPN rejected the access token; delete ~/.config/vopono/azire/token.txt (or pass --username) and sync again',
      );
    throw err;
  }
  if (!bool(me, 'is_active', 'AzireVPN account details'))
    throw new Error('the AzireVPN account is not active (expired?); renew it, then sync again');
  const ips = obj(me.ips, 'AzireVPN account details', 'ips');
  const allocated = num(ips, 'allocated', 'AzireVPN account details');
  const available = num(ips, 'available', 'AzireVPN account details');

  let device: Device;
  let privateKey: string;
  const existing =
    allocated > 0
      ? arr(
          obj(
            await getJson(url('/v3/ips'), { headers: auth, what: 'AzireVPN device list' }),
            'AzireVPN device list',
          ).data,
          'AzireVPN device list',
          'data',
        ).map((d) => parseDevice(d, 'AzireVPN device list'))
      : [];
  const pick =
    existing.length === 0
      ? 'new'
      : await p.choice(
          'device',
          'Which AzireVPN device should vopono use?',
          [
            { value: 'new', label: 'Create a new device' },
            ...existing.map((d) => ({ value: d.id, label: `${d.name ?? d.id}, ${d.ipv4}` })),
          ],
          'new',
        );
  if (pick === 'new') {
    if (allocated >= available)
      throw new Error(
        'the maximum number of AzireVPN devices is registered; delete one in the AzireVPN manager first',
      );
    const kp = generateKeypair();
    p.info('Registering a new WireGuard key with AzireVPN...');
    device = parseDevice(
      obj(
        await getJson(url('/v3/ips'), {
          json: { key: kp.publicKey },
          headers: auth,
          what: 'AzireVPN device registration',
        }),
        'AzireVPN device registration',
      ).data,
      'AzireVPN device registration',
    );
    privateKey = kp.privateKey;
  } else {
    device = existing.find((d) => d.id === pick)!;
    if (await p.confirm('replace_keys', 'Replace the keys of this device with a new keypair?', false)) {
      const kp = generateKeypair();
      await getJson(url(`/v3/ips/${encodeURIComponent(device.id)}/keys`), {
        method: 'PUT',
        json: { key: kp.publicKey },
        headers: auth,
        what: 'AzireVPN key replacement',
      });
      privateKey = kp.privateKey;
    } else {
      const keys = device.keys;
      privateKey = await p.text('private_key', `Private key for ${device.name ?? device.id}`, {
        secret: true,
        validate: (s) =>
          !isWgKey(s)
            ? 'expected a 44-character base64 WireGuard key'
            : keys.length > 0 && !keys.includes(publicKeyOf(s))
              ? "this private key matches none of the device's public keys"
              : undefined,
      });
    }
  }

  const locs = obj(await getJson(url('/v3/locations'), { what: 'AzireVPN locations' }), 'AzireVPN locations');
  const locations = arr(locs.locations, 'AzireVPN locations', 'locations').map((l) => {
    const o = obj(l, 'AzireVPN locations');
    return {
      name: str(o, 'name', 'AzireVPN locations'),
      city: optStr(o, 'city') ?? '',
      country: optStr(o, 'country') ?? '',
      pool: str(o, 'pool', 'AzireVPN locations'),
      pubkey: str(o, 'pubkey', 'AzireVPN locations'),
    };
  });
  if (locations.length === 0) fail('AzireVPN locations', 'no locations');
  for (const l of locations) {
    const host = await resolveHost(l.pool);
    const file = ctx.write(
      `${countryOrCode(l.name.slice(0, 2))}-${l.name}.conf`,
      renderWg({
        privateKey,
        addresses: [`${device.ipv4}/${device.mask}`],
        dns: device.dns,
        mtu: 1420,
        peerPublicKey: l.pubkey,
        allowedIps: ['0.0.0.0/0', '::/0'],
        endpoint: `${host}:51820`,
      }),
    );
    ctx.index({ file, country: l.country, city: l.city, host: l.pool });
  }
}
