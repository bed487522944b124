// The exec options a launch starts from: upstream's defaults (killswitch on, no extras).
import type { ExecOptions } from '../protocol/messages.js';

export function defaultOptions(provider: string): ExecOptions {
  return {
    provider,
    dns: [],
    keepAlive: false,
    createNetnsOnly: false,
    noKillswitch: false,
    openPorts: [],
    forward: [],
    noProxy: false,
    disableIpv6: false,
    allowHostAccess: false,
    openHosts: [],
    hosts: [],
  };
}
