// Asks for OpenVPN credentials on the user's terminal (/dev/tty), in the client: the daemon never
// prompts on its own. The password is read with echo off; ^C or ^D gives up.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import type { ExecOptions } from '../protocol/messages.js';
import { enterRawMode } from './terminal.js';

export class PromptCancelled extends Error {}

function readLine(fd: number, secret: boolean): string {
  const restore = secret ? enterRawMode(fd) : (): void => undefined;
  const buf = Buffer.alloc(1);
  const bytes: number[] = [];
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, 1, null);
      if (n === 0) throw new PromptCancelled('no answer (end of input)');
      const c = buf[0]!;
      if (c === 0x0a || c === 0x0d) break;
      if (secret && (c === 0x03 || c === 0x04)) throw new PromptCancelled('cancelled');
      if (secret && (c === 0x7f || c === 0x08)) {
        bytes.pop();
        continue;
      }
      bytes.push(c);
    }
  } finally {
    restore();
    if (secret) writeSync(fd, '\r\n');
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Username and password typed by the user; throws when there is no terminal to ask on. */
export function promptCredentials(what: string): { username: string; password: string } {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    throw new Error(
      `${what} needs a username and password, and there is no terminal to ask them on: ` +
        'name a credentials file in its auth-user-pass line (username and password on two lines)',
    );
  }
  try {
    writeSync(fd, `${what} needs credentials.\nUsername: `);
    const username = readLine(fd, false).trim();
    writeSync(fd, 'Password: ');
    const password = readLine(fd, true);
    if (username === '') throw new PromptCancelled('no username given');
    return { username, password };
  } finally {
    closeSync(fd);
  }
}

/**
 * True when an OpenVPN config needs a username and password that no file gave. A config the
 * daemon would refuse throws here, so nobody is asked for a password in vain.
 */
export async function openvpnNeedsCredentials(o: ExecOptions): Promise<boolean> {
  if (o.protocol !== 'openvpn' || !o.customConfig || o.credentials) return false;
  const { checkOpenvpnConfig } = await import('../daemon/vpn/openvpn-config.js');
  return checkOpenvpnConfig(o.customConfig.content, { isRoot: process.getuid?.() === 0 }).authUserPass;
}
