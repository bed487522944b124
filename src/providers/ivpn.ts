// iVPN: WireGuard (key generated here or given, its assigned address, host list from the API) and
// OpenVPN (config zip + account ID).
import { arr, obj, optStr, str } from './check.js';
import { askPort, cleanOvpn, countryOrCode } from './common.js';
import { countryCode, slug } from './country.js';
import { getBytes, getJson, providerUrl } from './http.js';
import type { SyncContext, VpnProtocol } from './types.js';
import { generateKeypair, isWgKey, publicKeyOf, renderWg } from './wg.js';
import { readZip, utf8 } from './zip.js';

const ENV = 'VOPONO_IVPN_API_URL';
const WG_PORTS = [2049, 2050, 53, 30587, 41893, 48574, 58237];

async function syncWireguard(ctx: SyncContext): Promise<void> {
  const p = ctx.prompt;
  p.info('Fetching the iVPN server list...');
  const what = 'iVPN server list';
  const list = obj(await getJson(providerUrl('https://api.ivpn.net/v5/servers.json', ENV), { what }), what);
  const gateways = arr(list.wireguard, what, 'wireguard');
  const mode = await p.choice(
    'device',
    'WireGuard key',
    [
      { value: 'new', label: 'Generate a new keypair (you add its public key in the iVPN client area)' },
      { value: 'existing', label: 'Use an existing keypair' },
    ],
    'new',
  );
  let privateKey: string;
  if (mode === 'new') {
    const kp = generateKeypair();
    privateKey = kp.privateKey;
    p.info(`Add this public key in the iVPN client area (WireGuard keys): ${kp.publicKey}`);
  } else {
    privateKey = await p.text('private_key', 'WireGuard private key', {
      secret: true,
      validate: (s) => (isWgKey(s) ? undefined : 'expected a 44-character base64 WireGuard key'),
    });
  }
  const ip = await p.text('ip', `IP address iVPN assigned to public key ${publicKeyOf(privateKey)}`, {
    validate: (s) =>
      /^172\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(s) && s.split('.').every((x) => Number(x) < 256)
        ? undefined
        : 'expected an IPv4 address starting with 172.',
  });
  const dnsChoice = await p.choice(
    'dns_choice',
    'DNS',
    [
      { value: 'standard', label: 'Standard DNS' },
      { value: 'antitracker', label: 'AntiTracker (blocks ads and trackers)' },
      { value: 'hardcore', label: 'AntiTracker hardcore (also social-media trackers)' },
    ],
    'standard',
  );
  const dns =
    { standard: '172.16.0.1', antitracker: '10.0.254.2', hardcore: '10.0.254.3' }[dnsChoice] ?? '172.16.0.1';
  const port = await askPort(p, 41893, (n) => WG_PORTS.includes(n), `one of ${WG_PORTS.join(', ')}`);
  const seen = new Map<string, number>();
  for (const g of gateways) {
    const o = obj(g, what);
    const cc = str(o, 'country_code', what).toLowerCase();
    const city = slug(optStr(o, 'city') ?? '');
    for (const h of arr(o.hosts, what, 'hosts')) {
      const host = obj(h, what);
      const base = `${countryOrCode(cc)}-${cc}-${city}`;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      const file = ctx.write(
        `${base}${n > 1 ? n : ''}.conf`,
        renderWg({
          privateKey,
          addresses: [`${ip}/32`],
          dns: [dns],
          mtu: 1420,
          peerPublicKey: str(host, 'public_key', what),
          allowedIps: ['0.0.0.0/0'],
          endpoint: `${str(host, 'host', what)}:${port}`,
        }),
      );
      ctx.index({
        file,
        country: optStr(o, 'country'),
        city: optStr(o, 'city'),
        host: optStr(host, 'hostname'),
      });
    }
  }
}

async function syncOpenvpn(ctx: SyncContext): Promise<void> {
  const p = ctx.prompt;
  const variant = await p.choice(
    'variant',
    'OpenVPN transport',
    [
      { value: 'udp', label: 'UDP' },
      { value: 'tcp', label: 'TCP' },
    ],
    'udp',
  );
  p.info('Downloading the iVPN OpenVPN configs...');
  const what = 'iVPN OpenVPN configs';
  const zip = readZip(
    await getBytes(
      providerUrl(
        `https://www.ivpn.net/releases/config/ivpn-openvpn-config${variant === 'tcp' ? '-tcp' : ''}.zip`,
        ENV,
      ),
      { what },
    ),
    what,
  );
  for (const e of zip) {
    const lower = e.name.toLowerCase().replace(/ /g, '_');
    if (!lower.endsWith('.ovpn')) {
      ctx.write(lower, e.data);
      continue;
    }
    const stem = lower.slice(0, -5);
    const [country = stem, city] = stem.split('-');
    const code = countryCode(country);
    const name =
      code !== undefined ? `${country}-${code}${city !== undefined ? `-${city}` : ''}.ovpn` : lower;
    const file = ctx.write(name, cleanOvpn(utf8(e.data), true));
    ctx.index({ file, country: country.replace(/_/g, ' '), city: city?.replace(/_/g, ' ') });
  }
  const account = await p.text('username', 'iVPN account ID (i-XXXX-XXXX-XXXX or ivpnXXXXXXXX)');
  ctx.write('auth.txt', `${account}\npassword`);
}

export async function sync(protocol: VpnProtocol, ctx: SyncContext): Promise<void> {
  if (protocol === 'wireguard') await syncWireguard(ctx);
  else await syncOpenvpn(ctx);
}
