// VPN backends by protocol name, and the config checks the client/CLI runs early.
import type { VpnBackend } from './backend.js';
import { wireguardBackend } from './wireguard.js';
import { openvpnBackend } from './openvpn.js';

export type { VpnBackend, VpnContext, VpnUp, NetnsRecord, CommandRunner } from './backend.js';
export { parseWireguardConfig, WireguardConfigError, type WireguardConfig } from './wireguard-config.js';
export {
  checkOpenvpnConfig,
  inlineOpenvpnFiles,
  OpenvpnConfigError,
  type OpenvpnConfigInfo,
} from './openvpn-config.js';
export { wireguardMode } from './wireguard.js';
export { startForwarders } from './forward.js';
export { runHook, hookEnv } from './hooks.js';
export { startNamespaceExtras, type NamespaceExtras } from './lifecycle.js';

const backends = new Map<string, VpnBackend>([
  ['wireguard', wireguardBackend],
  ['openvpn', openvpnBackend],
]);

export function getBackend(protocol: string): VpnBackend | undefined {
  return backends.get(protocol.toLowerCase());
}

/** Upstream's auto-detection for --custom: a `[Interface]` section means WireGuard, else OpenVPN. */
export function detectProtocol(content: string): 'wireguard' | 'openvpn' {
  return /^\s*\[Interface\]\s*$/im.test(content) ? 'wireguard' : 'openvpn';
}
