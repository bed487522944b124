// systemd's readiness protocol (sd_notify(3)): one datagram such as "READY=1" sent to the unix
// socket named by $NOTIFY_SOCKET. Node has no unix datagram sockets, so socket/sendto come from
// libc through koffi. A no-op when NOTIFY_SOCKET is unset (not started by systemd, or a
// Type= other than notify). Supports both path sockets and abstract ones ("@name").
import koffi from 'koffi';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;
const SUN_PATH_MAX = 108;

interface Libc {
  socket: (domain: number, type: number, protocol: number) => number;
  sendto: (fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrlen: number) => number;
  close: (fd: number) => number;
  strerror: (errnum: number) => string;
}

let libc: Libc | undefined;
function load(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  libc = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    sendto: lib.func(
      'intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)',
    ),
    close: lib.func('int close(int fd)'),
    strerror: lib.func('const char *strerror(int errnum)'),
  };
  return libc;
}

/** sockaddr_un for a $NOTIFY_SOCKET value; returns the address buffer and its length. */
export function notifyAddress(target: string): { addr: Buffer; len: number } {
  const abstract = target.startsWith('@');
  if (!abstract && !target.startsWith('/'))
    throw new Error(`NOTIFY_SOCKET must be absolute or abstract: ${target}`);
  const name = Buffer.from(abstract ? target.slice(1) : target);
  // abstract: a leading NUL then the name, no terminator; path: the path and its NUL
  const pathLen = abstract ? 1 + name.length : name.length + 1;
  if (pathLen > SUN_PATH_MAX) throw new Error(`NOTIFY_SOCKET too long: ${target}`);
  const addr = Buffer.alloc(2 + SUN_PATH_MAX);
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, abstract ? 3 : 2);
  return { addr, len: 2 + pathLen };
}

let target: string | undefined | null = null; // null: not read yet

/**
 * Sends `state` (e.g. "READY=1", "STATUS=...", "STOPPING=1") to systemd. Returns false when there
 * is nowhere to send it. The first call takes NOTIFY_SOCKET out of the environment so that no
 * child (wireguard-go, openvpn, users' apps) talks to systemd in the daemon's name.
 */
export function sdNotify(state: string): boolean {
  if (target === null) {
    target = process.env.NOTIFY_SOCKET;
    delete process.env.NOTIFY_SOCKET;
  }
  if (target === undefined || target === '') return false;
  sendNotify(target, state);
  return true;
}

/** One datagram to a notify socket ("/path" or "@abstract"); throws on failure. */
export function sendNotify(to: string, state: string): void {
  const c = load();
  const { addr, len } = notifyAddress(to);
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`sd_notify: socket: ${c.strerror(koffi.errno())}`);
  try {
    const msg = Buffer.from(state);
    const n = c.sendto(fd, msg, msg.length, MSG_NOSIGNAL, addr, len);
    if (n < 0) throw new Error(`sd_notify: sendto ${to}: ${c.strerror(koffi.errno())}`);
  } finally {
    c.close(fd);
  }
}

function tryNotify(state: string): void {
  try {
    sdNotify(state);
  } catch (err) {
    // Never fatal: systemd then reports a start timeout, which names the problem well enough.
    process.stderr.write(`vopono daemon: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}

/** Tells systemd the daemon is listening (Type=notify). A no-op outside systemd. */
export function notifyReady(): void {
  tryNotify(`READY=1\nMAINPID=${process.pid}`);
}

/** Tells systemd the daemon is shutting down on purpose. */
export function notifyStopping(): void {
  tryNotify('STOPPING=1');
}

/** Free-form status line shown by `systemctl status vopono`. */
export function notifyStatus(status: string): void {
  tryNotify(`STATUS=${status.replace(/\n/g, ' ')}`);
}
