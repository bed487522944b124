// ~/.config/vopono/config.toml: upstream's defaults file. Keys are upstream's exec flag names, in
// snake_case or kebab-case (`keep_alive` / `keep-alive`); the exec command merges them under its
// command-line flags (flags win). Unknown keys are ignored, as upstream does.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkOwnedDir, voponoDir } from './paths.js';
import { normaliseProtocol } from './registry.js';

export interface UserDefaults {
  provider?: string;
  server?: string;
  protocol?: string;
  interface?: string;
  firewall?: 'nftables' | 'iptables';
  dns?: string[];
  keepAlive?: boolean;
  custom?: string;
  user?: string;
  group?: string;
  workingDirectory?: string;
  postup?: string;
  predown?: string;
  openPorts?: number[];
  forward?: number[];
  hosts?: string[];
  openHosts?: string[];
  noKillswitch?: boolean;
  noProxy?: boolean;
  allowHostAccess?: boolean;
  portForwarding?: boolean;
  createNetnsOnly?: boolean;
  disableIpv6?: boolean;
  customNetnsName?: string;
  portForwardingCallback?: string;
  customPortForwarding?: string;
}

export class UserConfigError extends Error {}

export function userConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(voponoDir(env), 'config.toml');
}

type Kind = 'string' | 'bool' | 'strings' | 'ports';
const KEYS: Record<string, [keyof UserDefaults, Kind]> = {
  provider: ['provider', 'string'],
  server: ['server', 'string'],
  protocol: ['protocol', 'string'],
  interface: ['interface', 'string'],
  firewall: ['firewall', 'string'],
  dns: ['dns', 'strings'],
  keep_alive: ['keepAlive', 'bool'],
  custom: ['custom', 'string'],
  user: ['user', 'string'],
  group: ['group', 'string'],
  working_directory: ['workingDirectory', 'string'],
  postup: ['postup', 'string'],
  predown: ['predown', 'string'],
  open_ports: ['openPorts', 'ports'],
  forward: ['forward', 'ports'],
  hosts: ['hosts', 'strings'],
  open_hosts: ['openHosts', 'strings'],
  no_killswitch: ['noKillswitch', 'bool'],
  no_proxy: ['noProxy', 'bool'],
  allow_host_access: ['allowHostAccess', 'bool'],
  port_forwarding: ['portForwarding', 'bool'],
  create_netns_only: ['createNetnsOnly', 'bool'],
  disable_ipv6: ['disableIpv6', 'bool'],
  custom_netns_name: ['customNetnsName', 'string'],
  port_forwarding_callback: ['portForwardingCallback', 'string'],
  custom_port_forwarding: ['customPortForwarding', 'string'],
};

/** Parses config.toml text; `file` names it in errors. */
export async function parseUserDefaults(text: string, file: string): Promise<UserDefaults> {
  const { parse, TomlError } = await import('smol-toml');
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0]!.replace(/^Invalid TOML document:\s*/, '');
      throw new UserConfigError(`${file} line ${err.line}, column ${err.column}: invalid TOML: ${first}`);
    }
    throw err;
  }
  const out: Record<string, unknown> = {};
  const bad = (key: string, want: string): never => {
    throw new UserConfigError(`${file}: '${key}' must be ${want}`);
  };
  for (const [rawKey, value] of Object.entries(doc)) {
    const key = rawKey.replace(/-/g, '_');
    const spec = KEYS[key];
    if (spec === undefined) continue;
    const [field, kind] = spec;
    switch (kind) {
      case 'string':
        if (typeof value !== 'string') bad(rawKey, 'a string');
        out[field] = value;
        break;
      case 'bool':
        if (typeof value !== 'boolean') bad(rawKey, 'true or false');
        out[field] = value;
        break;
      case 'strings': {
        const list =
          typeof value === 'string'
            ? value
                .split(',')
                .map((s) => s.trim())
                .filter((s) => s !== '')
            : value;
        if (!Array.isArray(list) || !list.every((x) => typeof x === 'string'))
          bad(rawKey, 'a string or a list of strings');
        out[field] = list;
        break;
      }
      case 'ports': {
        const list =
          typeof value === 'number'
            ? [value]
            : typeof value === 'string'
              ? value.split(',').map((s) => Number(s.trim()))
              : value;
        if (
          !Array.isArray(list) ||
          !list.every((x) => typeof x === 'number' && Number.isInteger(x) && x > 0 && x < 65536)
        )
          bad(rawKey, 'a port number or a list of port numbers');
        out[field] = list;
        break;
      }
    }
  }
  const d = out as UserDefaults;
  if (d.protocol !== undefined) {
    const p = normaliseProtocol(d.protocol);
    if (p === undefined) throw new UserConfigError(`${file}: unknown protocol '${d.protocol}'`);
    d.protocol = p;
  }
  if (d.firewall !== undefined) {
    const f = String(d.firewall).toLowerCase();
    if (f !== 'nftables' && f !== 'iptables')
      throw new UserConfigError(
        `${file}: firewall must be NfTables or IpTables, not '${String(d.firewall)}'`,
      );
    d.firewall = f;
  }
  return d;
}

/** Reads ~/.config/vopono/config.toml (or `path`); none there → {}. */
export async function loadUserDefaults(
  opts: { path?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<UserDefaults> {
  const env = opts.env ?? process.env;
  let file = opts.path;
  if (file === undefined) {
    const dir = voponoDir(env);
    if (!checkOwnedDir(dir)) return {};
    file = join(dir, 'config.toml');
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && opts.path === undefined) return {};
    throw new UserConfigError(`cannot read ${file}: ${code ?? String(err)}`);
  }
  return parseUserDefaults(text, file);
}
