// NordVPN: the OpenVPN config zip (ovpn_tcp/ or ovpn_udp/ entries) plus service credentials.
import { askCredentials, countryOrCode } from './common.js';
import { getBytes, providerUrl } from './http.js';
import type { SyncContext, VpnProtocol } from './types.js';
import { readZip } from './zip.js';

const SERVER = /^([a-z]+)(?:-(onion|[a-z]+))?([0-9]+)/;

export async function sync(_protocol: VpnProtocol, ctx: SyncContext): Promise<void> {
  const p = ctx.prompt;
  const variant = await p.choice(
    'variant',
    'Which NordVPN configs?',
    [
      { value: 'tcp', label: 'Default (TCP)' },
      { value: 'udp', label: 'UDP' },
      { value: 'onion-tcp', label: 'Onion over VPN (TCP)' },
      { value: 'onion-udp', label: 'Onion over VPN (UDP)' },
      { value: 'double-tcp', label: 'Double VPN (TCP)' },
      { value: 'double-udp', label: 'Double VPN (UDP)' },
    ],
    'tcp',
  );
  const kind = variant.startsWith('onion') ? 'onion' : variant.startsWith('double') ? 'double' : 'plain';
  const folder = variant.endsWith('udp') ? 'ovpn_udp/' : 'ovpn_tcp/';
  const what = 'NordVPN OpenVPN configs';
  p.info('Downloading the NordVPN OpenVPN configs (large)...');
  const zip = readZip(
    await getBytes(
      providerUrl(
        'https://downloads.nordcdn.com/configs/archives/servers/ovpn.zip',
        'VOPONO_NORDVPN_API_URL',
      ),
      { what, timeoutMs: 300_000 },
    ),
    what,
  );
  let n = 0;
  for (const e of zip) {
    if (!e.path.startsWith(folder) || !e.name.toLowerCase().endsWith('.ovpn')) continue;
    const server = e.name.toLowerCase().split('.')[0]!;
    const m = SERVER.exec(server);
    if (m === null) continue;
    const type = m[2] === undefined ? 'plain' : m[2] === 'onion' ? 'onion' : 'double';
    if (type !== kind) continue;
    const file = ctx.write(`${countryOrCode(m[1]!)}-${server.replace(/-/g, '_')}.ovpn`, e.data);
    ctx.index({
      file,
      country: countryOrCode(m[1]!).replace(/_/g, ' '),
      host: e.name
        .toLowerCase()
        .replace(/\.(tcp|udp)\.ovpn$/, '')
        .replace(/\.ovpn$/, ''),
    });
    n++;
  }
  if (n === 0) throw new Error(`${what}: the archive has no ${variant} configs under ${folder}`);
  const cred = await askCredentials(ctx, 'NordVPN service');
  ctx.write('auth.txt', `${cred.username}\n${cred.password}`);
}
