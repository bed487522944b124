// `vopono daemon`: listens on the socket (or takes systemd's), serves connections, and on SIGTERM
// stops accepting and tears down every namespace it made.
import { chmodSync, chownSync, existsSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, Socket, type Server } from 'node:net';
import { log } from './log.js';
import { serveConnection, type ConnectionContext } from './connection.js';
import { NamespaceManager, PREFIX_RE } from './netns.js';
import { Registry } from './registry.js';
import { systemRunner } from './runner.js';
import { notifyReady, notifyStopping } from './sd-notify.js';
import { setVpnRunDir } from './vpn/process.js';
import { whenReadable } from '../protocol/libc.js';
import { encodeFrame } from '../protocol/frames.js';

export interface DaemonConfig {
  socketPath: string;
  socketGroup: string;
  socketMode: number;
  stateDir: string;
  prefix: string;
  pool: [number, number];
  maxConnections: number;
  handshakeTimeoutMs: number;
  /** Serve exactly one connection on this fd (the sudo fallback's one-shot root side), then exit. */
  connectionFd?: number;
}

export const DEFAULTS: DaemonConfig = {
  socketPath: '/run/vopono.sock',
  socketGroup: 'vopono',
  socketMode: 0o660,
  stateDir: '/run/vopono',
  prefix: 'vo',
  pool: [10, 200],
  maxConnections: 512,
  handshakeTimeoutMs: 5000,
};

function socketFd(socket: Socket): number | undefined {
  const handle: unknown = Reflect.get(socket, '_handle');
  const fd: unknown = typeof handle === 'object' && handle !== null ? Reflect.get(handle, 'fd') : undefined;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

function groupId(name: string): number | undefined {
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const [n, , gid] = line.split(':');
      if (n === name && gid !== undefined) return Number(gid);
    }
  } catch {
    // no group file
  }
  return /^\d+$/.test(name) ? Number(name) : undefined;
}

/** True when a daemon answers on the path (then we must not steal its socket). */
function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export async function runDaemon(cfg: DaemonConfig): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error('the daemon must run as root (it creates namespaces and drops to each user)');
  if (!PREFIX_RE.test(cfg.prefix))
    throw new Error(`prefix '${cfg.prefix}' must be 1-8 lowercase letters/digits, starting with a letter`);
  const registry = new Registry(cfg.stateDir);
  registry.init();
  setVpnRunDir(cfg.stateDir); // backends keep their private files (keys, credentials) under it
  const manager = new NamespaceManager({
    prefix: cfg.prefix,
    pool: cfg.pool,
    registry,
    runner: systemRunner,
  });

  const subscribers = new Map<number, { uid: number; push: () => void }>();
  let subId = 0;
  let changeTimer: NodeJS.Timeout | undefined;
  const ctx: ConnectionContext = {
    manager,
    handshakeTimeoutMs: cfg.handshakeTimeoutMs,
    notifyChange() {
      // coalesce bursts (200 execs at once) into one push per subscriber
      if (changeTimer || subscribers.size === 0) return;
      changeTimer = setTimeout(() => {
        changeTimer = undefined;
        for (const s of subscribers.values()) s.push();
      }, 20);
    },
    subscribe(uid, push) {
      const id = ++subId;
      subscribers.set(id, { uid, push });
      return () => subscribers.delete(id);
    },
  };

  if (cfg.connectionFd !== undefined) {
    // The one-shot root side lives exactly as long as its connection. sudo relays the signals it
    // gets (^C, ^\\, a closing terminal, a kill of the client's process group) to it; the client
    // already forwards them to the app over the protocol, so here they must not kill the root side
    // before the app has ended and the namespace is torn down.
    for (const sig of ['SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTERM'] as const) process.on(sig, () => undefined);
    await serveOne(cfg.connectionFd, ctx);
    return;
  }

  await manager.reconcile();
  // Apps adopted after a restart have no session watching them: sweep for their exit.
  const sweep = setInterval(
    () => void manager.reconcile().then((changed) => changed && ctx.notifyChange()),
    2000,
  );
  sweep.unref();
  // tunnel facts (WireGuard handshakes) change without an event: refresh subscribers now and then
  const refresh = setInterval(() => ctx.notifyChange(), 10_000);
  refresh.unref();

  const server = createServer({ pauseOnConnect: true });
  let open = 0;
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => undefined);
    const fd = socketFd(socket);
    if (fd === undefined) {
      socket.destroy();
      return;
    }
    if (open >= cfg.maxConnections) {
      // Refused cleanly: the client learns why. Its bytes are read and dropped (a plain read
      // makes the kernel discard any fds attached), so its writes don't fail with EPIPE before
      // it has read the error; the socket goes when the client closes, or after 2 s.
      const busy = {
        t: 'error',
        code: 'busy',
        message: `the daemon is serving its maximum of ${cfg.maxConnections} connections; try again`,
      } as const;
      socket.on('data', () => undefined);
      socket.resume();
      socket.end(encodeFrame(busy));
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    open++;
    socket.once('close', () => open--);
    void serveConnection(socket, fd, ctx);
  });
  server.on('error', (err) => log(`socket error: ${err.message}`));

  await listen(server, cfg);
  log(`listening on ${cfg.socketPath} (prefix ${cfg.prefix}, state ${cfg.stateDir})`);
  notifyReady();

  await new Promise<void>((resolve) => {
    const stop = (sig: string): void => {
      log(`${sig}: stopping; tearing down namespaces`);
      notifyStopping();
      server.close();
      void manager
        .stopAll()
        .catch((e: unknown) => log(`teardown: ${String(e)}`))
        .finally(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  if (!process.env.LISTEN_FDS && existsSync(cfg.socketPath)) unlinkSync(cfg.socketPath);
}

async function listen(server: Server, cfg: DaemonConfig): Promise<void> {
  const listenFds = Number(process.env.LISTEN_FDS ?? '0');
  if (listenFds > 0 && Number(process.env.LISTEN_PID) === process.pid) {
    // socket activation: systemd already made, owns and set the mode of the socket (fd 3)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ fd: 3 }, () => resolve());
    });
    return;
  }
  const path = cfg.socketPath;
  if (existsSync(path)) {
    if (await socketIsLive(path))
      throw new Error(`a daemon already answers on ${path}; stop it first (systemctl stop vopono)`);
    if (!lstatSync(path).isSocket())
      throw new Error(`${path} exists and is not a socket; remove it or choose --socket`);
    unlinkSync(path); // stale, from a daemon that died
  }
  const old = process.umask(0o177); // the socket is born 0600, opened up below
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(old);
  }
  const gid = groupId(cfg.socketGroup);
  if (gid === undefined) {
    log(
      `warning: group '${cfg.socketGroup}' does not exist, so only root can use ${path}; ` +
        `create it (groupadd --system ${cfg.socketGroup}) and add users to it`,
    );
    chmodSync(path, cfg.socketMode & 0o606);
  } else {
    chownSync(path, 0, gid);
    chmodSync(path, cfg.socketMode);
  }
}

/** The sudo fallback: one connection on an inherited socket, served exactly like a daemon's. */
async function serveOne(fd: number, ctx: ConnectionContext): Promise<void> {
  await new Promise<void>((resolve) => whenReadable(fd, resolve));
  // pauseOnCreate: Node must not read before the first frame's fds are taken by recvmsg
  const opts = { fd, readable: true, writable: true, pauseOnCreate: true };
  const socket = new Socket(opts);
  socket.on('error', () => undefined);
  await serveConnection(socket, fd, ctx);
}
