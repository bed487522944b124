// WireGuard keys (x25519, in-process) and wg-quick style config text.
import { x25519 } from '@noble/curves/ed25519.js';

export interface WgKeypair {
  privateKey: string;
  publicKey: string;
}

const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');

export function generateKeypair(): WgKeypair {
  const priv = x25519.utils.randomSecretKey();
  return { privateKey: b64(priv), publicKey: b64(x25519.getPublicKey(priv)) };
}

/** Checks a base64 WireGuard key (32 bytes). */
export function isWgKey(key: string): boolean {
  const k = key.trim();
  return /^[A-Za-z0-9+/]{43}=$/.test(k) && Buffer.from(k, 'base64').length === 32;
}

export function publicKeyOf(privateKey: string): string {
  if (!isWgKey(privateKey)) throw new Error('not a WireGuard private key (expected 44 characters of base64)');
  return b64(x25519.getPublicKey(new Uint8Array(Buffer.from(privateKey.trim(), 'base64'))));
}

export interface WgConfig {
  privateKey: string;
  addresses: string[];
  dns: string[];
  mtu?: number;
  peerPublicKey: string;
  allowedIps: string[];
  endpoint: string;
  keepalive?: number;
}

/** Renders a config in the form upstream's sync writes (readable by wg-quick and upstream). */
export function renderWg(c: WgConfig): string {
  const lines = ['[Interface]', `PrivateKey = ${c.privateKey}`, `Address = ${c.addresses.join(', ')}`];
  if (c.mtu !== undefined) lines.push(`MTU = ${c.mtu}`);
  for (const d of c.dns) lines.push(`DNS = ${d}`);
  lines.push(
    '',
    '[Peer]',
    `PublicKey = ${c.peerPublicKey}`,
    `AllowedIPs = ${c.allowedIps.join(', ')}`,
    `Endpoint = ${c.endpoint}`,
  );
  if (c.keepalive !== undefined) lines.push(`PersistentKeepalive = ${c.keepalive}`);
  return lines.join('\n') + '\n';
}

/** Parses the keys we need from a wg-quick config (sections, `Key = value`, repeated keys joined). */
export function parseWg(text: string): { iface: Map<string, string[]>; peer: Map<string, string[]> } {
  const iface = new Map<string, string[]>();
  const peer = new Map<string, string[]>();
  let cur: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    if (/^\[interface\]$/i.test(line)) cur = iface;
    else if (/^\[peer\]$/i.test(line)) cur = peer;
    else if (cur !== undefined) {
      const eq = line.indexOf('=');
      if (eq < 0) continue;
      const key = line.slice(0, eq).trim().toLowerCase();
      const vals = line
        .slice(eq + 1)
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      cur.set(key, [...(cur.get(key) ?? []), ...vals]);
    }
  }
  return { iface, peer };
}
