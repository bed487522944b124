// The provider catalogue's public face, for `vopono exec`, `vopono servers` and the TUI.
// Cheap to import: only the static registry and small file helpers load here; sync code, HTTP and
// TOML parsing load on demand.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { existingDir, voponoDir } from './paths.js';
import { chooseProtocol, findProvider, PROVIDERS, requireProvider } from './registry.js';
import { scanServers } from './servers.js';
import type { ProviderDef, ProviderInfo, ServerEntry } from './types.js';

export type { ProviderInfo, ServerEntry, ProviderDef, VpnProtocol, Prompter } from './types.js';
export { findProvider, requireProvider, normaliseProtocol, chooseProtocol } from './registry.js';
export { chooseServer, filterByPrefix, closestNames, matchesPrefix } from './servers.js';
export { ConfigDirError, voponoDir, configBase } from './paths.js';
export type { ExecConfigRequest, ExecConfig } from './exec-config.js';

/** Every provider (upstream's names first), with whether it has synced configs and how many. */
export function listProviders(env: NodeJS.ProcessEnv = process.env): ProviderInfo[] {
  return PROVIDERS.map((p) => {
    let count = 0;
    if (p.load !== undefined) {
      for (const proto of p.protocols) {
        try {
          count += listServers(p.name, proto, env).length;
        } catch {
          /* an unusable config dir shows as not synced here; servers/exec report why */
        }
      }
    }
    const info: ProviderInfo = {
      name: p.name,
      aliases: [...p.aliases],
      protocols: [...p.protocols],
      serverCount: count,
    };
    if (p.load !== undefined) info.synced = count > 0;
    return info;
  });
}

/** The registry entry of a provider by any of its names (case-insensitive); undefined if unknown. */
export function getProvider(name: string): ProviderDef | undefined {
  return findProvider(name);
}

/** The directory `~/.config/vopono/<alias>/<protocol>` (may not exist). */
export function protocolDir(
  provider: string,
  protocol: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const p = requireProvider(provider);
  return join(voponoDir(env), p.dir, protocol);
}

/** Synced configs of a provider: one protocol, or all of its protocols when none is given. */
export function listServers(
  provider: string,
  protocol?: string,
  env: NodeJS.ProcessEnv = process.env,
): ServerEntry[] {
  const p = requireProvider(provider);
  if (p.load === undefined) return [];
  const protos = protocol !== undefined ? [chooseProtocol(p, protocol)] : p.protocols;
  const out: ServerEntry[] = [];
  for (const proto of protos) {
    const dir = existingDir(voponoDir(env), p.dir, proto);
    if (dir !== undefined && existsSync(dir)) out.push(...scanServers(p.name, proto, dir));
  }
  return out;
}

/** Resolves `-p/-s/-c/--custom` into the config content the daemon gets (see exec-config.ts). */
export async function resolveExecConfig(
  req: import('./exec-config.js').ExecConfigRequest,
): Promise<import('./exec-config.js').ExecConfig> {
  const m = await import('./exec-config.js');
  return m.resolveExecConfig(req);
}
