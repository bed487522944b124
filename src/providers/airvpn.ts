// AirVPN: the server list from the status API, then the config generator (zip) with the user's
// API key (AIRVPN_API_KEY or --api-key). Configs embed their certificates: no auth file.
import { arr, obj, str } from './check.js';
import { getBytes, getJson, HttpError, providerUrl } from './http.js';
import type { SyncContext, VpnProtocol } from './types.js';
import { readZip, utf8 } from './zip.js';

const ENV = 'VOPONO_AIRVPN_API_URL';

/** `AirVPN_SE-Stockholm_Alchiba_UDP-443-Entry1.ovpn` → `se-alchiba.ovpn` (upstream's naming). */
export function airFileName(
  name: string,
): { file: string; country: string; city: string; host: string } | undefined {
  const parts = name.split('_');
  const loc = parts[1];
  const server = parts[2];
  if (loc === undefined || server === undefined) return undefined;
  const [cc = '', city = ''] = loc.split('-');
  return {
    file: `${cc.toLowerCase()}-${server.toLowerCase()}.ovpn`,
    country: cc.toLowerCase(),
    city,
    host: server,
  };
}

export async function sync(_protocol: VpnProtocol, ctx: SyncContext): Promise<void> {
  const p = ctx.prompt;
  const transport = await p.choice(
    'variant',
    'OpenVPN transport',
    [
      { value: 'udp', label: 'UDP 443' },
      { value: 'tcp', label: 'TCP 443' },
    ],
    'udp',
  );
  const what = 'AirVPN server list';
  p.info('Fetching the AirVPN server list...');
  const servers = arr(
    obj(await getJson(providerUrl('https://airvpn.org/api/status/', ENV), { what }), what).servers,
    what,
    'servers',
  ).map((s) => str(obj(s, what), 'public_name', what));
  const key = await p.text('api_key', 'AirVPN API key (Client Area → API settings)', { secret: true });
  const q = `protocols=openvpn_1_${transport}_443&download=zip&system=linux&iplayer_exit=ipv4&servers=${servers.map(encodeURIComponent).join('%2C')}`;
  const w2 = 'AirVPN OpenVPN configs';
  p.info('Downloading the AirVPN OpenVPN configs...');
  let bytes: Uint8Array;
  try {
    bytes = await getBytes(providerUrl(`https://airvpn.org/api/generator/?${q}`, ENV), {
      headers: { 'API-KEY': key },
      what: w2,
    });
  } catch (err) {
    if (err instanceof HttpError && (err.status === 401 || err.status === 403))
      throw new Error('AirVPN refused the API key; check it in the Client Area (API settings)');
    throw err;
  }
  if (bytes[0] === 0x7b) {
    // {"result":"...error..."} instead of a zip
    const msg = /"(?:result|error|message)"\s*:\s*"([^"]*)"/.exec(utf8(bytes))?.[1];
    throw new Error(`AirVPN refused the request: ${msg ?? 'unknown error'} (check the API key)`);
  }
  for (const e of readZip(bytes, w2)) {
    if (!e.name.toLowerCase().endsWith('.ovpn')) {
      ctx.write(e.name, e.data);
      continue;
    }
    const n = airFileName(e.name);
    const file = ctx.write(n?.file ?? e.name, e.data);
    if (n !== undefined) ctx.index({ file, country: n.country, city: n.city, host: n.host });
  }
}
