// sd-notify: the datagram the daemon sends to systemd, checked with a real receiving socket
// (python3's socket module, which has unix datagram sockets) for path and abstract addresses.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { notifyAddress, sendNotify } from '../../../src/daemon/sd-notify.js';

const repo = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'vopono-notify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a = sys.argv[1]
s.bind('\\0' + a[1:] if a.startswith('@') else a)
s.settimeout(20)
print('listening', flush=True)
print(s.recv(4096).decode(), end='', flush=True)
`;

/** Starts a receiver on `address`; resolves with what arrives (after `send` has run). */
async function receive(address: string, send: () => void | Promise<void>): Promise<string> {
  const child = spawn('python3', ['-c', RECEIVER, address], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  await new Promise<void>((ok, fail) => {
    child.once('error', fail);
    child.stdout.on('data', (d: string) => {
      out += d;
      if (out.startsWith('listening\n')) ok();
    });
  });
  await send();
  await new Promise((ok) => child.once('exit', ok));
  return out.slice('listening\n'.length);
}

const havePython = spawnSync('python3', ['-c', '0']).status === 0;

describe('sd-notify', () => {
  it('encodes path and abstract addresses as sockaddr_un', () => {
    const p = notifyAddress('/run/systemd/notify');
    expect(p.addr.readUInt16LE(0)).toBe(1);
    expect(p.len).toBe(2 + '/run/systemd/notify'.length + 1);
    expect(p.addr.subarray(2, p.len - 1).toString()).toBe('/run/systemd/notify');
    const a = notifyAddress('@vopono/x');
    expect(a.len).toBe(2 + 1 + 'vopono/x'.length);
    expect(a.addr[2]).toBe(0);
    expect(a.addr.subarray(3, a.len).toString()).toBe('vopono/x');
    expect(() => notifyAddress('relative')).toThrow(/absolute or abstract/);
    expect(() => notifyAddress('/' + 'x'.repeat(200))).toThrow(/too long/);
  });

  it.skipIf(!havePython)('delivers a datagram to a path socket', async () => {
    const path = join(dir, 'notify.sock');
    expect(await receive(path, () => sendNotify(path, 'READY=1'))).toBe('READY=1');
  });

  it.skipIf(!havePython)('delivers a datagram to an abstract socket', async () => {
    const name = `@vopono-test-${process.pid}-${Date.now()}`;
    expect(await receive(name, () => sendNotify(name, 'STATUS=hello'))).toBe('STATUS=hello');
  });

  it('fails clearly when nobody listens', () => {
    expect(() => sendNotify(join(dir, 'nobody.sock'), 'READY=1')).toThrow(/sendto .*nobody\.sock/);
  });

  it.skipIf(!havePython)(
    'notifyReady sends READY=1 with MAINPID and hides NOTIFY_SOCKET from children',
    async () => {
      const path = join(dir, 'ready.sock');
      const script = `
      const m = await import(${JSON.stringify(join(repo, 'src/daemon/sd-notify.ts'))});
      m.notifyReady();
      const { execFileSync } = await import('node:child_process');
      const childSees = execFileSync('sh', ['-c', 'echo "[$NOTIFY_SOCKET]"'], { encoding: 'utf8' }).trim();
      process.stdout.write(String(process.pid) + ' ' + childSees);
    `;
      let stdout = '';
      const got = await receive(path, async () => {
        const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
          cwd: repo,
          env: { ...process.env, NOTIFY_SOCKET: path },
          encoding: 'utf8',
        });
        expect(r.stderr).toBe('');
        stdout = r.stdout;
      });
      const [pid, childSees] = stdout.split(' ');
      expect(got).toBe(`READY=1\nMAINPID=${pid}`);
      expect(childSees).toBe('[]');
    },
  );

  it('notifyReady is a no-op without NOTIFY_SOCKET', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `(await import(${JSON.stringify(join(repo, 'src/daemon/sd-notify.ts'))})).notifyReady(); console.log('ok')`,
      ],
      { cwd: repo, env: { ...process.env, NOTIFY_SOCKET: '' }, encoding: 'utf8' },
    );
    expect(r.stdout.trim()).toBe('ok');
    expect(r.stderr).toBe('');
  });
});
