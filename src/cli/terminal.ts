// The client's terminal: raw mode (saved and restored on every exit path) and window size,
// through termios/ioctl directly on the fd, without creating Node tty streams (they would reopen
// the terminal and leave it non-blocking for the user's shell).
import koffi from 'koffi';
import { isatty } from 'node:tty';

const TCSANOW = 0;
const TIOCGWINSZ = 0x5413;
const TERMIOS_SIZE = 60;

interface TermLib {
  tcgetattr: (fd: number, t: Buffer) => number;
  tcsetattr: (fd: number, when: number, t: Buffer) => number;
  cfmakeraw: (t: Buffer) => void;
  ioctl: (fd: number, req: number, ...args: unknown[]) => number;
}

let lib: TermLib | undefined;
function load(): TermLib {
  if (lib) return lib;
  const c = koffi.load('libc.so.6');
  lib = {
    tcgetattr: c.func('int tcgetattr(int fd, void *t)'),
    tcsetattr: c.func('int tcsetattr(int fd, int when, const void *t)'),
    cfmakeraw: c.func('void cfmakeraw(void *t)'),
    ioctl: c.func('int ioctl(int fd, unsigned long req, ...)'),
  };
  return lib;
}

export function windowSize(fd: number): { cols: number; rows: number } | undefined {
  if (!isatty(fd)) return undefined;
  const ws = Buffer.alloc(8);
  if (load().ioctl(fd, TIOCGWINSZ, 'void *', ws) !== 0) return undefined;
  const rows = ws.readUInt16LE(0);
  const cols = ws.readUInt16LE(2);
  return rows > 0 && cols > 0 ? { cols, rows } : undefined;
}

/** Puts fd's terminal in raw mode; the returned function restores it (idempotent). */
export function enterRawMode(fd: number): () => void {
  const t = load();
  const saved = Buffer.alloc(TERMIOS_SIZE + 4);
  if (t.tcgetattr(fd, saved) !== 0) return () => undefined;
  const raw = Buffer.from(saved);
  t.cfmakeraw(raw);
  t.tcsetattr(fd, TCSANOW, raw);
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    t.tcsetattr(fd, TCSANOW, saved);
    process.removeListener('exit', restore);
  };
  process.on('exit', restore);
  return restore;
}
