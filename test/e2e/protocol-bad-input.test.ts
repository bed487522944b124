// Bad input against the real daemon, byte by byte on its socket: every case gets a clear error or
// a closed connection, the daemon leaks no fd (counted in /proc/<daemon>/fd) and keeps serving.
import {
  chmodSync,
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import tty from 'node:tty';
import koffi from 'koffi';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, afterEach, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, MAX_FRAME } from '../../src/protocol/frames.js';
import { sendWithFds } from '../../src/protocol/libc.js';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import { clientCli, expectClean, fdCount, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { voponoAs } from '../helpers/cli.js';
import { describeRoot } from '../helpers/root.js';
import { run, sleep, waitFor } from '../helpers/run.js';
import { createUser, type TestUser } from '../helpers/users.js';

type Msg = { t: string; code?: string; message?: string; [k: string]: unknown };

interface Reply {
  messages: Msg[];
  /** The daemon closed (FIN or reset) before the wait ran out. */
  closed: boolean;
  ms: number;
  socket: Socket;
  /** A socket error on our side (EPIPE/ECONNRESET after the daemon closed, or a refused connect). */
  error?: string;
}

const HANDSHAKE_MS = 1500;
const hello = (version = PROTOCOL_VERSION): Buffer =>
  encodeFrame({ t: 'hello', version, client: 'bad-input-test' });
const execRequest = (argv: string[]): object => ({
  t: 'exec',
  argv,
  cwd: '/',
  env: ['PATH=/usr/bin:/bin'],
  options: { provider: 'none' },
  tty: { stdin: false, stdout: false, stderr: false },
});

function socketFd(socket: Socket): number {
  const handle: unknown = Reflect.get(socket, '_handle');
  const fd: unknown = typeof handle === 'object' && handle !== null ? Reflect.get(handle, 'fd') : undefined;
  if (typeof fd !== 'number' || fd < 0) throw new Error('no fd');
  return fd;
}

describeRoot('daemon bad input (real daemon, raw socket)', () => {
  let d: TestDaemon;
  let user: TestUser;
  let cli: string;
  let dir: string;
  let marker: string;
  let before = 0;

  beforeAll(async () => {
    cli = clientCli();
    d = await startDaemon({ args: ['--handshake-timeout', String(HANDSHAKE_MS)] });
    user = await createUser('vtbad');
    dir = mkdtempSync('/tmp/vopono-bad-');
    marker = join(dir, 'passed-fd');
    writeFileSync(marker, 'x');
    // warm up: the first list and exec may open long-lived fds (libraries, netlink); count after
    expect((await vopono(['list', '--json'])).code).toBe(0);
    expect((await vopono(['exec', '-p', 'none', '--', 'true'])).code).toBe(0);
    await expectClean(d.prefix);
  });

  afterAll(async () => {
    await d?.stop();
    await user?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (d) await expectClean(d.prefix);
  });

  beforeEach(async () => {
    await settle();
    before = fdCount(d.pid);
  });

  afterEach(async () => {
    // every case: the daemon still serves a valid `vopono list`, and holds no extra fd
    const r = await vopono(['list', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    await expectFdCount(d.pid, before, 15_000);
    expect(holders(marker)).toEqual([]);
    expect(d.child.exitCode).toBe(null);
  });

  function vopono(args: string[]): ReturnType<typeof run> {
    const argv = user.asUser([process.execPath, cli, ...args]);
    return run(argv[0]!, argv.slice(1), { env: user.env({ VOPONO_SOCKET: d.socketPath }), cwd: user.home });
  }

  async function settle(pid = d.pid): Promise<void> {
    let last = -1;
    for (let i = 0; i < 40; i++) {
      const n = fdCount(pid);
      if (n === last) return;
      last = n;
      await sleep(50);
    }
  }

  /** Waits for the fd count to come back to `n`; fails listing the daemon's fds if it does not. */
  async function expectFdCount(pid: number, n: number, ms: number): Promise<void> {
    const ok = await waitFor(() => fdCount(pid) === n, ms, 'the fd count').then(
      () => true,
      () => false,
    );
    if (!ok) expect(fdList(pid)).toHaveLength(n);
  }

  function fdList(pid: number): string[] {
    return readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return `${fd} -> ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
      } catch {
        return `${fd} -> ?`;
      }
    });
  }

  /** Every process (daemon, apps) that still holds the file we passed as an fd. */
  function holders(path: string): string[] {
    const out: string[] = [];
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`) === path) out.push(`${pid}/${fd}`);
        } catch {
          // gone
        }
      }
    }
    return out;
  }

  function openMarker(n: number): number[] {
    return Array.from({ length: n }, () => openSync(marker, 'r'));
  }

  /**
   * Connects, sends `bytes` (with `fds` on the first byte), and collects the daemon's frames until
   * it closes or `waitMs` passes. allowHalfOpen: the daemon's FIN does not make us close.
   */
  function talk(
    bytes: Buffer,
    opts: {
      fds?: number[];
      waitMs?: number;
      closeAfterSend?: boolean;
      keepOpen?: boolean;
      path?: string;
    } = {},
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const start = Date.now();
      const socket = createConnection({ path: opts.path ?? d.socketPath, allowHalfOpen: true });
      const decoder = new FrameDecoder();
      const messages: Msg[] = [];
      let done = false;
      let error: string | undefined;
      const finish = (closed: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (!opts.keepOpen) socket.destroy();
        resolve({ messages, closed, ms: Date.now() - start, socket, ...(error ? { error } : {}) });
      };
      const timer = setTimeout(() => finish(false), opts.waitMs ?? 5000);
      socket.on('data', (b: Buffer) => {
        try {
          messages.push(...(decoder.push(b) as Msg[]));
        } catch (err) {
          reject(new Error(`the daemon sent a bad frame: ${String(err)}`));
        }
      });
      socket.on('end', () => finish(true));
      socket.on('close', () => finish(true));
      socket.on('error', (err: NodeJS.ErrnoException) => {
        error = err.code ?? err.message; // EPIPE/ECONNRESET: the daemon closed on us
        finish(true);
      });
      socket.once('connect', () => {
        try {
          let sent = 0;
          if (opts.fds !== undefined && bytes.length > 0)
            sent = sendWithFds(socketFd(socket), bytes, opts.fds);
          if (sent < bytes.length) socket.write(bytes.subarray(sent));
        } finally {
          for (const fd of opts.fds ?? []) closeSync(fd);
        }
        if (opts.closeAfterSend) socket.end();
      });
    });
  }

  function expectError(r: Reply, code: string, text?: RegExp): void {
    expect(r.closed).toBe(true);
    const err = r.messages.find((m) => m.t === 'error');
    expect(err, JSON.stringify(r.messages)).toBeDefined();
    expect(err!.code).toBe(code);
    if (text) expect(err!.message).toMatch(text);
    expect(r.messages.at(-1)).toBe(err); // nothing after the error
  }

  it('garbage bytes (an HTTP request): too-large error from the length it implies, then closed', async () => {
    const r = await talk(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expectError(r, 'too-large', /exceeds/);
  });

  it('garbage bytes with a small length prefix: bad-request, then closed', async () => {
    const junk = Buffer.from([0, 0, 0, 6, 0xc4, 0x04, 1, 2, 3, 4]); // a frame holding bytes, not a map
    expectError(await talk(junk), 'bad-request', /message/);
    const notMsgpack = Buffer.from([0, 0, 0, 3, 0x83, 0xa1, 0x74]);
    expectError(await talk(notMsgpack), 'bad-request', /msgpack/);
  });

  it('a 4 GiB length prefix: too-large at once, nothing buffered', async () => {
    const r = await talk(Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.alloc(1000, 7)]));
    expectError(r, 'too-large', new RegExp(String(0xffffffff)));
  });

  it('a 4 GiB length prefix after a valid hello: too-large', async () => {
    // sent apart, so the hello is answered before the bad length arrives
    const socket = createConnection({ path: d.socketPath });
    const got: Msg[] = [];
    const decoder = new FrameDecoder();
    socket.on('data', (b: Buffer) => got.push(...(decoder.push(b) as Msg[])));
    socket.on('error', () => undefined);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(hello());
    await waitFor(() => got.length > 0, 3000, 'the welcome');
    socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await new Promise<void>((r) => socket.once('close', () => r()));
    expect(got.map((m) => m.t)).toEqual(['welcome', 'error']);
    expect(got[1]!.code).toBe('too-large');
    // and in the same chunk as the hello: an error, no half-answered hello needed
    expectError(await talk(Buffer.concat([hello(), Buffer.from([0xff, 0xff, 0xff, 0xff])])), 'too-large');
  });

  it('a frame above the cap (first frame, and after hello): too-large', async () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(MAX_FRAME + 1, 0);
    expectError(
      await talk(Buffer.concat([head, Buffer.alloc(64 * 1024, 0x61)])),
      'too-large',
      new RegExp(String(MAX_FRAME)),
    );
    // after the hello, through the daemon's ordinary reader: a real exec request whose environment
    // pushes it past the cap; the daemon refuses on the length, before the payload arrives
    const big = {
      ...execRequest(['true']),
      env: Array.from({ length: 12 }, (_, i) => `V${i}=${'x'.repeat(100 * 1024)}`),
    };
    const { encode } = await import('msgpackr');
    const body = encode(big);
    expect(body.length).toBeGreaterThan(MAX_FRAME);
    const frame = Buffer.alloc(4);
    frame.writeUInt32BE(body.length, 0);
    const socket = createConnection({ path: d.socketPath });
    const got: Msg[] = [];
    const decoder = new FrameDecoder();
    socket.on('data', (b: Buffer) => got.push(...(decoder.push(b) as Msg[])));
    socket.on('error', () => undefined);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(hello());
    await waitFor(() => got.length > 0, 3000, 'the welcome');
    socket.write(Buffer.concat([frame, body.subarray(0, 64 * 1024)]));
    await new Promise<void>((r) => socket.once('close', () => r()));
    expect(got.map((m) => m.t)).toEqual(['welcome', 'error']);
    expect(got[1]).toMatchObject({ code: 'too-large' });
    expect(got[1]!.message).toContain(String(body.length));
  });

  it('deeply nested msgpack (200k levels): bad-request, the daemon does not overflow its stack', async () => {
    const body = Buffer.alloc(200_000, 0x91);
    body[body.length - 1] = 0xc0;
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length, 0);
    expectError(await talk(Buffer.concat([hello(), head, body])), 'bad-request', /msgpack/);
  });

  it('an exec request with 3 fds but a bad field: bad-request naming it, the fds closed', async () => {
    const bad = { ...execRequest(['true']), argv: [] };
    const r = await talk(Buffer.concat([hello(), encodeFrame(bad)]), { fds: openMarker(3) });
    expectError(r, 'bad-request', /field 'argv'/);
    await waitFor(() => holders(marker).length === 0, 15_000, 'the passed fds to be closed').catch(
      () => undefined,
    );
    expect(holders(marker)).toEqual([]);
  });

  it("a -w the user can't enter and a command that doesn't exist: clear errors, no fd kept", async () => {
    const secret = mkdtempSync('/tmp/vopono-secret-');
    chmodSync(secret, 0o700);
    try {
      const w = await vopono(['exec', '-p', 'none', '-w', secret, '--', 'pwd']);
      expect(w.code).toBe(125);
      expect(w.stdout).toBe('');
      expect(w.stderr).toContain(`cannot enter working directory '${secret}'`);
      const missing = await vopono(['exec', '-p', 'none', '--', 'no-such-command-here']);
      expect(missing.code).toBe(127);
      expect(missing.stderr).toContain("cannot run 'no-such-command-here': no such command");
      await expectClean(d.prefix);
    } finally {
      rmSync(secret, { recursive: true, force: true });
    }
  });

  it('a big but valid request (a 400 KB environment, more than one recvmsg takes) is served whole', async () => {
    const big: Record<string, string> = {};
    for (let i = 0; i < 4; i++) big[`BIG${i}`] = String(i).repeat(100_000);
    const r = await voponoAs(user, d, ['exec', '-p', 'none', '--', 'sh', '-c', 'echo ${#BIG0} ${#BIG3}'], {
      env: big,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('100000 100000\n');
    expect(r.code).toBe(0);
    await expectClean(d.prefix);
  });

  it('a truncated frame, then close: the daemon closes its side and frees the connection', async () => {
    const whole = Buffer.concat([hello(), encodeFrame({ t: 'list' })]);
    for (const cut of [1, 3, 4, 7, whole.length - 1]) {
      const r = await talk(whole.subarray(0, cut), { closeAfterSend: true });
      expect(r.closed).toBe(true);
      expect(r.messages.filter((m) => m.t !== 'welcome')).toEqual([]);
    }
  });

  it('a truncated frame, client stays: closed by the handshake timeout', async () => {
    const r = await talk(Buffer.concat([hello(), encodeFrame({ t: 'list' }).subarray(0, 5)]), {
      waitMs: HANDSHAKE_MS + 3000,
    });
    expect(r.closed).toBe(true);
    expectError(r, 'timeout');
    expect(r.ms).toBeGreaterThanOrEqual(HANDSHAKE_MS - 100);
  });

  it('an unknown message type (first, and after hello): bad-request naming the type', async () => {
    expectError(
      await talk(encodeFrame({ t: 'format-disk' })),
      'bad-request',
      /unknown message type.*format-disk/,
    );
    const r = await talk(Buffer.concat([hello(), encodeFrame({ t: 'format-disk', path: '/' })]));
    expect(r.messages[0]?.t).toBe('welcome');
    expectError(r, 'bad-request', /unknown message type.*format-disk/);
  });

  it('a request before hello: bad-request', async () => {
    expectError(await talk(encodeFrame({ t: 'list' })), 'bad-request', /first message must be hello/);
  });

  it('a wrong protocol version: bad-version naming both versions', async () => {
    const r = await talk(Buffer.concat([hello(PROTOCOL_VERSION + 98), encodeFrame({ t: 'list' })]));
    expectError(
      r,
      'bad-version',
      new RegExp(`version ${PROTOCOL_VERSION + 98}\\b.*version ${PROTOCOL_VERSION}\\b`),
    );
    expect(r.messages.some((m) => m.t === 'welcome' || m.t === 'list-result')).toBe(false);
  });

  for (const n of [0, 1, 2, 4]) {
    it(`an exec request with ${n} fds: bad-fds, the fds closed in the daemon, nothing run`, async () => {
      const stamp = `${dir}/ran-${n}`;
      const bytes = Buffer.concat([hello(), encodeFrame(execRequest(['sh', '-c', `touch ${stamp}`]))]);
      const r = await talk(bytes, { fds: openMarker(n) });
      expectError(r, 'bad-fds', new RegExp(`exactly 3 file descriptors \\(got ${n}\\)`));
      await waitFor(() => holders(marker).length === 0, 15_000, 'the passed fds to be closed').catch(
        () => undefined,
      );
      expect(holders(marker)).toEqual([]);
      expect(() => readFileSync(stamp)).toThrow();
    });
  }

  it('an exec request with more fds than the daemon takes (20): bad-fds, every fd closed', async () => {
    const r = await talk(Buffer.concat([hello(), encodeFrame(execRequest(['true']))]), {
      fds: openMarker(20),
    });
    expectError(r, 'bad-fds', /too many file descriptors/);
    await waitFor(() => holders(marker).length === 0, 15_000, 'the passed fds to be closed').catch(
      () => undefined,
    );
    expect(holders(marker)).toEqual([]);
  });

  it('fds attached to a list request: bad-fds, the fds closed', async () => {
    const r = await talk(Buffer.concat([hello(), encodeFrame({ t: 'list' })]), { fds: openMarker(2) });
    expectError(r, 'bad-fds', /carries no file descriptors/);
    await waitFor(() => holders(marker).length === 0, 15_000, 'the passed fds to be closed').catch(
      () => undefined,
    );
  });

  it('after an error the daemon closes the connection fully, even if the client keeps its end open', async () => {
    const cases: [Buffer, number[] | undefined][] = [
      [Buffer.from([0xff, 0xff, 0xff, 0xff]), undefined],
      [Buffer.concat([hello(PROTOCOL_VERSION + 1), encodeFrame({ t: 'list' })]), undefined],
      [Buffer.concat([hello(), encodeFrame({ t: 'nope' })]), undefined],
      [Buffer.concat([hello(), encodeFrame(execRequest(['true']))]), openMarker(2)],
      [Buffer.concat([hello(), encodeFrame(execRequest(['true']))]), openMarker(20)],
    ];
    const open: Socket[] = [];
    try {
      for (const [bytes, fds] of cases) {
        const r = await talk(bytes, { fds, keepOpen: true });
        open.push(r.socket);
        expect(r.closed).toBe(true);
        expect(r.messages.at(-1)?.t).toBe('error');
      }
      // our ends are all still open: the daemon must not keep its ends waiting for us
      await expectFdCount(d.pid, before, 15_000);
    } finally {
      for (const s of open) s.destroy();
    }
  });

  it('a connection that says nothing is closed after the handshake timeout', async () => {
    const r = await talk(Buffer.alloc(0), { waitMs: HANDSHAKE_MS + 3000 });
    expect(r.closed).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(HANDSHAKE_MS - 100);
    expect(r.ms).toBeLessThan(HANDSHAKE_MS + 5000);
    expect(r.messages.map((m) => m.code)).toEqual(['timeout']);
  });

  it('a connection that says hello and then nothing is closed after the handshake timeout', async () => {
    const r = await talk(hello(), { waitMs: HANDSHAKE_MS + 3000 });
    expect(r.closed).toBe(true);
    expect(r.messages.map((m) => m.t)).toEqual(['welcome', 'error']);
    expect(r.messages[1]!.code).toBe('timeout');
  });

  it('silent connections closed by the timeout while new ones arrive: every new one is served', async () => {
    // the timed-out sockets' fd numbers are reused at once by new connections; the daemon's
    // readiness poll of an old one must not clash with the new one (it crashed the daemon)
    const listing = Buffer.concat([hello(), encodeFrame({ t: 'list' })]);
    for (let round = 0; round < 2; round++) {
      const silent = Array.from({ length: 100 }, () =>
        talk(Buffer.alloc(0), { waitMs: HANDSHAKE_MS + 5000 }),
      );
      const lists: Promise<Reply>[] = [];
      const start = Date.now();
      while (Date.now() - start < HANDSHAKE_MS + 300) {
        if (Date.now() - start > HANDSHAKE_MS - 300)
          for (let i = 0; i < 3; i++) lists.push(talk(listing, { waitMs: 10_000 }));
        await sleep(2);
      }
      for (const r of await Promise.all(silent)) {
        expect(r.closed).toBe(true);
        expect(r.messages.map((m) => m.code)).toEqual(['timeout']);
      }
      const replies = await Promise.all(lists);
      const wrong = replies.filter((r) => r.messages.map((m) => m.t).join() !== 'welcome,list-result');
      expect(
        wrong.map((r) => `${r.messages.map((m) => m.code ?? m.t).join()} ${r.error ?? ''}`).slice(0, 5),
        `${wrong.length} of ${replies.length} new connections not served`,
      ).toEqual([]);
      expect(d.child.exitCode).toBe(null);
    }
  }, 60_000);

  it('a client that disconnects mid-setup: the app does not keep running, the namespace is cleaned', async () => {
    // different moments: at once, during namespace setup, around the launch, after the start
    for (const delay of [0, 20, 100, 300, 1000]) {
      const tag = `${Date.now() % 100000}.${delay + 1}`; // a unique sleep argument to find the app by
      const argv = ['sleep', `3${tag}`];
      const socket = createConnection({ path: d.socketPath });
      await new Promise<void>((r) => socket.once('connect', () => r()));
      const got: Msg[] = [];
      const decoder = new FrameDecoder();
      socket.on('data', (b: Buffer) => got.push(...(decoder.push(b) as Msg[])));
      socket.on('error', () => undefined);
      const bytes = Buffer.concat([hello(), encodeFrame(execRequest(argv))]);
      const fds = openMarker(3);
      sendWithFds(socketFd(socket), bytes, fds);
      for (const fd of fds) closeSync(fd);
      if (delay > 0) await sleep(delay);
      socket.destroy();
      // the session ends when setup ends (slow under load): then neither the app nor any copy of
      // the fds may remain (the app, if it started, held them as its stdio)
      await waitFor(
        () => !appRunning(argv) && holders(marker).length === 0,
        30_000,
        'the session to end',
      ).catch(() => undefined);
      expect(
        appRunning(argv),
        `app still running after a hang-up at ${delay} ms (saw ${JSON.stringify(got.map((m) => m.t))})`,
      ).toBe(false);
      expect(holders(marker), `hang-up at ${delay} ms`).toEqual([]);
      await expectClean(d.prefix);
    }
  });

  it('a client on a terminal (PTY mode) that disconnects mid-setup: app gone, its terminal fds released', async () => {
    for (const delay of [0, 50, 300, 1000]) {
      const pty = openPty();
      try {
        const argv = ['sleep', `4${Date.now() % 100000}.${delay + 1}`];
        const socket = createConnection({ path: d.socketPath });
        await new Promise<void>((r) => socket.once('connect', () => r()));
        const got: Msg[] = [];
        const decoder = new FrameDecoder();
        socket.on('data', (b: Buffer) => got.push(...(decoder.push(b) as Msg[])));
        socket.on('error', () => undefined);
        const req = {
          ...execRequest(argv),
          tty: { stdin: true, stdout: true, stderr: true },
          winsize: { cols: 80, rows: 24 },
        };
        const fds = [0, 1, 2].map(() => openSync(pty.slavePath, 'r+'));
        sendWithFds(socketFd(socket), Buffer.concat([hello(), encodeFrame(req)]), fds);
        for (const fd of fds) closeSync(fd);
        if (delay > 0) await sleep(delay);
        socket.destroy();
        await waitFor(
          () => !appRunning(argv) && holders(pty.slavePath).length === 0,
          30_000,
          'the session to end',
        ).catch(() => undefined);
        expect(
          appRunning(argv),
          `app still running after a hang-up at ${delay} ms (saw ${JSON.stringify(got.map((m) => m.t))})`,
        ).toBe(false);
        expect(
          holders(pty.slavePath),
          `hang-up at ${delay} ms, daemon ${d.pid}, saw ${JSON.stringify(got)}`,
        ).toEqual([]);
        await expectClean(d.prefix);
      } finally {
        pty.close();
      }
    }
  });

  it('a client on a terminal (PTY mode) that stays: started, exit 7, its terminal fds released', async () => {
    const pty = openPty();
    try {
      const req = {
        ...execRequest(['sh', '-c', 'tty >/dev/null && exit 7']),
        tty: { stdin: true, stdout: true, stderr: true },
        winsize: { cols: 80, rows: 24 },
      };
      const fds = [0, 1, 2].map(() => openSync(pty.slavePath, 'r+'));
      const r = await talk(Buffer.concat([hello(), encodeFrame(req)]), { fds, waitMs: 20_000 });
      expect(r.messages.filter((m) => m.t !== 'progress').map((m) => m.t)).toEqual([
        'welcome',
        'started',
        'exit',
      ]);
      expect(r.messages.at(-1)).toMatchObject({ code: 7 });
      await waitFor(() => holders(pty.slavePath).length === 0, 5000, 'the terminal fds to be closed').catch(
        () => undefined,
      );
      expect(holders(pty.slavePath)).toEqual([]);
      await expectClean(d.prefix);
    } finally {
      pty.close();
    }
  });

  /** A pseudo-terminal pair owned by the test: the slave is what a client's terminal would be. */
  function openPty(): { slavePath: string; close(): void } {
    const libc = koffi.load('libc.so.6');
    const posixOpenpt = libc.func('int posix_openpt(int flags)') as (f: number) => number;
    const grantpt = libc.func('int grantpt(int fd)') as (fd: number) => number;
    const unlockpt = libc.func('int unlockpt(int fd)') as (fd: number) => number;
    const ptsname = libc.func('const char *ptsname(int fd)') as (fd: number) => string;
    const O_RDWR = 2;
    const O_NOCTTY = 0o400;
    const master = posixOpenpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) !== 0 || unlockpt(master) !== 0) throw new Error('no pty');
    const slavePath = ptsname(master);
    // drain what the app writes, so it never blocks on a full terminal
    const reader = new tty.ReadStream(master); // epoll-driven, not a blocking read in the threadpool
    reader.on('data', () => undefined);
    reader.on('error', () => undefined);
    return { slavePath, close: () => reader.destroy() };
  }

  function appRunning(argv: string[]): boolean {
    const want = argv.join('\0');
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '') === want) return true;
      } catch {
        // gone
      }
    }
    return false;
  }

  it('200 connections at once: lists, raw execs and CLI execs of `true` all answered correctly', async () => {
    const listing = Buffer.concat([hello(), encodeFrame({ t: 'list' })]);
    const execTrue = Buffer.concat([hello(), encodeFrame(execRequest(['true']))]);
    const devnull = (): number[] => [0, 1, 2].map(() => openSync('/dev/null', 'r+'));
    const raw: Promise<Reply>[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 20 === 0) raw.push(talk(execTrue, { fds: devnull(), waitMs: 60_000 }));
      else raw.push(talk(listing, { waitMs: 60_000 }));
    }
    const viaCli = Array.from({ length: 6 }, () =>
      vopono(['exec', '-p', 'none', '--', 'sh', '-c', 'exit 3']),
    );
    const replies = await Promise.all(raw);
    for (const [i, r] of replies.entries()) {
      expect(r.closed).toBe(true);
      const types = r.messages
        .filter((m) => m.t !== 'progress')
        .map((m) => (m.t === 'error' ? `error:${m.code}:${m.message}` : m.t));
      if (i % 20 === 0) expect(types).toEqual(['welcome', 'started', 'exit']);
      else expect(types).toEqual(['welcome', 'list-result']);
      if (i % 20 === 0) expect(r.messages.at(-1)).toMatchObject({ t: 'exit', code: 0, signal: null });
    }
    for (const r of await Promise.all(viaCli)) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(3);
    }
    await expectClean(d.prefix);
  }, 120_000);

  it('200 connections at once past the cap: each answered, or refused with a busy error', async () => {
    const capped = await startDaemon({
      args: ['--max-connections', '5', '--handshake-timeout', String(HANDSHAKE_MS)],
    });
    try {
      await settle(capped.pid);
      const capBefore = fdCount(capped.pid);
      const listing = Buffer.concat([hello(), encodeFrame({ t: 'list' })]);
      // every 10th carries 2 fds (wrongly): served → bad-fds, refused → the kernel drops them
      const replies = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          talk(listing, {
            waitMs: 20_000,
            path: capped.socketPath,
            ...(i % 10 === 0 ? { fds: openMarker(2) } : {}),
          }),
        ),
      );
      let served = 0;
      let busy = 0;
      for (const [i, r] of replies.entries()) {
        expect(r.closed).toBe(true);
        const types = r.messages.map((m) => (m.t === 'error' ? `error:${m.code}` : m.t));
        expect(r.error, JSON.stringify(types)).toBeUndefined();
        if (types[0] === 'welcome') {
          expect(types).toEqual(i % 10 === 0 ? ['welcome', 'error:bad-fds'] : ['welcome', 'list-result']);
          served++;
        } else {
          expect(types).toEqual(['error:busy']);
          expect(r.messages[0]!.message).toMatch(/connections/);
          busy++;
        }
      }
      expect(served).toBeGreaterThan(0);
      expect(busy).toBeGreaterThan(0);
      // still serving once the burst is over
      const after = await talkTo(capped.socketPath, listing);
      expect(after.messages.map((m) => m.t)).toEqual(['welcome', 'list-result']);
      await expectFdCount(capped.pid, capBefore, 15_000);
      await waitFor(() => holders(marker).length === 0, 15_000, 'the passed fds to be closed').catch(
        () => undefined,
      );
      expect(holders(marker)).toEqual([]);
    } finally {
      await capped.stop();
    }
  }, 60_000);

  it('past the cap, the CLI says the daemon is busy (list and exec), and no sudo fallback is tried', async () => {
    const capped = await startDaemon({ args: ['--max-connections', '1', '--handshake-timeout', '20000'] });
    const hold = createConnection({ path: capped.socketPath }); // a silent client takes the one slot
    hold.on('error', () => undefined);
    try {
      await new Promise<void>((r) => hold.once('connect', () => r()));
      await sleep(200);
      const env = user.env({ VOPONO_SOCKET: capped.socketPath });
      for (const args of [['list'], ['exec', '-p', 'none', '--', 'true']]) {
        const argv = user.asUser([process.execPath, cli, ...args]);
        const r = await run(argv[0]!, argv.slice(1), { env, cwd: user.home });
        expect(r.code, args[0]).not.toBe(0);
        if (args[0] === 'exec') expect(r.code).toBe(125);
        expect(r.stderr, args[0]).toContain('the daemon is serving its maximum of 1 connections');
        expect(r.stderr, args[0]).not.toMatch(/sudo/);
      }
      hold.destroy();
      await sleep(200);
      const argv = user.asUser([process.execPath, cli, 'list', '--json']);
      const ok = await run(argv[0]!, argv.slice(1), { env, cwd: user.home });
      expect(ok.code).toBe(0);
    } finally {
      hold.destroy();
      await capped.stop();
    }
  });

  function talkTo(path: string, bytes: Buffer): Promise<Reply> {
    return talk(bytes, { waitMs: 20_000, path });
  }
});
