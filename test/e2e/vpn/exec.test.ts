// `vopono exec --custom` end to end through the real daemon, as a throwaway user, against the
// test world's WireGuard peer and OpenVPN server.
import { chownSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clientCli, expectClean, startDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { describeRoot } from '../../helpers/root.js';
import { run, sleep, type RunResult } from '../../helpers/run.js';
import { readFileSync, readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { isAlive } from '../../../src/daemon/vpn/process.js';
import { createUser, type TestUser } from '../../helpers/users.js';
import { createPeerWorld, type PeerWorld } from '../../../src/world/peer.js';
import { openTerminal } from '../../helpers/terminal.js';
import { createOpenvpnWorld, guardWorld, type OpenvpnWorld } from '../../../src/world/openvpn-peer.js';
import { capture, cleanupSteps, runner, snapshot, uniqueIndex, uniquePrefix } from './helpers.js';

describeRoot('vopono exec through VPN tunnels (real daemon, real peers)', () => {
  const prefix = uniquePrefix();
  const index = uniqueIndex();
  let d: TestDaemon;
  let user: TestUser;
  let cli: string;
  let wg: PeerWorld;
  let ovpn: OpenvpnWorld;
  let unguard: () => Promise<void>;
  let before: Record<string, string>;

  beforeAll(async () => {
    before = await snapshot(prefix);
    cli = clientCli();
    process.env.VOPONO_WG_USERSPACE = '1'; // the same on every machine: wireguard-go
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
      () => delete process.env.VOPONO_WG_USERSPACE,
    ]);
    // the daemon switches IPv4 forwarding on for OpenVPN namespaces (its NAT path) and leaves it
    // on: that is the namespace manager's decision, not this test's state
    const after = await snapshot(prefix);
    delete after.ipForward;
    delete before.ipForward;
    expect(after).toEqual(before);
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

  it('OpenVPN: with no credentials file the client asks on its terminal (password not echoed)', async () => {
    userFile('ask.ovpn', ovpn.clientConfig); // a bare auth-user-pass
    const argv = user.asUser([
      process.execPath,
      cli,
      'exec',
      '--custom',
      '~/ask.ovpn',
      '--protocol',
      'openvpn',
      '--',
      'sh',
      '-c',
      `curl -sS --max-time 5 http://${ovpn.domain}:${ovpn.httpPort}/`,
    ]);
    const term = openTerminal(argv[0]!, argv.slice(1), {
      env: user.env({ VOPONO_SOCKET: d.socketPath }),
      cwd: user.home,
    });
    try {
      await term.expect('Username: ');
      term.type(`${ovpn.username}\r`);
      await term.expect('Password: ');
      term.mark();
      term.type(`${ovpn.password}\r`);
      const out = await term.expect(/vopono-peer (10\.239\.|fd39:)/, 30_000);
      expect(out).not.toContain(ovpn.password);
      expect((await term.exited).exitCode).toBe(0);
    } finally {
      term.kill();
    }
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

  it('OpenVPN: openvpn killed under a running app, nothing leaves the namespace while the app keeps trying', async () => {
    userFile('leak.ovpn', ovpn.clientConfig.replace('auth-user-pass', 'auth-user-pass auth.txt'));
    userFile('auth.txt', `${ovpn.username}\n${ovpn.password}\n`);
    const go = join(user.home, 'go');
    rmSync(go, { force: true });
    rmSync(`${go}.stop`, { force: true });
    // only addresses of namespaces this test made: even a failing killswitch sends nothing further
    const app = `
const fs = require('node:fs'), net = require('node:net'), dgram = require('node:dgram'), dns = require('node:dns'), http = require('node:http');
http.get('http://${ovpn.tunnelIp}:${ovpn.httpPort}/', (res) => { res.resume(); res.on('end', () => { console.log('tunnel-ok'); wait(); }); }).on('error', (e) => { console.log('tunnel-failed ' + e.message); process.exit(2); });
function wait() { if (fs.existsSync('${go}')) attack(Date.now() + 2000); else setTimeout(wait, 20); }
function attack(end) {
  for (const [h, p] of [['${ovpn.peerIp}', 1194], ['${ovpn.peerIp}', 53], ['${ovpn.tunnelIp}', 53]]) { const s = dgram.createSocket('udp4'); s.on('error', () => s.close()); s.send('x', p, h, () => s.close()); }
  for (const [h, p] of [['${ovpn.tunnelIp}', ${ovpn.httpPort}], ['${ovpn.peerIp}', ${ovpn.httpPort}]]) { const c = net.connect(p, h); c.on('error', () => {}); setTimeout(() => c.destroy(), 150); }
  dns.lookup('${ovpn.domain}', () => {});
  if (Date.now() < end) setTimeout(() => attack(end), 100); else setTimeout(() => { console.log('done'); stop(); }, 300);
}
function stop() { if (fs.existsSync('${go}.stop')) process.exit(0); else setTimeout(stop, 20);
}`;
    const argv = user.asUser([
      process.execPath,
      cli,
      'exec',
      '--custom',
      '~/leak.ovpn',
      '--protocol',
      'openvpn',
      '--',
      '/usr/bin/node',
      '-e',
      app,
    ]);
    const child = spawn(argv[0]!, argv.slice(1), {
      env: user.env({ VOPONO_SOCKET: d.socketPath }),
      cwd: user.home,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    for (let i = 0; i < 300 && !out.includes('tunnel-ok') && child.exitCode === null; i++) await sleep(50);
    expect(out, err).toContain('tunnel-ok');
    // the namespace and its openvpn (found by the config path in the daemon's private dir; killed by pid)
    const list = await run(process.execPath, [cli, 'list', '--json'], {
      env: { ...process.env, VOPONO_SOCKET: d.socketPath },
    });
    const nsInfo = (JSON.parse(list.stdout) as { name: string; hostIp: string }[]).find((n) =>
      n.name.startsWith(d.prefix),
    );
    expect(nsInfo).toBeDefined();
    const veth = (await runner.run('ip', ['-o', '-4', 'addr', 'show']))
      .split('\n')
      .find((l) => l.includes(` ${nsInfo!.hostIp}/`))
      ?.split(/\s+/)[1];
    expect(veth).toBeDefined();
    const conf = join(d.stateDir, 'vpn', nsInfo!.name, 'openvpn.conf'); // the daemon's state dir holds backend files
    const pid = readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .map(Number)
      .find((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(conf);
        } catch {
          return false;
        }
      });
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    while (isAlive(pid!)) await sleep(10);
    const cap = await capture(veth!);
    writeFileSync(go, '');
    for (let i = 0; i < 200 && !out.includes('done') && child.exitCode === null; i++) await sleep(50);
    const seen = await cap.stop(); // before the app ends and its namespace (and the veth) go away
    writeFileSync(`${go}.stop`, '');
    const code = await exited;
    expect(out).toContain('done');
    expect(code).toBe(0);
    expect(seen).toEqual([]);
    await expectClean(d.prefix);
  });

  it('WireGuard with --firewall iptables --disable-ipv6: IPv4 through the tunnel, IPv6 blocked', async () => {
    userFile('wg-ipt.conf', wg.clientConfig);
    const r = await vopono([
      'exec',
      '--custom',
      '~/wg-ipt.conf',
      '--firewall',
      'iptables',
      '--disable-ipv6',
      '--',
      'sh',
      '-c',
      `curl -sS --max-time 5 http://${wg.tunnelIp}:${wg.httpPort}/; ` +
        `curl -sS -g --max-time 2 http://[${wg.tunnelIp6}]:${wg.httpPort}/ && echo v6-reached || echo v6-blocked`,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([`vopono-peer ${wg.clientTunnelIp}`, 'v6-blocked']);
    await expectClean(d.prefix);
  });
});
