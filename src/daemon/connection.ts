// One client connection: identity from the kernel, the first frame (and its fds) taken with
// recvmsg before Node's reader may touch the socket, the version handshake, then one request.
import { closeSync, fstatSync } from 'node:fs';
import type { Socket } from 'node:net';
import { encodeFrame, FrameDecoder, FrameError, MAX_FRAME } from '../protocol/frames.js';
import { peerCredentials, recvWithFds, whenReadable, type PeerCredentials } from '../protocol/libc.js';
import {
  parseClientMessage,
  PROTOCOL_VERSION,
  ProtocolError,
  type ClientMessage,
  type DaemonMessage,
} from '../protocol/messages.js';
import { VERSION } from '../version.js';
import { log } from './log.js';
import type { NamespaceManager } from './netns.js';
import { ExecSession } from './session.js';

export interface ConnectionContext {
  manager: NamespaceManager;
  handshakeTimeoutMs: number;
  /** Called on every namespace/app change, so subscribers get the new list. */
  notifyChange(): void;
  subscribe(uid: number, push: () => void): () => void;
}

/** The peer's side of one conversation: typed messages out, typed messages in. */
export class Peer {
  private closed = false;
  private readonly handlers: ((m: ClientMessage) => void)[] = [];
  private readonly closeHandlers: (() => void)[] = [];

  constructor(
    readonly socket: Socket,
    readonly creds: PeerCredentials,
  ) {
    socket.on('error', () => this.markClosed());
    socket.on('close', () => this.markClosed());
  }

  send(message: DaemonMessage): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(encodeFrame(message));
  }

  fail(code: ProtocolError['code'], message: string, hint?: string): void {
    this.send({ t: 'error', code, message, ...(hint ? { hint } : {}) });
    this.end();
  }

  /**
   * Ends the conversation: FIN after the queued messages, then the socket is destroyed once they
   * are flushed. A client that keeps its end open (or never reads) must not hold a daemon fd and
   * a connection slot: a socket never resumed would never see the client's EOF.
   */
  end(): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    socket.end();
    if (socket.writableFinished) {
      socket.destroy();
      return;
    }
    socket.once('finish', () => socket.destroy());
    setTimeout(() => socket.destroy(), 5000).unref();
  }

  onMessage(handler: (m: ClientMessage) => void): void {
    this.handlers.push(handler);
  }

  onClose(handler: () => void): void {
    if (this.closed) handler();
    else this.closeHandlers.push(handler);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  deliver(m: ClientMessage): void {
    for (const h of this.handlers) h(m);
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.closeHandlers.splice(0)) h();
  }
}

function closeAll(fds: number[]): void {
  for (const fd of fds) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}

/**
 * Serves one accepted connection. `socket` must not have read anything yet (pauseOnConnect):
 * bytes Node reads lose their SCM_RIGHTS fds.
 */
export function serveConnection(socket: Socket, fd: number, ctx: ConnectionContext): Promise<void> {
  let creds: PeerCredentials;
  try {
    creds = peerCredentials(fd);
  } catch (err) {
    log(`refusing a connection without peer credentials: ${String(err)}`);
    socket.destroy();
    return Promise.resolve();
  }
  let sessionDone: Promise<void> = Promise.resolve();
  const peer = new Peer(socket, creds);
  const decoder = new FrameDecoder(MAX_FRAME);
  let fds: number[] = [];
  let state: 'hello' | 'request' | 'session' | 'done' = 'hello';
  let session: ExecSession | undefined;

  // The readiness poll must be stopped BEFORE the socket's fd is closed: a live poll on a closed
  // fd number clashes with the next connection that gets the same number (libuv keeps one watcher
  // per fd; koffi's poll then fails fatally and the daemon dies).
  let waiter: { cancel(): void } | undefined;
  const timer = setTimeout(() => {
    waiter?.cancel();
    closeAll(fds);
    fds = [];
    peer.fail('timeout', `no request within ${ctx.handshakeTimeoutMs} ms`);
    socket.destroy();
  }, ctx.handshakeTimeoutMs);
  timer.unref();
  waiter = whenReadable(fd, onFirstBytes);
  peer.onClose(() => {
    clearTimeout(timer);
    waiter?.cancel();
    closeAll(fds);
    fds = [];
  });

  const closed = new Promise<void>((resolve) => peer.onClose(resolve));
  return closed.then(() => sessionDone);

  function onFirstBytes(): void {
    if (peer.isClosed) return;
    let got;
    try {
      got = recvWithFds(fd, 256 * 1024, 4);
    } catch {
      socket.destroy();
      return;
    }
    if (got === null) {
      waiter = whenReadable(fd, onFirstBytes);
      return;
    }
    fds = got.fds;
    if (got.truncated) {
      closeAll(fds);
      fds = [];
      peer.fail('bad-fds', 'too many file descriptors attached: send exactly stdin, stdout and stderr');
      return;
    }
    if (got.data.length === 0) {
      socket.destroy();
      return;
    }
    socket.on('data', onBytes);
    onBytes(got.data);
    if (!peer.isClosed) socket.resume();
  }

  function onBytes(data: Buffer): void {
    let messages: unknown[];
    try {
      messages = decoder.push(data);
    } catch (err) {
      const code = err instanceof FrameError && err.code === 'too-large' ? 'too-large' : 'bad-request';
      closeAll(fds);
      fds = [];
      peer.fail(code, err instanceof Error ? err.message : 'bad frame');
      socket.destroy();
      return;
    }
    for (const raw of messages) {
      if (peer.isClosed) return;
      let m: ClientMessage;
      try {
        m = parseClientMessage(raw);
      } catch (err) {
        closeAll(fds);
        fds = [];
        if (err instanceof ProtocolError) peer.fail(err.code, err.message);
        else peer.fail('bad-request', 'malformed message');
        return;
      }
      handle(m);
    }
  }

  function handle(m: ClientMessage): void {
    if (state === 'hello') {
      if (m.t !== 'hello') return peer.fail('bad-request', 'the first message must be hello');
      if (m.version !== PROTOCOL_VERSION) {
        closeAll(fds);
        fds = [];
        return peer.fail(
          'bad-version',
          `protocol version ${m.version} is not spoken by this daemon (version ${PROTOCOL_VERSION}, vopono ${VERSION})`,
          'use the vopono client that matches the running daemon, or restart the daemon after upgrading',
        );
      }
      peer.send({ t: 'welcome', version: PROTOCOL_VERSION, daemon: VERSION });
      state = 'request';
      return;
    }
    if (state === 'session') {
      session?.onClientMessage(m);
      return;
    }
    if (state !== 'request') return;
    clearTimeout(timer);
    if (m.t !== 'exec' && fds.length > 0) {
      closeAll(fds);
      fds = [];
      return peer.fail('bad-fds', `a ${m.t} request carries no file descriptors`);
    }
    switch (m.t) {
      case 'exec': {
        if (fds.length !== 3 || !fds.every(isOpen)) {
          const got = fds.length;
          closeAll(fds);
          fds = [];
          return peer.fail('bad-fds', `an exec request must carry exactly 3 file descriptors (got ${got})`);
        }
        const stdio = fds as [number, number, number];
        fds = [];
        state = 'session';
        session = new ExecSession(peer, m, stdio, ctx);
        sessionDone = session.run().finally(() => {
          state = 'done';
        });
        return;
      }
      case 'list':
        state = 'done';
        void ctx.manager.list(creds.uid).then((namespaces) => {
          peer.send({ t: 'list-result', namespaces });
          peer.end();
        });
        return;
      case 'stop':
        state = 'done';
        ctx.manager.stop(creds.uid, m.target).then(
          (r) => {
            peer.send({ t: 'stopped', ...r });
            peer.end();
            ctx.notifyChange();
          },
          (err: unknown) =>
            err instanceof ProtocolError
              ? peer.fail(err.code, err.message)
              : peer.fail('internal', String(err)),
        );
        return;
      case 'subscribe': {
        state = 'session';
        const push = (): void =>
          void ctx.manager.list(creds.uid).then((namespaces) => peer.send({ t: 'changed', namespaces }));
        const unsubscribe = ctx.subscribe(creds.uid, push);
        peer.onClose(unsubscribe);
        push();
        return;
      }
      default:
        return peer.fail('bad-request', `unexpected ${m.t} before a request`);
    }
  }
}

function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}
