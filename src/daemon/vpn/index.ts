// VPN backends by protocol name, and the config checks the client/CLI runs early.
import type { VpnBackend } from './backend.js';
import { wireguardBackend } from './wireguard.js';

export type { VpnBackend, VpnContext, VpnUp, NetnsRecord, CommandRunner } from './backend.js';
export { parseWireguardConfig, WireguardConfigError, type WireguardConfig } from './wireguard-config.js';
export { wireguardMode } from './wireguard.js';

const backends = new Map<string, VpnBackend>([['wireguard', wireguardBackend]]);

export function getBackend(protocol: string): VpnBackend | undefined {
  return backends.get(protocol.toLowerCase());
}
