// What the TUI needs from the provider catalogue, behind a small interface so the store, the
// components and the tests do not depend on src/providers directly.

export interface ProviderSummary {
  name: string;
  aliases: string[];
  protocols: string[];
  synced: boolean;
  serverCount: number;
  /** A short line shown under the name (e.g. "namespace without a VPN"). */
  note?: string;
}

export interface ServerRow {
  provider: string;
  protocol: string;
  name: string;
  file: string;
  country?: string;
  city?: string;
  host?: string;
}

export interface Catalogue {
  providers(): ProviderSummary[];
  servers(provider: string): ServerRow[];
  /** Forgets what was read (a sync may have changed the files). */
  refresh?(): void;
}

/** The pseudo provider "none": a namespace with no VPN at all (upstream's `--provider none`). */
export const NONE_PROVIDER: ProviderSummary = {
  name: 'none',
  aliases: [],
  protocols: ['none'],
  synced: true,
  serverCount: 0,
  note: 'a namespace without a VPN (no tunnel, no killswitch)',
};

/** Puts "none" first unless the catalogue already lists it. */
export function withNoneProvider(list: ProviderSummary[]): ProviderSummary[] {
  return list.some((p) => p.name === 'none') ? list : [NONE_PROVIDER, ...list];
}

/** A catalogue over fixed lists: tests, benchmarks, and the fallback when the real one fails. */
export function staticCatalogue(providers: ProviderSummary[], servers: ServerRow[]): Catalogue {
  return {
    providers: () => providers,
    servers: (provider) => servers.filter((s) => s.provider === provider),
  };
}
