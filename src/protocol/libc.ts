// The few libc calls Node does not offer, through koffi: fd passing (sendmsg/recvmsg with
// SCM_RIGHTS), peer credentials, and a readiness poll on a raw fd. Loaded lazily, once.
import koffi from 'koffi';

const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const SO_PEERCRED = 17;
const SO_PEERGROUPS = 59;
export const MSG_DONTWAIT = 0x40;
export const MSG_CMSG_CLOEXEC = 0x40000000;
const MSG_CTRUNC = 0x8;
const ERANGE = 34;
export const EAGAIN = 11;

interface Libc {
  sendmsg: (fd: number, msg: MsgHdr, flags: number) => number;
  recvmsg: (fd: number, msg: MsgHdr, flags: number) => number;
  getsockopt: (fd: number, level: number, name: number, val: Buffer, len: number[]) => number;
  strerror: (errnum: number) => string;
}

interface MsgHdr {
  msg_name: null;
  msg_namelen: number;
  msg_iov: Buffer;
  msg_iovlen: number;
  msg_control: Buffer | null;
  msg_controllen: number;
  msg_flags: number;
}

let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  koffi.struct('vopono_msghdr', {
    msg_name: 'void *',
    msg_namelen: 'uint32_t',
    msg_iov: 'void *',
    msg_iovlen: 'size_t',
    msg_control: 'void *',
    msg_controllen: 'size_t',
    msg_flags: 'int',
  });
  libc = {
    sendmsg: lib.func('intptr_t sendmsg(int fd, const vopono_msghdr *msg, int flags)'),
    recvmsg: lib.func('intptr_t recvmsg(int fd, _Inout_ vopono_msghdr *msg, int flags)'),
    getsockopt: lib.func('int getsockopt(int fd, int level, int name, void *val, _Inout_ uint32_t *len)'),
    strerror: lib.func('const char *strerror(int errnum)'),
  };
  return libc;
}

export class SyscallError extends Error {
  constructor(
    readonly syscall: string,
    readonly errno: number,
  ) {
    super(`${syscall}: ${load().strerror(errno)}`);
  }
}

function iovecFor(buf: Buffer): Buffer {
  const iov = Buffer.alloc(16);
  iov.writeBigUInt64LE(koffi.address(buf), 0);
  iov.writeBigUInt64LE(BigInt(buf.length), 8);
  return iov;
}

const CMSG_HDR = 16; // cmsg_len (size_t), cmsg_level (int), cmsg_type (int)
const cmsgSpace = (n: number): number => CMSG_HDR + ((n + 7) & ~7);

/**
 * Sends `data` with `fds` attached as SCM_RIGHTS. Returns how many bytes went out (the fds travel
 * with the first byte, so a partial send still delivered them; send the rest with a plain write).
 */
export function sendWithFds(sock: number, data: Buffer, fds: number[]): number {
  const c = load();
  let control: Buffer | null = null;
  if (fds.length > 0) {
    control = Buffer.alloc(cmsgSpace(4 * fds.length));
    control.writeBigUInt64LE(BigInt(CMSG_HDR + 4 * fds.length), 0);
    control.writeInt32LE(SOL_SOCKET, 8);
    control.writeInt32LE(SCM_RIGHTS, 12);
    fds.forEach((fd, i) => control!.writeInt32LE(fd, CMSG_HDR + 4 * i));
  }
  const n = c.sendmsg(
    sock,
    {
      msg_name: null,
      msg_namelen: 0,
      msg_iov: iovecFor(data),
      msg_iovlen: 1,
      msg_control: control,
      msg_controllen: control?.length ?? 0,
      msg_flags: 0,
    },
    MSG_DONTWAIT,
  );
  if (n < 0) throw new SyscallError('sendmsg', koffi.errno());
  return n;
}

export interface Received {
  data: Buffer;
  fds: number[];
  /** The sender attached more fds than fit: every fd that did arrive is in `fds` (close them). */
  truncated: boolean;
}

/** One non-blocking recvmsg; received fds are close-on-exec. Returns null when nothing is there yet. */
// One receive buffer for every call (the event loop runs one at a time): a buffer per connection
// kept alive by the slice handed on cost the daemon ~256 KiB of memory per concurrent client.
let recvBuffer = Buffer.alloc(0);

export function recvWithFds(sock: number, maxBytes: number, maxFds: number): Received | null {
  const c = load();
  if (recvBuffer.length < maxBytes) recvBuffer = Buffer.alloc(maxBytes);
  const buf = recvBuffer.subarray(0, maxBytes);
  const control = Buffer.alloc(cmsgSpace(4 * maxFds) * 2);
  const msg: MsgHdr = {
    msg_name: null,
    msg_namelen: 0,
    msg_iov: iovecFor(buf),
    msg_iovlen: 1,
    msg_control: control,
    msg_controllen: control.length,
    msg_flags: 0,
  };
  const n = c.recvmsg(sock, msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0) {
    const errno = koffi.errno();
    if (errno === EAGAIN) return null;
    throw new SyscallError('recvmsg', errno);
  }
  const fds: number[] = [];
  let off = 0;
  while (off + CMSG_HDR <= msg.msg_controllen) {
    const len = Number(control.readBigUInt64LE(off));
    if (len < CMSG_HDR) break;
    const level = control.readInt32LE(off + 8);
    const type = control.readInt32LE(off + 12);
    if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      for (let p = off + CMSG_HDR; p + 4 <= off + len; p += 4) fds.push(control.readInt32LE(p));
    }
    off += (len + 7) & ~7;
  }
  // a copy of just the bytes received: the shared buffer is reused by the next call
  return { data: Buffer.from(buf.subarray(0, n)), fds, truncated: (msg.msg_flags & MSG_CTRUNC) !== 0 };
}

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
  groups: number[];
}

/** The kernel's record of who connected (taken at connect time; the client can't forge it). */
export function peerCredentials(sock: number): PeerCredentials {
  const c = load();
  const cred = Buffer.alloc(12);
  if (c.getsockopt(sock, SOL_SOCKET, SO_PEERCRED, cred, [12]) !== 0)
    throw new SyscallError('getsockopt(SO_PEERCRED)', koffi.errno());
  let size = [256 * 4];
  let groups = Buffer.alloc(size[0]!);
  if (c.getsockopt(sock, SOL_SOCKET, SO_PEERGROUPS, groups, size) !== 0) {
    if (koffi.errno() !== ERANGE) throw new SyscallError('getsockopt(SO_PEERGROUPS)', koffi.errno());
    groups = Buffer.alloc(size[0]!);
    size = [groups.length];
    if (c.getsockopt(sock, SOL_SOCKET, SO_PEERGROUPS, groups, size) !== 0)
      throw new SyscallError('getsockopt(SO_PEERGROUPS)', koffi.errno());
  }
  const list: number[] = [];
  for (let i = 0; i + 4 <= size[0]!; i += 4) list.push(groups.readUInt32LE(i));
  return { pid: cred.readInt32LE(0), uid: cred.readUInt32LE(4), gid: cred.readUInt32LE(8), groups: list };
}

/** Calls `onReady` once when `fd` is readable or hung up, without blocking the event loop. */
export function whenReadable(fd: number, onReady: () => void): { cancel(): void } {
  let handle: ReturnType<typeof koffi.node.poll> | null = koffi.node.poll(
    fd,
    { readable: true, disconnect: true },
    () => {
      handle?.close();
      handle = null;
      onReady();
    },
  );
  return {
    cancel() {
      handle?.close();
      handle = null;
    },
  };
}

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
let flockFn: ((fd: number, op: number) => number) | undefined;

/** Non-blocking exclusive flock; true when taken. */
export function tryLockExclusive(fd: number): boolean {
  flockFn ??= koffi.load('libc.so.6').func('int flock(int fd, int op)') as (fd: number, op: number) => number;
  if (flockFn(fd, LOCK_EX | LOCK_NB) === 0) return true;
  if (koffi.errno() === EAGAIN) return false;
  throw new SyscallError('flock', koffi.errno());
}

export function unlock(fd: number): void {
  flockFn?.(fd, LOCK_UN);
}

type SocketPairFn = (domain: number, type: number, proto: number, sv: number[]) => number;
let socketpairFn: SocketPairFn | undefined;

/** A connected pair of Unix stream sockets, close-on-exec. */
export function socketPair(): [number, number] {
  socketpairFn ??= koffi
    .load('libc.so.6')
    .func('int socketpair(int domain, int type, int proto, _Out_ int *sv)') as SocketPairFn;
  const sv = [0, 0];
  const AF_UNIX = 1;
  const SOCK_STREAM = 1;
  const SOCK_CLOEXEC = 0o2000000;
  if (socketpairFn(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) !== 0)
    throw new SyscallError('socketpair', koffi.errno());
  return [sv[0]!, sv[1]!];
}
