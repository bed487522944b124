// `vopono exec --custom` end to end through the real daemon, as a throwaway user, against the
// test world's WireGuard peer and OpenVPN server.
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clientCli, expectClean, startDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { describeRoot } from '../../helpers/root.js';
import { run, sleep, type RunResult } from '../../helpers/run.js';
import { readFileSync } from 'node:fs';
import { createUser, type TestUser } from '../../helpers/users.js';
import { createPeerWorld, type PeerWorld } from '../../../src/world/peer.js';
import { createOpenvpnWorld, guardWorld, type OpenvpnWorld } from '../../../src/world/openvpn-peer.js';
import { cleanupSteps, runner, snapshot, uniqueIndex, uniquePrefix } from './helpers.js';

describeRoot('vopono exec through VPN tunnels (real daemon, real peers)', () => {
  const prefix = uniquePrefix();
  const index = uniqueIndex();
  let d: TestDaemon;
  let user: TestUser;
  let cli: string;
  let wg: PeerWorld;
  let ovpn: OpenvpnWorld;
  let unguard: () => Promise<void>;
  let runDir: string;
  let before: Record<string, string>;

  beforeAll(async () => {
    before = await snapshot(prefix);
    cli = clientCli();
    runDir = mkdtempSync(join(tmpdir(), `vopono-run-${prefix}-`));
    process.env.VOPONO_RUN_DIR = runDir; // inherited by the daemon: its private VPN files go here
    d = await startDaemon();
    user = await createUser('vtv');
    wg = await createPeerWorld({ prefix, subnetIndex: index });
    ovpn = await createOpenvpnWorld({ prefix, subnetIndex: index + 1 });
    unguard = await guardWorld(runner, `${prefix}_guard`, ovpn.hostVeth, `${d.prefix}*`);
  });

  afterAll(async () => {
    await cleanupSteps([
      () => d?.stop(),
      () => user?.remove(),
      () => unguard?.(),
      () => wg?.destroy(),
      () => ovpn?.destroy(),
      () => d && expectClean(d.prefix),
      () => rmSync(runDir, { recursive: true, force: true }),
      () => delete process.env.VOPONO_RUN_DIR,
    ]);
    expect(await snapshot(prefix)).toEqual(before);
  });

  function vopono(args: string[], timeoutMs = 60_000): Promise<RunResult> {
    const argv = user.asUser([process.execPath, cli, ...args]);
    return run(argv[0]!, argv.slice(1), {
      env: user.env({ VOPONO_SOCKET: d.socketPath }),
      cwd: user.home,
      timeoutMs,
    });
  }

  function userFile(name: string, content: string): string {
    const p = join(user.home, name);
    writeFileSync(p, content, { mode: 0o600 });
    chownSync(p, user.uid, user.gid);
    return p;
  }

  it('WireGuard: the app reaches the HTTP server by name through the tunnel, with the tunnel DNS', async () => {
    userFile('wg-se1.conf', wg.clientConfig);
    const t0 = performance.now();
    const r = await vopono([
      'exec',
      '--custom',
      '~/wg-se1.conf',
      '--',
      'sh',
      '-c',
      `cat /etc/resolv.conf; curl -sS -4 --max-time 5 http://${wg.domain}:${wg.httpPort}/`,
    ]);
    process.stderr.write(
      `[figure] vopono exec (WireGuard, cold, whole CLI + curl): ${(performance.now() - t0).toFixed(0)} ms\n`,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`nameserver ${wg.tunnelIp}`);
    expect(r.stdout.trim().split('\n').pop()).toBe(`vopono-peer ${wg.clientTunnelIp}`);
    await expectClean(d.prefix);
  });

  it('OpenVPN: credentials from the auth file beside the config, pushed DNS, HTTP through the tunnel', async () => {
    userFile('nl.ovpn', ovpn.clientConfig.replace('auth-user-pass', 'auth-user-pass auth.txt'));
    userFile('auth.txt', `${ovpn.username}\n${ovpn.password}\n`);
    const t0 = performance.now();
    const r = await vopono([
      'exec',
      '--custom',
      '~/nl.ovpn',
      '--protocol',
      'openvpn',
      '--',
      'sh',
      '-c',
      `cat /etc/resolv.conf; curl -sS --max-time 5 http://${ovpn.domain}:${ovpn.httpPort}/`,
    ]);
    process.stderr.write(
      `[figure] vopono exec (OpenVPN, cold, whole CLI + curl): ${(performance.now() - t0).toFixed(0)} ms\n`,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`nameserver ${ovpn.tunnelIp}`);
    expect(r.stdout.trim().split('\n').pop()).toMatch(/^vopono-peer (10\.239\.|fd39:)/);
    await expectClean(d.prefix);
  });

  it("OpenVPN: a user's config with an up script is refused, naming directive and line", async () => {
    const evil = ovpn.clientConfig.replace('nobind', 'nobind\nup /bin/sh');
    userFile('evil.ovpn', evil);
    userFile('auth.txt', `${ovpn.username}\n${ovpn.password}\n`);
    const r = await vopono(['exec', '--custom', '~/evil.ovpn', '--protocol', 'openvpn', '--', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/line \d+: 'up' runs a program/);
    await expectClean(d.prefix);
  });

  it('OpenVPN: a wrong password fails with AUTH_FAILED shown to the user', async () => {
    userFile('bad.ovpn', ovpn.clientConfig.replace('auth-user-pass', 'auth-user-pass bad.txt'));
    userFile('bad.txt', `${ovpn.username}\nnot-the-password\n`);
    const r = await vopono(['exec', '--custom', '~/bad.ovpn', '--protocol', 'openvpn', '--', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/AUTH_FAILED/);
    await expectClean(d.prefix);
  });

  it('WireGuard: -f from host loopback, -o from the peer, --postup/--predown as the user', async () => {
    userFile('wg-ports.conf', wg.clientConfig);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const app = `let n = 0; const s = require('node:http').createServer((q, r) => { r.end('app ' + q.socket.remoteAddress.replace(/^::ffff:/, '') + '\\n'); if (++n === 2) setTimeout(() => process.exit(0), 50); }); s.listen(${port}); setTimeout(() => process.exit(3), 20000);`;
    const pending = vopono([
      'exec',
      '--custom',
      '~/wg-ports.conf',
      '-f',
      String(port),
      '-o',
      String(port),
      '--postup',
      'echo "postup $(id -u) $VOPONO_NS" > ~/hooks.out',
      '--predown',
      'echo "predown $(id -u) $VOPONO_NS_IP" >> ~/hooks.out',
      '--',
      '/usr/bin/node',
      '-e',
      app,
    ]);
    const get = async (argv: string[]): Promise<string | undefined> => {
      for (let i = 0; i < 100; i++) {
        const r = await run(argv[0]!, argv.slice(1), { timeoutMs: 5000 });
        if (r.code === 0) return r.stdout.trim();
        await sleep(100);
      }
      return undefined;
    };
    const viaForward = await get(['curl', '-sS', '--max-time', '2', `http://127.0.0.1:${port}/`]);
    const fromPeer = await get([
      'ip',
      'netns',
      'exec',
      wg.nsName,
      'curl',
      '-sS',
      '--max-time',
      '2',
      `http://${wg.clientTunnelIp}:${port}/`,
    ]);
    const r = await pending;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(viaForward).toMatch(/^app 10\./); // from the host's veth address (the daemon's proxy)
    expect(fromPeer).toBe(`app ${wg.tunnelIp}`);
    await expectClean(d.prefix);
    const hooks = readFileSync(join(user.home, 'hooks.out'), 'utf8').trim().split('\n');
    expect(hooks[0]).toMatch(new RegExp(`^postup ${user.uid} ${d.prefix}`));
    expect(hooks[1]).toMatch(new RegExp(`^predown ${user.uid} 10\\.`));
  });
});
