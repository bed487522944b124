// ProtonVPN: OpenVPN config zip fetched with the user's session cookie (AUTH-uid=value) and their
// OpenVPN credentials. (WireGuard: download a config in the Proton account and use --custom.)
import { askCredentials, cleanOvpn, countryOrCode } from './common.js';
import { getBytes, HttpError, providerUrl } from './http.js';
import type { SyncContext, VpnProtocol } from './types.js';
import { readZip, utf8 } from './zip.js';

const COOKIE = /^[;\s]*AUTH-([^=\t:;\s]+)[\s=:]+([^\s;=]+)[;\s]*$/;

/** `AUTH-abc=123;`, `AUTH-abc: 123`, `AUTH-abc\t123` → { cookie: 'AUTH-abc=123', uid: 'abc' }. */
export function parseAuthCookie(raw: string): { cookie: string; uid: string } | undefined {
  const m = COOKIE.exec(raw.replace(/\r?\n/g, ''));
  if (m === null) return undefined;
  return { cookie: `AUTH-${m[1]}=${m[2]}`, uid: m[1]! };
}

/** Upstream's file names: `se-free-01` → `sweden-se-01`; `ch-se-01` → `sweden-se-ch_01`. */
export function protonFileName(entry: string): string {
  const stem = entry.toLowerCase().split('.')[0]!;
  const parts = stem.split('-');
  let code = stem;
  let host: string | undefined;
  if (stem.includes('free')) {
    code = parts[0]!;
    host = parts.slice(1).join('_');
  } else if (parts.length >= 3) {
    code = parts[1]!;
    host = `${parts[0]}_${parts.slice(2).join('_')}`;
  } else if (parts.length === 2) {
    code = parts[0]!;
    host = parts[1];
  }
  return `${countryOrCode(code)}-${code}${host !== undefined ? `-${host}` : ''}.ovpn`;
}

export async function sync(_protocol: VpnProtocol, ctx: SyncContext): Promise<void> {
  const p = ctx.prompt;
  const tier = await p.choice(
    'tier',
    'ProtonVPN account tier',
    [
      { value: 'free', label: 'Free' },
      { value: 'plus', label: 'Plus' },
    ],
    'free',
  );
  const category =
    tier === 'plus'
      ? await p.choice(
          'category',
          'Which configs?',
          [
            { value: 'standard', label: 'Standard' },
            { value: 'securecore', label: 'Secure Core (Plus only)' },
          ],
          'standard',
        )
      : 'standard';
  const transport = await p.choice(
    'variant',
    'OpenVPN transport',
    [
      { value: 'udp', label: 'UDP' },
      { value: 'tcp', label: 'TCP' },
    ],
    'udp',
  );
  const raw = await p.text(
    'cookie',
    'Log in at account.protonvpn.com, then paste the cookie of the form AUTH-xxx=yyy',
    {
      secret: true,
      validate: (s) =>
        parseAuthCookie(s) === undefined ? 'expected AUTH-xxx=yyy (or AUTH-xxx: yyy)' : undefined,
    },
  );
  const { cookie, uid } = parseAuthCookie(raw)!;
  const cat = tier === 'free' ? 'Server' : category === 'securecore' ? 'SecureCore' : 'Country';
  const q = `Category=${cat}&Tier=${tier === 'free' ? 0 : 2}&Platform=Linux&Protocol=${transport}`;
  const what = 'ProtonVPN OpenVPN configs';
  p.info('Downloading the ProtonVPN OpenVPN configs...');
  let bytes: Uint8Array;
  try {
    bytes = await getBytes(
      providerUrl(`https://account.protonvpn.com/api/vpn/config?${q}`, 'VOPONO_PROTONVPN_API_URL'),
      { headers: { cookie, 'x-pm-uid': uid }, what },
    );
  } catch (err) {
    if (err instanceof HttpError && (err.status === 401 || err.status === 403 || err.status === 422))
      throw new Error(
        'ProtonVPN refused the session cookie (expired or wrong); log in again and copy a fresh AUTH-... cookie',
      );
    throw err;
  }
  for (const e of readZip(bytes, what)) {
    if (!e.name.toLowerCase().endsWith('.ovpn')) {
      ctx.write(e.name, e.data);
      continue;
    }
    const name = protonFileName(e.name);
    const file = ctx.write(name, cleanOvpn(utf8(e.data)));
    ctx.index({
      file,
      country: name.split('-')[0]!.replace(/_/g, ' '),
      host: e.name.toLowerCase().split('.')[0],
    });
  }
  const cred = await askCredentials(
    ctx,
    'ProtonVPN OpenVPN (not your account login; add +pmp for port forwarding)',
  );
  ctx.write('auth.txt', `${cred.username}\n${cred.password}`);
}
