// Types shared by the provider catalogue: the registry entry of a provider, one server (config
// file) of a synced provider, and what a provider's sync step gets to work with.

export type VpnProtocol = 'wireguard' | 'openvpn';

/** What the TUI and `vopono servers` show for a provider. */
export interface ProviderInfo {
  name: string;
  aliases: string[];
  protocols: string[];
  /** True when at least one protocol has synced configs. */
  synced?: boolean;
  serverCount: number;
}

/** One config file of a synced provider. */
export interface ServerEntry {
  provider: string;
  protocol: string;
  /** The config's file name without extension, e.g. `sweden-segot001`. */
  name: string;
  /** Absolute path of the config file. */
  file: string;
  country?: string;
  city?: string;
  host?: string;
}

/** Asks the user one thing (interactive) or takes it from flags/env (non-interactive). */
export interface Prompter {
  /** Free text; `secret` hides the input. Throws when no answer is available non-interactively. */
  text(
    key: string,
    question: string,
    opts?: { default?: string; secret?: boolean; validate?: (v: string) => string | undefined },
  ): Promise<string>;
  /** One of `choices` (values); returns the chosen value. */
  choice(
    key: string,
    question: string,
    choices: { value: string; label: string }[],
    defaultValue?: string,
  ): Promise<string>;
  /** Yes/no. */
  confirm(key: string, question: string, defaultValue: boolean): Promise<boolean>;
  /** True when a flag/env answer exists for `key` (so cached values should not be used). */
  hasAnswer?(key: string): boolean;
  /** Progress and notes, to stderr. */
  info(message: string): void;
}

/** Everything a provider's sync step needs; `out` is the staging directory of `<alias>/<protocol>`. */
export interface SyncContext {
  /** The provider's directory `~/.config/vopono/<alias>` (exists, checked). */
  providerDir: string;
  /** Staging directory: write the protocol's files here; swapped in on success. */
  out: string;
  /** The previous, live protocol directory (may not exist); read cached credentials from it. */
  previous: string;
  prompt: Prompter;
  /** Writes a file into `out` (0600) under a sanitised name; returns the name used. */
  write(name: string, content: string | Uint8Array): string;
  /** Records country/city/host of a config file for `servers.json`. */
  index(entry: ServerIndexEntry): void;
  /** Provider-level files (outside the protocol dir) to write after the swap succeeds. */
  writeProviderFile(name: string, content: string, secret: boolean): void;
}

/** Index written beside the configs (`servers.json`): country/city/host per config file. */
export interface ServerIndexEntry {
  file: string;
  country?: string;
  city?: string;
  host?: string;
}

export interface ProviderModule {
  sync(protocol: VpnProtocol, ctx: SyncContext): Promise<void>;
}

export interface ProviderDef {
  /** Canonical name, e.g. `mullvad`. */
  name: string;
  /** Names accepted on the command line (case-insensitive), including upstream's enum names. */
  aliases: string[];
  /** Upstream's directory name under ~/.config/vopono (e.g. `mv` for Mullvad). */
  dir: string;
  protocols: VpnProtocol[];
  defaultProtocol: VpnProtocol | 'none';
  /** Default DNS servers when the config carries none. */
  dns: string[];
  /** Name of the env var overriding every base URL of this provider (tests point it at loopback). */
  urlEnv?: string;
  /** Loads the sync implementation (dynamic import: exec never loads it). */
  load?: () => Promise<ProviderModule>;
}
