// `vopono sync` on a real terminal (node-pty): plain prompts, defaults on Enter, secrets not echoed.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixture, json, startServer, testEnv, type FixtureServer } from './helpers.js';

const ROOT = join(import.meta.dirname, '../../..');

let srv: FixtureServer;
let env: ReturnType<typeof testEnv>;
beforeEach(async () => {
  srv = await startServer({
    'GET /www/relays/wireguard/': () => ({ body: fixture('mullvad-relays-wireguard.json') }),
    'POST /auth/v1/token': (_r, b) =>
      (JSON.parse(b) as { account_number: string }).account_number === '1234567890123456'
        ? json({ access_token: 't' })
        : json({ code: 'INVALID_ACCOUNT' }, 400),
    'GET /accounts/v1/accounts/me': () =>
      json({ expiry: '2099-01-01T00:00:00Z', max_devices: 5, can_add_devices: true }),
    'GET /accounts/v1/devices': () => json([]),
    'POST /accounts/v1/devices': (_r, b) =>
      json({
        name: 'x',
        pubkey: (JSON.parse(b) as { pubkey: string }).pubkey,
        ipv4_address: '10.1.1.1/32',
        ipv6_address: 'fc00::1/128',
      }),
  });
  env = testEnv(srv.url);
});
afterEach(async () => {
  env.restore();
  await srv.close();
});

const plain = (s: string): string => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

/** Runs the CLI under a PTY; `script` maps a prompt (regexp on the output so far) to the keys to type. */
function underPty(args: string[], script: [RegExp, string][]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const p = pty.spawn(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli/main.ts'), ...args], {
      cols: 120,
      rows: 40,
      cwd: env.home,
      env: { ...process.env } as Record<string, string>,
    });
    let out = '';
    let step = 0;
    let seenAt = 0;
    const timer = setTimeout(() => {
      p.kill();
      reject(new Error(`timed out at step ${step}; output:\n${out}`));
    }, 30_000);
    p.onData((d) => {
      out += d;
      const next = script[step];
      if (next !== undefined && next[0].test(plain(out.slice(seenAt)))) {
        seenAt = out.length;
        step++;
        p.write(next[1]);
      }
    });
    p.onExit(({ exitCode }) => {
      clearTimeout(timer);
      resolve({ code: exitCode, out: plain(out) });
    });
  });
}

describe('interactive sync', () => {
  it('asks provider, protocol, account (hidden) and port; Enter takes the defaults', async () => {
    const r = await underPty(
      ['sync'],
      [
        [/Choose 1-8: $/, '1\r'],
        [/Which protocol for mullvad\?[\s\S]*Choose 1-2: $/, '\r'],
        [/Mullvad account number: $/, '1234 5678 9012 3456\r'],
        [/WireGuard port .*\[51820\]: $/, '\r'],
      ],
    );
    expect(r.out).toContain('1) mullvad');
    expect(r.out).toContain('1) wireguard (default)');
    expect(r.out).not.toContain('1234 5678');
    expect(r.out).toMatch(/mullvad wireguard: 5 configs written/);
    expect(r.code).toBe(0);
    expect(readdirSync(join(env.config, 'vopono', 'mv', 'wireguard'))).toContain('sweden-segot001.conf');
  });

  it('re-asks on invalid input instead of failing', async () => {
    const r = await underPty(
      ['sync', 'mullvad', '-c', 'wireguard'],
      [
        [/Mullvad account number: $/, '42\r'],
        [/16 digits[\s\S]*Mullvad account number: $/, '1234567890123456\r'],
        [/\[51820\]: $/, '99999\r'],
        [/port must be[\s\S]*\[51820\]: $/, '53\r'],
      ],
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/5 configs written/);
  });

  it('Ctrl-C at a prompt stops cleanly: non-zero exit, nothing written', async () => {
    const r = await underPty(['sync', 'mullvad', '-c', 'wireguard'], [[/Mullvad account number: $/, '\x03']]);
    expect(r.out).toMatch(/vopono: interrupted; nothing was changed/);
    expect(r.code).toBe(1);
    expect(readdirSync(join(env.config, 'vopono', 'mv'))).toEqual([]);
  });
});
