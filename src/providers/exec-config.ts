// From `-p PROVIDER -s SERVER [-c PROTOCOL] | --custom FILE` to the config the daemon receives.
// Runs in the client, as the user: every file is read with the user's rights, and files an
// OpenVPN config refers to (ca, tls-auth, crl-verify, ...) are inlined, because the daemon never
// opens a user's path. PIA WireGuard's per-connect token/addKey step also runs here.
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { existingDir, voponoDir } from './paths.js';
import { chooseProtocol, requireProvider } from './registry.js';
import { chooseServer, closestNames, scanServers } from './servers.js';

export interface ExecConfigRequest {
  provider: string;
  server?: string;
  protocol?: string;
  customPath?: string;
  cwd: string;
  home: string;
  env?: NodeJS.ProcessEnv;
  /** For tests: the random source of the server choice. */
  random?: () => number;
}

export interface ExecConfig {
  provider: string;
  protocol: string;
  server?: string;
  config?: { name: string; content: string };
  notice?: string;
  /** OpenVPN username/password from the provider's auth file (for ExecOptions.credentials). */
  credentials?: { username: string; password: string };
  /** The provider's default resolvers (used when neither the config nor --dns gives any). */
  dns?: string[];
}

export function expandPath(p: string, cwd: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return join(home, p.slice(2));
  return isAbsolute(p) ? p : resolve(cwd, p);
}

/** Upstream's detection: `[Interface]` → WireGuard (AmneziaWG with its extra keys), else OpenVPN. */
export function detectProtocol(content: string): string {
  if (!content.includes('[Interface]')) return 'openvpn';
  if (/^\s*(Jc|Jmin|Jmax|S1|S2|H1|H2|H3|H4)\s*=/m.test(content)) return 'amneziawg';
  return 'wireguard';
}

const INLINE = new Set([
  'ca',
  'cert',
  'key',
  'tls-auth',
  'tls-crypt',
  'tls-crypt-v2',
  'crl-verify',
  'extra-certs',
  'secret',
  'dh',
  'http-proxy-user-pass',
]);

function unquote(s: string): string {
  return s.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
}

/**
 * Inlines the files an OpenVPN config names, relative to its directory, and takes
 * `auth-user-pass FILE` (or a bare `auth-user-pass` with auth.txt beside) as credentials.
 */
export async function inlineOpenvpn(
  content: string,
  dir: string,
  authFallback?: string,
): Promise<{ content: string; credentials?: { username: string; password: string } }> {
  const out: string[] = [];
  let credentials: { username: string; password: string } | undefined;
  let inBlock: string | undefined;
  for (const raw of content.replace(/\r\n/g, '\n').split('\n')) {
    const line = raw.trim();
    if (inBlock !== undefined) {
      out.push(raw);
      if (line === `</${inBlock}>`) inBlock = undefined;
      continue;
    }
    const open = /^<([a-z0-9-]+)>$/.exec(line);
    if (open !== null) {
      inBlock = open[1];
      out.push(raw);
      continue;
    }
    const m = /^([a-z0-9-]+)(?:\s+(.*))?$/.exec(line);
    const directive = m?.[1];
    const args = (m?.[2] ?? '').replace(/\s+#.*$/, '').trim();
    if (directive === 'auth-user-pass') {
      const file = args !== '' ? unquote(args.split(/\s+/)[0]!) : authFallback;
      if (file !== undefined) {
        const path = isAbsolute(file) ? file : join(dir, file);
        let text: string | undefined;
        try {
          text = await readFile(path, 'utf8');
        } catch {
          if (args !== '')
            throw new Error(`the OpenVPN config names the credentials file ${path}, which cannot be read`);
        }
        if (text !== undefined) {
          const [u, p] = text.split('\n');
          if ((u ?? '').trim() !== '')
            credentials = { username: (u ?? '').trim(), password: (p ?? '').trim() };
        }
      }
      out.push('auth-user-pass');
      continue;
    }
    if (
      directive !== undefined &&
      INLINE.has(directive) &&
      args !== '' &&
      args.split(/\s+/)[0] !== '[inline]'
    ) {
      const parts = args.split(/\s+/);
      const file = unquote(parts[0]!);
      const path = isAbsolute(file) ? file : join(dir, file);
      let text: string;
      try {
        // sync lower-cases file names as upstream does; a config may still name the original case
        text = await readFile(path, 'utf8').catch(async (e: unknown) =>
          isAbsolute(file) ? Promise.reject(e) : readFile(join(dir, file.toLowerCase()), 'utf8'),
        );
      } catch (err) {
        throw new Error(
          `the OpenVPN config refers to ${path} (${directive}), which cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        );
      }
      if (directive === 'tls-auth' && parts[1] !== undefined) out.push(`key-direction ${parts[1]}`);
      if (directive === 'crl-verify' && parts[1] === 'dir') {
        out.push(raw); // a CRL directory cannot be inlined; leave it for the daemon to refuse or use
        continue;
      }
      out.push(`<${directive}>`, text.trimEnd(), `</${directive}>`);
      continue;
    }
    out.push(raw);
  }
  const r: { content: string; credentials?: { username: string; password: string } } = {
    content: out.join('\n'),
  };
  if (credentials !== undefined) r.credentials = credentials;
  return r;
}

export async function resolveExecConfig(req: ExecConfigRequest): Promise<ExecConfig> {
  const env = req.env ?? process.env;
  const custom =
    req.customPath !== undefined && req.customPath !== ''
      ? req.customPath
      : req.provider.toLowerCase() === 'custom'
        ? req.server
        : undefined;
  if (custom !== undefined || req.provider.toLowerCase() === 'custom') {
    if (custom === undefined) throw new Error('provider custom needs a config file: --custom FILE');
    const path = expandPath(custom, req.cwd, req.home);
    let content: string;
    try {
      content = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(
        `cannot read the custom config ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? String(err))}`,
      );
    }
    const protocol =
      req.protocol !== undefined && req.protocol !== ''
        ? chooseProtocol(requireProvider('custom'), req.protocol)
        : detectProtocol(content);
    const name = basename(path);
    const result: ExecConfig = { provider: 'custom', protocol, server: name.replace(/\.(conf|ovpn)$/, '') };
    if (protocol === 'openvpn') {
      const r = await inlineOpenvpn(content, dirname(path));
      result.config = { name, content: r.content };
      if (r.credentials !== undefined) result.credentials = r.credentials;
    } else {
      result.config = { name, content };
    }
    return result;
  }

  const def = requireProvider(req.provider);
  if (def.name === 'none') return { provider: 'none', protocol: 'none' };
  const protocol = chooseProtocol(def, req.protocol);
  const syncCmd = `vopono sync ${def.name} -c ${protocol}`;
  if (req.server === undefined || req.server === '') {
    throw new Error(
      `a server is needed for ${def.name}: pass -s PREFIX (see: vopono servers ${def.name} -c ${protocol})`,
    );
  }
  const dir = existingDir(voponoDir(env), def.dir, protocol);
  const entries = dir !== undefined ? scanServers(def.name, protocol, dir) : [];
  if (dir === undefined || entries.length === 0) {
    throw new Error(
      `no ${def.name} ${protocol} configs in ${join(voponoDir(env), def.dir, protocol)}; run: ${syncCmd}`,
    );
  }
  const choice = chooseServer(entries, req.server, req.random);
  if (choice === undefined) {
    const close = closestNames(entries, req.server, 5);
    throw new Error(
      `no ${def.name} ${protocol} server matches '${req.server}'; closest: ${close.join(', ')} (all: vopono servers ${def.name} -c ${protocol})`,
    );
  }
  const e = choice.entry;
  let content: string;
  try {
    content = await readFile(e.file, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read ${e.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}; run: ${syncCmd}`,
    );
  }
  const result: ExecConfig = { provider: def.name, protocol, server: e.name, dns: [...def.dns] };
  if (choice.matches > 1) {
    const host = e.host !== undefined && !e.name.includes(e.host) ? ` (${e.host})` : '';
    result.notice = `server ${e.name}${host} chosen at random from ${choice.matches} matches for '${req.server}'`;
  }
  const fileName = basename(e.file);
  if (protocol === 'openvpn') {
    const r = await inlineOpenvpn(content, dir, 'auth.txt');
    // upstream's own Mullvad configs carry `script-security 2` without any script: drop it
    let text = r.content.replace(/^\s*script-security\s+2\s*$/m, '');
    if (r.credentials === undefined) {
      // upstream passes the provider's auth.txt even when the config does not ask (iVPN)
      const auth = await readFile(join(dir, 'auth.txt'), 'utf8').catch(() => undefined);
      const [u, p] = (auth ?? '').split('\n');
      if ((u ?? '').trim() !== '') {
        r.credentials = { username: (u ?? '').trim(), password: (p ?? '').trim() };
        if (!/^\s*auth-user-pass\b/m.test(text)) text = text.replace(/\n*$/, '\nauth-user-pass\n');
      }
    }
    result.config = { name: fileName, content: text };
    if (r.credentials !== undefined) result.credentials = r.credentials;
  } else if (def.name === 'privateinternetaccess') {
    const { piaWireguardConnect } = await import('./pia.js');
    result.config = { name: fileName, content: await piaWireguardConnect(content, dir, env) };
  } else {
    result.config = { name: fileName, content };
  }
  return result;
}
