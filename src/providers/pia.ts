// Private Internet Access: OpenVPN (config zips) and WireGuard (server list at sync; the
// token + addKey step at every connect, run in the client as the user).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { arr, bool, obj, optStr, str } from './check.js';
import { askCredentials } from './common.js';
import { PIA_CA_4096 } from './certs.js';
import { countryCode } from './country.js';
import { getJson, getText, HttpError, providerUrl, getBytes } from './http.js';
import type { SyncContext, VpnProtocol } from './types.js';
import { generateKeypair, parseWg, publicKeyOf, renderWg } from './wg.js';
import { readZip, utf8 } from './zip.js';

const ENV = 'VOPONO_PIA_API_URL';
const WWW = 'https://www.privateinternetaccess.com';
const PORT = 1337;

const VARIANTS: { value: string; label: string; file: string }[] = [
  { value: 'default', label: 'Default: UDP 1198, AES-128-CBC, server names', file: 'openvpn.zip' },
  { value: 'ip', label: 'IP: UDP 1198, AES-128-CBC, IP addresses', file: 'openvpn-ip.zip' },
  { value: 'strong', label: 'Strong: UDP 1197, AES-256-CBC, server names', file: 'openvpn-strong.zip' },
  { value: 'tcp', label: 'TCP: TCP 502, AES-128-CBC, server names', file: 'openvpn-tcp.zip' },
  {
    value: 'strong-tcp',
    label: 'Strong TCP: TCP 501, AES-256-CBC, server names',
    file: 'openvpn-strong-tcp.zip',
  },
  { value: 'legacy-ip', label: 'Legacy IP: UDP 8080, BF-CBC, IP addresses', file: 'openvpn-ip-lport.zip' },
  {
    value: 'legacy-tcp-ip',
    label: 'Legacy TCP IP: TCP 443, BF-CBC, IP addresses',
    file: 'openvpn-ip-tcp.zip',
  },
];

async function syncOpenvpn(ctx: SyncContext): Promise<void> {
  const p = ctx.prompt;
  const variant = await p.choice('variant', 'Which set of PIA OpenVPN configs?', VARIANTS, 'default');
  const what = 'PIA OpenVPN configs';
  p.info('Downloading the PIA OpenVPN configs...');
  const zip = readZip(
    await getBytes(providerUrl(`${WWW}/openvpn/${VARIANTS.find((v) => v.value === variant)!.file}`, ENV), {
      what,
    }),
    what,
  );
  const hostnames: Record<string, string> = {};
  for (const e of zip) {
    const lower = e.name.toLowerCase().replace(/ /g, '_');
    let name = lower;
    if (lower.endsWith('.ovpn')) {
      const stem = lower.slice(0, -5);
      const code = countryCode(stem);
      name = code !== undefined ? `${stem}-${code}.ovpn` : lower;
    }
    const text = utf8(e.data);
    const file = ctx.write(name, e.data);
    if (file.endsWith('.ovpn')) {
      const m = /\n *remote +([^ \n]+) +\d+ *\n/.exec(text);
      if (m?.[1] !== undefined) hostnames[file] = m[1];
      ctx.index({ file, country: file.split('-')[0]!.replace(/_/g, ' '), host: m?.[1] });
    }
  }
  const cred = await askCredentials(ctx, 'PIA', 'openvpn/auth.txt');
  ctx.write('auth.txt', `${cred.username}\n${cred.password}`);
  ctx.write('config.txt', JSON.stringify({ hostname_lookup: hostnames }));
  ctx.writeProviderFile('ca.rsa.4096.crt', PIA_CA_4096, false);
}

async function syncWireguard(ctx: SyncContext): Promise<void> {
  const p = ctx.prompt;
  const cred = await askCredentials(ctx, 'PIA', 'openvpn/auth.txt');
  const what = 'PIA server list';
  p.info('Fetching the PIA server list...');
  const text = await getText(providerUrl('https://serverlist.piaservers.net/vpninfo/servers/v6', ENV), {
    what,
  });
  let info: unknown;
  try {
    info = JSON.parse(text.split('\n')[0] ?? '') as unknown;
  } catch {
    throw new HttpError(`${what}: malformed answer (not JSON)`);
  }
  const regions = arr(obj(info, what).regions, what, 'regions');
  const onlyPf = await p.confirm(
    'only_port_forwarding',
    'Only use servers that allow port forwarding?',
    false,
  );
  // checked at sync: a wrong password fails here rather than at the first connect
  await piaToken(cred.username, cred.password, process.env);
  const kp = generateKeypair();
  const cnLookup: Record<string, string> = {};
  const hostnames: Record<string, string> = {};
  for (const r of regions) {
    const o = obj(r, what);
    const id = str(o, 'id', what);
    if (onlyPf && !bool(o, 'port_forward', what)) continue;
    const servers = obj(o.servers, what, 'servers');
    const wg = Array.isArray(servers.wg) ? (servers.wg as unknown[]) : [];
    const first = wg[0];
    if (first === undefined) continue;
    const s = obj(first, what);
    const ip = str(s, 'ip', what);
    const cn = str(s, 'cn', what);
    const file = ctx.write(
      `${id}.conf`,
      renderWg({
        privateKey: kp.privateKey,
        addresses: ['127.0.0.1/32'],
        dns: ['127.0.0.1'],
        mtu: 1420,
        peerPublicKey: '',
        allowedIps: ['0.0.0.0/0'],
        endpoint: `${ip}:${PORT}`,
        keepalive: 25,
      }),
    );
    hostnames[file] = optStr(o, 'dns') ?? '';
    cnLookup[ip] = cn;
    ctx.index({ file, country: optStr(o, 'country'), city: optStr(o, 'name'), host: cn });
  }
  ctx.write(
    'config.txt',
    JSON.stringify({
      user: cred.username,
      pass: cred.password,
      pubkey: kp.publicKey,
      cn_lookup: cnLookup,
      hostname_lookup: hostnames,
    }),
  );
  ctx.writeProviderFile('ca.rsa.4096.crt', PIA_CA_4096, false);
}

export async function sync(protocol: VpnProtocol, ctx: SyncContext): Promise<void> {
  if (protocol === 'wireguard') await syncWireguard(ctx);
  else await syncOpenvpn(ctx);
}

export async function piaToken(user: string, pass: string, env: NodeJS.ProcessEnv): Promise<string> {
  const what = 'PIA login';
  let res: unknown;
  try {
    res = await getJson(providerUrl(`${WWW}/gtoken/generateToken`, ENV, env), {
      headers: { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` },
      what,
    });
  } catch (err) {
    if (err instanceof HttpError && (err.status === 401 || err.status === 403))
      throw new Error('PIA login failed: wrong username or password (or the account expired)');
    throw err;
  }
  const o = obj(res, what);
  if (o.status !== 'OK') throw new Error(`PIA login failed: ${optStr(o, 'message') ?? String(o.status)}`);
  return str(o, 'token', what);
}

/** GET https://CN:1337/addKey with PIA's own CA, connecting to the server's IP (SNI = CN). */
async function addKey(
  ip: string,
  cn: string,
  token: string,
  pubkey: string,
  env: NodeJS.ProcessEnv,
): Promise<unknown> {
  const query = `pt=${encodeURIComponent(token)}&pubkey=${encodeURIComponent(pubkey)}`;
  const base = env[ENV];
  if (base !== undefined && base !== '')
    return getJson(providerUrl(`https://${cn}:${PORT}/addKey?${query}`, ENV, env), { what: 'PIA addKey' });
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: ip,
        port: PORT,
        path: `/addKey?${query}`,
        servername: cn,
        ca: PIA_CA_4096,
        headers: { host: cn },
        timeout: 15000,
        checkServerIdentity: (_h, cert) =>
          cert.subject?.CN === cn
            ? undefined
            : new Error(`PIA server certificate is for ${String(cert.subject?.CN)}, not ${cn}`),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(body) as unknown);
          } catch {
            reject(new Error(`PIA addKey: ${cn} sent a malformed answer (HTTP ${res.statusCode ?? '?'})`));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) =>
      reject(new Error(`PIA addKey: could not reach ${cn} (${ip}:${PORT}): ${e.message}`)),
    );
    req.end();
  });
}

/** The per-connect step: token, addKey, and the config rewritten with the server's answer. */
export async function piaWireguardConnect(
  content: string,
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(await readFile(join(dir, 'config.txt'), 'utf8')) as Record<string, unknown>;
  } catch {
    throw new Error(
      `PIA WireGuard needs ${join(dir, 'config.txt')} from sync; run: vopono sync privateinternetaccess -c wireguard`,
    );
  }
  const user = typeof cfg.user === 'string' ? cfg.user : '';
  const pass = typeof cfg.pass === 'string' ? cfg.pass : '';
  const cnLookup =
    typeof cfg.cn_lookup === 'object' && cfg.cn_lookup !== null
      ? (cfg.cn_lookup as Record<string, unknown>)
      : {};
  const wg = parseWg(content);
  const privateKey = wg.iface.get('privatekey')?.[0];
  const endpoint = wg.peer.get('endpoint')?.[0];
  if (privateKey === undefined || endpoint === undefined)
    throw new Error(
      'the PIA WireGuard config has no PrivateKey or Endpoint; run: vopono sync privateinternetaccess -c wireguard',
    );
  const ip = endpoint.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const cn = cnLookup[ip];
  if (typeof cn !== 'string')
    throw new Error(
      `no PIA server name known for ${ip}; run: vopono sync privateinternetaccess -c wireguard`,
    );
  const token = await piaToken(user, pass, env);
  const what = 'PIA addKey';
  const o = obj(await addKey(ip, cn, token, publicKeyOf(privateKey), env), what);
  if (o.status !== 'OK') throw new Error(`PIA addKey failed: ${optStr(o, 'message') ?? String(o.status)}`);
  const dns = Array.isArray(o.dns_servers)
    ? (o.dns_servers as unknown[]).filter((x): x is string => typeof x === 'string')
    : [];
  const port = typeof o.server_port === 'number' ? o.server_port : PORT;
  return renderWg({
    privateKey,
    addresses: [`${str(o, 'peer_ip', what)}/32`],
    dns,
    mtu: 1420,
    peerPublicKey: str(o, 'server_key', what),
    allowedIps: wg.peer.get('allowedips') ?? ['0.0.0.0/0'],
    endpoint: `${str(o, 'server_ip', what)}:${port}`,
    keepalive: Number(wg.peer.get('persistentkeepalive')?.[0] ?? 25),
  });
}
