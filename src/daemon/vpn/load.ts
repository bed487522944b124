// Loads a VPN backend by protocol name, only when a namespace needs one (the daemon's start-up
// and `none` namespaces don't pay for it).
import type { VpnBackend } from './backend.js';

export async function loadBackend(protocol: string): Promise<VpnBackend | undefined> {
  const { getBackend } = await import('./index.js');
  return getBackend(protocol);
}
