// OpenVPN configuration checks. The daemon runs openvpn as root, so a config from a non-root user
// must not name programs to run, code to load, or files for root to read or write: those
// directives are refused with their line. Also extracts what the backend needs (remotes, device
// type, auth-user-pass) and rewrites remotes to addresses resolved on the host. Pure functions.
import { isIP } from 'node:net';

export interface OpenvpnRemote {
  host: string;
  port: number;
  proto: 'udp' | 'tcp';
  /** 1-based line of the `remote` directive. */
  line: number;
}

export interface OpenvpnConfigInfo {
  remotes: OpenvpnRemote[];
  devType: 'tun' | 'tap';
  /** `auth-user-pass` present (without a file argument, or root's file). */
  authUserPass: boolean;
  /** Directive names present (lower case), for callers that want to know. */
  directives: Set<string>;
  /** Resolvers the config itself names (`dhcp-option DNS x`); pushed ones come from the server. */
  dns: string[];
}

export interface OpenvpnProblem {
  line: number;
  directive: string;
  message: string;
}

export class OpenvpnConfigError extends Error {
  constructor(readonly problems: OpenvpnProblem[]) {
    super('OpenVPN config refused:\n' + problems.map((p) => `  line ${p.line}: ${p.message}`).join('\n'));
    this.name = 'OpenvpnConfigError';
  }
}

/** Directives that make openvpn run a program or load code (openvpn(8) "Script hooks", plugins, engines). */
export const PROGRAM_DIRECTIVES: ReadonlySet<string> = new Set([
  'up',
  'down',
  'route-up',
  'route-pre-down',
  'ipchange',
  'tls-verify',
  'auth-user-pass-verify',
  'learn-address',
  'client-connect',
  'client-disconnect',
  'client-crresponse',
  'tls-crypt-v2-verify',
  'plugin',
  'iproute',
  'dns-updown',
  'engine',
  'providers',
  'provider-path',
  'pkcs11-providers',
]);

/** Directives that make root write files or change process/host-wide state: not for user configs. */
export const HOST_STATE_DIRECTIVES: ReadonlySet<string> = new Set([
  'config',
  'daemon',
  'log',
  'log-append',
  'writepid',
  'status',
  'cd',
  'chroot',
  'tmp-dir',
  'replay-persist',
  'ifconfig-pool-persist',
  'tls-export-cert',
  'management',
  'management-client-user',
  'management-client-group',
  'management-hold',
  'management-query-passwords',
  'management-external-key',
  'management-external-cert',
  'dev-node',
  'mktun',
  'rmtun',
  'service',
  'inetd',
]);

/** Directives whose (first) argument is a file openvpn reads; inline blocks (`<ca>`) are the alternative. */
export const FILE_DIRECTIVES: ReadonlySet<string> = new Set([
  'ca',
  'capath',
  'cert',
  'key',
  'dh',
  'tls-auth',
  'tls-crypt',
  'tls-crypt-v2',
  'pkcs12',
  'crl-verify',
  'extra-certs',
  'secret',
  'askpass',
  'auth-user-pass',
  'http-proxy-user-pass',
  'auth-gen-token-secret',
  'peer-fingerprint',
]);

/** openvpn's OPTION_LINE_SIZE is 256 including the newline. */
export const MAX_LINE_BYTES = 255;

/** Splits a directive line into words (openvpn's quoting: "..." and '...', backslash escapes in "..."). */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line.charAt(++i);
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else if ((c === '#' || c === ';') && !inWord) {
      break;
    } else {
      if (c === '\\' && i + 1 < line.length) cur += line.charAt(++i);
      else cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

function normProto(p: string | undefined): 'udp' | 'tcp' | undefined {
  if (p === undefined) return undefined;
  const v = p.toLowerCase();
  if (v.startsWith('udp')) return 'udp';
  if (v.startsWith('tcp')) return 'tcp';
  return undefined;
}

interface Directive {
  name: string;
  args: string[];
  line: number;
}

/** Directives and inline blocks of a config; inline block bodies are skipped. */
function directives(text: string): { list: Directive[]; inline: Set<string>; problems: OpenvpnProblem[] } {
  const list: Directive[] = [];
  const inline = new Set<string>();
  const problems: OpenvpnProblem[] = [];
  // openvpn reads lines of at most 255 bytes (a longer one continues as the next "line"),
  // skips a UTF-8 BOM, and stops a line at NUL: refuse what would make it see other lines than we do
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.includes('\0'))
    problems.push({ line: 1, directive: '', message: 'the config contains a NUL byte' });
  const lines = body.split('\n');
  let block: { name: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    if (Buffer.byteLength(lines[i] ?? '') > MAX_LINE_BYTES) {
      problems.push({
        line: n,
        directive: '',
        message: `line is longer than ${MAX_LINE_BYTES} bytes (openvpn would split it)`,
      });
      continue;
    }
    const raw = (lines[i] ?? '').trim();
    if (block !== undefined) {
      // openvpn ends a block at a line that starts with the closing tag (the rest is ignored)
      if (raw.toLowerCase().startsWith(`</${block.name}>`)) block = undefined;
      continue;
    }
    if (raw === '' || raw.startsWith('#') || raw.startsWith(';')) continue;
    const open = /^<([A-Za-z0-9-]+)>$/.exec(raw);
    if (open?.[1] !== undefined) {
      const name = open[1].toLowerCase();
      if (name === 'connection') {
        list.push({ name: '<connection>', args: [], line: n });
        continue;
      }
      inline.add(name);
      block = { name, line: n };
      list.push({ name: `<${name}>`, args: [], line: n });
      continue;
    }
    if (/^<\/connection>$/i.test(raw)) continue;
    const words = tokenize(raw);
    const first = words[0];
    if (first === undefined) continue;
    list.push({ name: first.replace(/^--/, '').toLowerCase(), args: words.slice(1), line: n });
  }
  if (block !== undefined)
    problems.push({
      line: block.line,
      directive: `<${block.name}>`,
      message: `<${block.name}> is never closed`,
    });
  return { list, inline, problems };
}

/**
 * Checks an OpenVPN config. For non-root users it refuses directives that run programs, load
 * code, write files or read files by path (inline them instead), naming directive and line.
 * Throws OpenvpnConfigError; returns what the backend needs.
 */
export function checkOpenvpnConfig(text: string, opts: { isRoot: boolean }): OpenvpnConfigInfo {
  const { list, inline, problems } = directives(text);
  const info: OpenvpnConfigInfo = {
    remotes: [],
    devType: 'tun',
    authUserPass: false,
    directives: new Set(),
    dns: [],
  };
  let defaultPort = 1194;
  let defaultProto: 'udp' | 'tcp' = 'udp';
  const pendingRemotes: { host: string; port?: number; proto?: 'udp' | 'tcp'; line: number }[] = [];
  const refuse = (d: Directive, message: string): void => {
    problems.push({ line: d.line, directive: d.name, message });
  };
  for (const d of list) {
    info.directives.add(d.name);
    switch (d.name) {
      case 'remote': {
        const host = d.args[0];
        if (host === undefined) {
          refuse(d, "'remote' needs a host");
          break;
        }
        const portArg = d.args[1];
        const port = portArg !== undefined ? Number(portArg) : undefined;
        if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
          refuse(d, `'remote ${host} ${portArg ?? ''}': bad port`);
          break;
        }
        const proto = normProto(d.args[2]);
        if (d.args[2] !== undefined && proto === undefined) {
          refuse(d, `'remote': unknown protocol '${d.args[2]}'`);
          break;
        }
        pendingRemotes.push({
          host,
          ...(port !== undefined ? { port } : {}),
          ...(proto !== undefined ? { proto } : {}),
          line: d.line,
        });
        break;
      }
      case 'port':
      case 'rport': {
        const p = Number(d.args[0]);
        if (Number.isInteger(p) && p >= 1 && p <= 65535) defaultPort = p;
        else refuse(d, `'${d.name}': bad port`);
        break;
      }
      case 'proto': {
        const p = normProto(d.args[0]);
        if (p === undefined) refuse(d, `'proto': unknown protocol '${d.args[0] ?? ''}'`);
        else defaultProto = p;
        break;
      }
      case 'dev': {
        if ((d.args[0] ?? '').toLowerCase().startsWith('tap')) info.devType = 'tap';
        break;
      }
      case 'dev-type': {
        if ((d.args[0] ?? '').toLowerCase() === 'tap') info.devType = 'tap';
        break;
      }
      case 'auth-user-pass':
        info.authUserPass = true;
        break;
      case 'dhcp-option': {
        const kindArg = (d.args[0] ?? '').toUpperCase();
        const addr = d.args[1];
        if ((kindArg === 'DNS' || kindArg === 'DNS6') && addr !== undefined && isIP(addr) !== 0)
          info.dns.push(addr);
        break;
      }
      default:
        break;
    }
    if (opts.isRoot) continue;
    if (PROGRAM_DIRECTIVES.has(d.name)) {
      refuse(d, `'${d.name}' runs a program or loads code as root; not allowed in a user's config`);
    } else if (d.name === 'script-security') {
      const level = Number(d.args[0] ?? '1');
      if (!(Number.isInteger(level) && level <= 1))
        refuse(d, `'script-security ${d.args[0] ?? ''}' allows scripts; at most 1 is allowed`);
    } else if (HOST_STATE_DIRECTIVES.has(d.name)) {
      refuse(d, `'${d.name}' changes files or state outside the namespace; not allowed in a user's config`);
    } else if (d.name === 'dev' && (d.args[0] ?? '') !== '' && !/^(tun|tap)\d*$/i.test(d.args[0] ?? '')) {
      refuse(d, `'dev ${d.args[0] ?? ''}': only tun or tap (vopono names the device)`);
    } else if (FILE_DIRECTIVES.has(d.name)) {
      const arg = d.args[0];
      const takesInline = d.name !== 'askpass' && d.name !== 'capath' && d.name !== 'peer-fingerprint';
      if (d.name === 'auth-user-pass' && arg === undefined) continue;
      if (d.name === 'peer-fingerprint') continue; // fingerprints, not a path, unless inline
      if (arg === undefined) {
        if (!inline.has(d.name))
          refuse(d, `'${d.name}' needs its content inline (<${d.name}>...</${d.name}>)`);
      } else if (arg !== '[inline]') {
        refuse(
          d,
          takesInline && d.name !== 'auth-user-pass'
            ? `'${d.name} ${arg}' names a file, which the daemon does not open for you: put its content inline as <${d.name}>...</${d.name}>`
            : `'${d.name} ${arg}' names a file, which the daemon does not open for you`,
        );
      }
    } else if (
      d.name === 'http-proxy' &&
      d.args[2] !== undefined &&
      !['stdin', 'auto', 'auto-nct'].includes(d.args[2])
    ) {
      refuse(d, `'http-proxy ... ${d.args[2]}' names a file, which the daemon does not open for you`);
    }
  }
  for (const r of pendingRemotes) {
    info.remotes.push({
      host: r.host,
      port: r.port ?? defaultPort,
      proto: r.proto ?? defaultProto,
      line: r.line,
    });
  }
  if (!info.directives.has('remote')) {
    problems.push({ line: 1, directive: 'remote', message: "no 'remote' in the config" });
  }
  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line);
    throw new OpenvpnConfigError(problems);
  }
  return info;
}

/**
 * The config as openvpn will read it: each `remote HOST ...` line replaced by one line per
 * resolved address (the namespace has no resolver before the tunnel is up), and directives the
 * backend sets itself on the command line removed.
 */
export function rewriteOpenvpnConfig(text: string, resolved: Map<string, string[]>): string {
  const drop = new Set([
    'dev',
    'dev-type',
    'auth-user-pass',
    'daemon',
    'log',
    'log-append',
    'writepid',
    'management',
    'status',
  ]);
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split(/\r?\n/);
  const out: string[] = [];
  let inBlock: string | undefined;
  for (const line of lines) {
    const t = line.trim();
    if (inBlock !== undefined) {
      out.push(line);
      if (t.toLowerCase().startsWith(`</${inBlock}>`)) inBlock = undefined;
      continue;
    }
    const open = /^<([A-Za-z0-9-]+)>$/.exec(t);
    if (open?.[1] !== undefined && open[1].toLowerCase() !== 'connection') {
      inBlock = open[1].toLowerCase();
      out.push(line);
      continue;
    }
    const words = tokenize(t);
    const name = (words[0] ?? '').replace(/^--/, '').toLowerCase();
    if (drop.has(name)) {
      out.push(`# (vopono) ${t}`);
      continue;
    }
    if (name === 'remote' && words[1] !== undefined) {
      const addrs = isIP(words[1]) !== 0 ? [words[1]] : resolved.get(words[1]);
      if (addrs === undefined || addrs.length === 0) {
        out.push(`# (vopono: unresolved) ${t}`);
        continue;
      }
      for (const a of addrs) out.push(['remote', a, ...words.slice(2)].join(' '));
      continue;
    }
    out.push(line);
  }
  return out.join('\n') + '\n';
}

/** Pushed resolvers from an openvpn log (verb ≥ 3): `dhcp-option DNS x` and 2.6's `dns server N address x`. */
export function pushedDns(log: string): string[] {
  const out: string[] = [];
  for (const m of log.matchAll(/PUSH_REPLY,([^'\n]*)/g)) {
    for (const opt of (m[1] ?? '').split(',')) {
      const dhcp = /^dhcp-option DNS6? (\S+)$/.exec(opt.trim());
      const dns = /^dns server \d+ address (\S+?)(?::\d+)?$/.exec(opt.trim());
      const a = dhcp?.[1] ?? dns?.[1];
      if (a !== undefined && isIP(a.replace(/^\[|\]$/g, '')) !== 0) out.push(a.replace(/^\[|\]$/g, ''));
    }
  }
  return [...new Set(out)];
}

/**
 * For the client (which reads files as the user): inlines file directives (`ca ca.crt` →
 * `<ca>…</ca>`) with `read(path)` resolving paths relative to the config's directory.
 */
export function inlineOpenvpnFiles(text: string, read: (path: string) => string | undefined): string {
  const inlinable = new Set([
    'ca',
    'cert',
    'key',
    'dh',
    'tls-auth',
    'tls-crypt',
    'tls-crypt-v2',
    'pkcs12',
    'crl-verify',
    'extra-certs',
    'secret',
  ]);
  const lines = text.split(/\r?\n/);
  const out: string[] = [];
  for (const line of lines) {
    const words = tokenize(line.trim());
    const name = (words[0] ?? '').toLowerCase();
    const arg = words[1];
    if (inlinable.has(name) && arg !== undefined && arg !== '[inline]') {
      const content = read(arg);
      if (content !== undefined) {
        out.push(`<${name}>`, content.trimEnd(), `</${name}>`);
        if ((name === 'tls-auth' || name === 'secret') && words[2] !== undefined)
          out.push(`key-direction ${words[2]}`);
        continue;
      }
    }
    out.push(line);
  }
  return out.join('\n');
}
