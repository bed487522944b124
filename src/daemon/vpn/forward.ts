// -f/--forward: the daemon proxies host ports to the namespace while it lives. A plain TCP proxy
// in Node: listen on the host (loopback by default), connect to the namespace's veth address.
// The killswitch accepts these connections only from the host's veth address.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { NetnsRecord } from './backend.js';

export interface ForwardSpec {
  hostPort: number;
  nsPort: number;
}

export interface ForwardOptions {
  /** Host address to listen on; 127.0.0.1 unless asked. */
  bindAddress?: string;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(new Error(`cannot forward host port ${port}: ${e.message}`));
    server.once('error', onError);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Starts one proxy per port; returns a function that stops them all and closes every connection. */
export async function startForwarders(
  ns: Pick<NetnsRecord, 'nsIp' | 'name'>,
  ports: (number | ForwardSpec)[],
  opts: ForwardOptions = {},
): Promise<() => Promise<void>> {
  const host = opts.bindAddress ?? '127.0.0.1';
  const servers: Server[] = [];
  const live = new Set<Socket>();
  const stop = async (): Promise<void> => {
    for (const s of live) s.destroy();
    live.clear();
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  };
  try {
    for (const p of ports) {
      const spec = typeof p === 'number' ? { hostPort: p, nsPort: p } : p;
      for (const v of [spec.hostPort, spec.nsPort]) {
        if (!Number.isInteger(v) || v < 1 || v > 65535) throw new Error(`bad port ${v}`);
      }
      const server = createServer((client) => {
        const upstream = connect({ host: ns.nsIp, port: spec.nsPort });
        live.add(client);
        live.add(upstream);
        const close = (): void => {
          client.destroy();
          upstream.destroy();
          live.delete(client);
          live.delete(upstream);
        };
        client.on('error', close);
        upstream.on('error', close);
        client.on('close', close);
        upstream.on('close', close);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      server.on('error', () => undefined);
      await listen(server, spec.hostPort, host);
      servers.push(server);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return stop;
}
