// The Catalogue over the real provider catalogue (src/providers): synced configs under
// ~/.config/vopono, read as the user. Server lists are cached per provider for the session.
import { listProviders, listServers } from '../providers/index.js';
import type { Catalogue, ProviderSummary, ServerRow } from './catalogue.js';

const NOTES: Record<string, string> = {
  none: 'a namespace without a VPN (no tunnel)',
  custom: 'your own WireGuard/OpenVPN config file',
};

export function providerCatalogue(env: NodeJS.ProcessEnv = process.env): Catalogue {
  const servers = new Map<string, ServerRow[]>();
  return {
    providers(): ProviderSummary[] {
      return listProviders(env).map((p) => {
        const summary: ProviderSummary = {
          name: p.name,
          aliases: p.aliases,
          protocols: p.name === 'none' ? ['none'] : p.protocols,
          synced: p.synced ?? true,
          serverCount: p.serverCount,
        };
        const note = NOTES[p.name];
        if (note !== undefined) summary.note = note;
        return summary;
      });
    },
    refresh(): void {
      servers.clear();
    },
    servers(provider: string): ServerRow[] {
      let list = servers.get(provider);
      if (!list) {
        list = listServers(provider, undefined, env);
        servers.set(provider, list);
      }
      return list;
    },
  };
}
