// MozillaVPN: OAuth login (browser + a loopback callback, PKCE), device registration, and
// Mullvad's relay list (MozillaVPN runs on Mullvad's servers).
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { arr, obj, optStr, str } from './check.js';
import { getJson, providerUrl, request } from './http.js';
import { askPrivateKeyOf, askWireguardPort, parseRelays, writeWireguardConfigs } from './mullvad.js';
import type { Prompter, SyncContext, VpnProtocol } from './types.js';
import { generateKeypair } from './wg.js';

const ENV = 'VOPONO_MOZILLAVPN_API_URL';
const V1 = 'https://vpn.mozilla.org/api/v1';
const V2 = 'https://vpn.mozilla.org/api/v2';
const LOGIN_TIMEOUT_MS = Number(process.env.VOPONO_MOZILLA_LOGIN_TIMEOUT_MS ?? '300000');

interface Device {
  name: string;
  pubkey: string;
  ipv4: string;
  ipv6: string;
}

function parseDevices(v: unknown, what: string): Device[] {
  return arr(v, what, 'devices').map((d) => {
    const o = obj(d, what);
    return {
      name: optStr(o, 'name') ?? '',
      pubkey: str(o, 'pubkey', what),
      ipv4: str(o, 'ipv4_address', what),
      ipv6: str(o, 'ipv6_address', what),
    };
  });
}

/** Browser login: prints the URL, waits for the redirect to http://127.0.0.1:PORT/?code=..., verifies. */
async function oauthLogin(p: Prompter): Promise<{ token: string; devices: Device[] }> {
  const b64url = (b: Buffer): string => b.toString('base64url');
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const server = createServer();
  const code = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('MozillaVPN login: no answer from the browser in time')),
      LOGIN_TIMEOUT_MS,
    );
    server.on('request', (req, res) => {
      const m = /^\/\?code=([0-9a-f]{80})$/.exec(req.url ?? '');
      if (req.method !== 'GET' || m === null) {
        res.writeHead(404).end();
        return;
      }
      res
        .writeHead(200, { 'content-type': 'text/plain' })
        .end('vopono: logged in, you can close this tab.\n');
      clearTimeout(timer);
      resolve(m[1]!);
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      p.info(
        `Log in to MozillaVPN in your browser: ${providerUrl(`${V2}/vpn/login/linux?code_challenge_method=S256&code_challenge=${challenge}&port=${port}`, ENV)}`,
      );
    });
  }).finally(() => server.close());
  const what = 'MozillaVPN login';
  const o = obj(
    await getJson(providerUrl(`${V2}/vpn/login/verify`, ENV), {
      json: { code, code_verifier: verifier },
      what,
    }),
    what,
  );
  return { token: str(o, 'token', what), devices: parseDevices(obj(o.user, what, 'user').devices, what) };
}

export async function sync(_protocol: VpnProtocol, ctx: SyncContext): Promise<void> {
  const p = ctx.prompt;
  const relaysWhat = 'Mullvad relay list (MozillaVPN)';
  p.info('Fetching the relay list...');
  const relays = parseRelays(
    await getJson(providerUrl('https://api.mullvad.net/www/relays/wireguard/', ENV), { what: relaysWhat }),
    relaysWhat,
    true,
  );

  let token: string;
  let devices: Device[];
  const accountWhat = 'MozillaVPN account';
  if (p.hasAnswer?.('token') === true) {
    token = await p.text('token', 'MozillaVPN access token');
    devices = parseDevices(
      obj(
        await getJson(providerUrl(`${V1}/vpn/account`, ENV), {
          headers: { authorization: `Bearer ${token}` },
          what: accountWhat,
        }),
        accountWhat,
      ).devices,
      accountWhat,
    );
  } else {
    ({ token, devices } = await oauthLogin(p));
  }
  const auth = { authorization: `Bearer ${token}` };

  let privateKey: string;
  let pubkey: string;
  const pick =
    devices.length === 0
      ? 'new'
      : await p.choice(
          'device',
          'Which MozillaVPN device should vopono use?',
          [
            { value: 'new', label: 'Create a new device (keypair)' },
            ...devices.map((d) => ({ value: d.pubkey, label: `${d.name}: ${d.pubkey}` })),
          ],
          'new',
        );
  if (pick === 'new') {
    const name = await p.text('device_name', 'Name for the new device', {
      default: 'vopono',
      validate: (s) => (/^[A-Za-z0-9-]+$/.test(s) ? undefined : 'letters, digits and dashes only'),
    });
    const kp = generateKeypair();
    await request(providerUrl(`${V1}/vpn/device`, ENV), {
      json: { name, pubkey: kp.publicKey },
      headers: auth,
      what: 'MozillaVPN device registration',
    });
    privateKey = kp.privateKey;
    pubkey = kp.publicKey;
  } else {
    pubkey = pick;
    privateKey = await askPrivateKeyOf(p, pick);
  }
  const account = parseDevices(
    obj(
      await getJson(providerUrl(`${V1}/vpn/account`, ENV), { headers: auth, what: accountWhat }),
      accountWhat,
    ).devices,
    accountWhat,
  );
  const dev = account.find((d) => d.pubkey === pubkey);
  if (dev === undefined) throw new Error(`the key ${pubkey} is not registered on the MozillaVPN account`);
  const port = await askWireguardPort(p);
  writeWireguardConfigs(ctx, relays, { privateKey, addresses: [dev.ipv4, dev.ipv6], port });
}
