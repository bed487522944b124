// No daemon: start a one-shot root side with sudo for this one request. It is the same daemon
// code serving one connection over a socket pair given as its stdin, so the protocol, the
// identity check (SO_PEERCRED of the pair = this process) and the session code are the same.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, realpathSync } from 'node:fs';
import { Socket } from 'node:net';
import { socketPair } from '../protocol/libc.js';
import type { DaemonUnavailable } from './client.js';

export interface OneShot {
  socket: Socket;
  /** Resolves, when the root side has exited, to what went wrong if it never answered. */
  done: Promise<string>;
}

function canPrompt(): boolean {
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

export async function startOneShot(why: DaemonUnavailable): Promise<OneShot> {
  const self = realpathSync(process.argv[1] ?? '');
  const args = ['daemon', '--connection-fd', '0'];
  // settings a test or an admin gave this client reach the root side as flags (sudo drops the env)
  if (process.env.VOPONO_PREFIX) args.push('--prefix', process.env.VOPONO_PREFIX);
  if (process.env.VOPONO_STATE_DIR) args.push('--state-dir', process.env.VOPONO_STATE_DIR);
  if (process.env.VOPONO_POOL) args.push('--pool', process.env.VOPONO_POOL);
  const sudo = ['/usr/bin/sudo', '/bin/sudo', '/usr/local/bin/sudo'].find((p) => existsSync(p));
  if (!sudo) return failed(`${why.message}, and sudo is not installed`);
  const [mine, theirs] = socketPair();
  const child = spawn(sudo, [...(canPrompt() ? [] : ['-n']), '--', self, ...args], {
    stdio: [theirs, 'ignore', 'pipe'],
  });
  closeSync(theirs);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => (stderr += d.slice(0, 4096)));
  const done = new Promise<string>((resolve) => {
    const finish = (code: number | null): void => {
      const said = stderr.trim().split('\n').filter(Boolean).pop();
      resolve(
        `${why.message}, and sudo could not start vopono's root side` +
          (said ? ` (${said})` : code !== null ? ` (sudo exited ${code})` : ''),
      );
    };
    child.on('exit', (code) => finish(code));
    child.on('error', () => finish(null));
  });
  const opts = { fd: mine, readable: true, writable: true };
  return { socket: new Socket(opts), done };
}

function failed(message: string): OneShot {
  const [a, b] = socketPair();
  closeSync(b);
  return { socket: new Socket({ fd: a, readable: true, writable: true }), done: Promise.resolve(message) };
}
