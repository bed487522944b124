// The client side of the protocol, shared by `vopono exec`, list/stop and the TUI: a
// conversation is one connection carrying hello + one request, then the daemon's replies.
import { createConnection, Socket } from 'node:net';
import { encodeFrame, FrameDecoder } from '../protocol/frames.js';
import { sendWithFds } from '../protocol/libc.js';
import {
  parseDaemonMessage,
  PROTOCOL_VERSION,
  type ClientMessage,
  type DaemonMessage,
  type NamespaceInfo,
} from '../protocol/messages.js';

export const DEFAULT_SOCKET = '/run/vopono.sock';

export function defaultSocketPath(explicit?: string): string {
  return explicit ?? process.env.VOPONO_SOCKET ?? DEFAULT_SOCKET;
}

/** No daemon to talk to: the socket is missing, refuses, or the user may not open it. */
export class DaemonUnavailable extends Error {
  constructor(
    readonly socketPath: string,
    readonly reason: 'missing' | 'refused' | 'denied',
  ) {
    super(
      reason === 'denied'
        ? `no permission to use the daemon's socket ${socketPath} (join the 'vopono' group, then log in again)`
        : `no vopono daemon at ${socketPath}`,
    );
  }
}

/** An error the daemon reported, with its hint and the exit status it implies. */
export class DaemonError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly exitCode?: number,
  ) {
    super(message);
  }
}

function socketFd(socket: Socket): number {
  const handle: unknown = Reflect.get(socket, '_handle');
  const fd: unknown = typeof handle === 'object' && handle !== null ? Reflect.get(handle, 'fd') : undefined;
  if (typeof fd !== 'number' || fd < 0) throw new Error('socket has no file descriptor');
  return fd;
}

export function connectSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') reject(new DaemonUnavailable(path, 'missing'));
      else if (err.code === 'ECONNREFUSED') reject(new DaemonUnavailable(path, 'refused'));
      else if (err.code === 'EACCES' || err.code === 'EPERM') reject(new DaemonUnavailable(path, 'denied'));
      else reject(err);
    });
  });
}

/** One request's conversation with the daemon (or a one-shot root side) over a connected socket. */
export class Conversation {
  private readonly decoder = new FrameDecoder();
  private readonly queue: DaemonMessage[] = [];
  private waiters: ((m: DaemonMessage | null) => void)[] = [];
  private ended = false;
  private listener: ((m: DaemonMessage) => void) | undefined;

  constructor(readonly socket: Socket) {
    socket.on('data', (data: Buffer) => {
      let values: unknown[];
      try {
        values = this.decoder.push(data);
      } catch {
        socket.destroy();
        return;
      }
      for (const v of values) {
        let m: DaemonMessage;
        try {
          m = parseDaemonMessage(v);
        } catch {
          continue; // a newer daemon's message this client does not know
        }
        this.dispatch(m);
      }
    });
    const finish = (): void => {
      if (this.ended) return;
      this.ended = true;
      for (const w of this.waiters.splice(0)) w(null);
    };
    socket.on('close', finish);
    socket.on('error', finish);
  }

  /** Sends hello and the request in one write; fds (exec: 0, 1, 2) travel with the first byte. */
  start(request: ClientMessage, fds: number[] = []): void {
    const bytes = Buffer.concat([
      encodeFrame({ t: 'hello', version: PROTOCOL_VERSION, client: 'vopono-cli' }),
      encodeFrame(request),
    ]);
    let sent = 0;
    if (fds.length > 0) sent = sendWithFds(socketFd(this.socket), bytes, fds);
    if (sent < bytes.length) this.socket.write(bytes.subarray(sent));
  }

  send(message: ClientMessage): void {
    if (!this.ended && !this.socket.destroyed) this.socket.write(encodeFrame(message));
  }

  /** The next message, or null when the connection closed. */
  next(): Promise<DaemonMessage | null> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Receives every message as it comes (instead of next()). */
  onMessage(listener: (m: DaemonMessage) => void): void {
    this.listener = listener;
    for (const m of this.queue.splice(0)) listener(m);
  }

  /** Waits for the welcome; a version mismatch or an error becomes a DaemonError. */
  async welcome(): Promise<void> {
    const m = await this.next();
    if (m === null) throw new DaemonError('closed', 'the daemon closed the connection during the handshake');
    if (m.t === 'error') throw new DaemonError(m.code, m.message, m.hint, m.exitCode);
    if (m.t !== 'welcome') throw new DaemonError('bad-request', `unexpected ${m.t} instead of welcome`);
    if (m.version !== PROTOCOL_VERSION)
      throw new DaemonError(
        'bad-version',
        `the daemon speaks protocol ${m.version}, this client ${PROTOCOL_VERSION} (daemon vopono ${m.daemon})`,
        'restart the daemon after upgrading vopono (systemctl restart vopono)',
      );
  }

  close(): void {
    this.socket.destroy();
  }

  private dispatch(m: DaemonMessage): void {
    if (this.listener) return this.listener(m);
    const w = this.waiters.shift();
    if (w) w(m);
    else this.queue.push(m);
  }
}

async function request(socketPath: string, message: ClientMessage): Promise<Conversation> {
  const conv = new Conversation(await connectSocket(socketPath));
  conv.start(message);
  await conv.welcome();
  return conv;
}

async function reply(conv: Conversation): Promise<DaemonMessage> {
  const m = await conv.next();
  conv.close();
  if (m === null) throw new DaemonError('closed', 'the daemon closed the connection without an answer');
  if (m.t === 'error') throw new DaemonError(m.code, m.message, m.hint, m.exitCode);
  return m;
}

/** list/stop/subscribe for the CLI and the TUI; each request is its own short connection. */
export class DaemonClient {
  private subscription: Conversation | undefined;
  private readonly closeHandlers: (() => void)[] = [];

  private constructor(readonly socketPath: string) {}

  static async connect(opts: { socketPath?: string; client: 'cli' | 'tui' }): Promise<DaemonClient> {
    const client = new DaemonClient(defaultSocketPath(opts.socketPath));
    await client.list(); // proves the daemon answers and speaks our version
    return client;
  }

  async list(): Promise<NamespaceInfo[]> {
    const m = await reply(await request(this.socketPath, { t: 'list' }));
    if (m.t !== 'list-result') throw new DaemonError('bad-request', `unexpected ${m.t}`);
    return m.namespaces;
  }

  async stop(target: string): Promise<{ namespaces: string[]; pids: number[] }> {
    const m = await reply(await request(this.socketPath, { t: 'stop', target }));
    if (m.t !== 'stopped') throw new DaemonError('bad-request', `unexpected ${m.t}`);
    return { namespaces: m.namespaces, pids: m.pids };
  }

  /** The daemon pushes the caller's full namespace list on every change. */
  subscribe(onChange: (namespaces: NamespaceInfo[]) => void): void {
    void request(this.socketPath, { t: 'subscribe' }).then(
      (conv) => {
        this.subscription = conv;
        conv.onMessage((m) => {
          if (m.t === 'changed') onChange(m.namespaces);
        });
        conv.socket.on('close', () => this.closeHandlers.forEach((h) => h()));
      },
      () => this.closeHandlers.forEach((h) => h()),
    );
  }

  onClose(cb: () => void): void {
    this.closeHandlers.push(cb);
  }

  close(): void {
    this.subscription?.close();
  }
}
