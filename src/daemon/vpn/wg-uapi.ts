// The userspace WireGuard configuration protocol (wireguard-go's UAPI socket in
// /var/run/wireguard/<if>.sock): lets the daemon hand the keys straight to wireguard-go over a
// root-only Unix socket — no file, no extra process.
import { connect } from 'node:net';
import { formatCidr, formatEndpoint, type WireguardConfig } from './wireguard-config.js';

const hex = (b64: string): string => Buffer.from(b64, 'base64').toString('hex');

/** The `set=1` request for a whole configuration (replacing peers). */
export function renderUapiSet(cfg: WireguardConfig, endpoints: (string | undefined)[]): string {
  const out: string[] = ['set=1', `private_key=${hex(cfg.privateKey)}`];
  if (cfg.listenPort !== undefined) out.push(`listen_port=${cfg.listenPort}`);
  out.push('replace_peers=true');
  cfg.peers.forEach((p, i) => {
    out.push(`public_key=${hex(p.publicKey)}`);
    if (p.presharedKey !== undefined) out.push(`preshared_key=${hex(p.presharedKey)}`);
    const ep = endpoints[i];
    if (p.endpoint !== undefined && ep !== undefined)
      out.push(`endpoint=${formatEndpoint(ep, p.endpoint.port)}`);
    out.push(`persistent_keepalive_interval=${p.persistentKeepalive ?? 0}`);
    out.push('replace_allowed_ips=true');
    for (const c of p.allowedIps) out.push(`allowed_ip=${formatCidr(c)}`);
  });
  return out.join('\n') + '\n\n';
}

/**
 * Sends one UAPI request and resolves when wireguard-go answers errno=0 (rejects otherwise).
 * wireguard-go binds its socket a moment before it listens: a refused connection is retried.
 */
export async function uapiRequest(socketPath: string, request: string, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await uapiOnce(socketPath, request, timeoutMs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ECONNREFUSED' && code !== 'ENOENT') || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

function uapiOnce(socketPath: string, request: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    let answer = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`${socketPath}: no answer`));
    }, timeoutMs);
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`${socketPath}: ${e.message}`), { code: e.code }));
    });
    sock.on('data', (b: Buffer) => {
      answer += b.toString();
      if (answer.endsWith('\n\n')) {
        clearTimeout(timer);
        sock.end();
        const m = /(?:^|\n)errno=(-?\d+)\n/.exec(answer);
        if (m?.[1] === '0') resolve(answer);
        else reject(new Error(`wireguard-go refused the configuration (errno=${m?.[1] ?? '?'})`));
      }
    });
    sock.write(request);
  });
}
