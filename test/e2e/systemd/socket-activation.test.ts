// Socket activation end to end, with the settings of systemd/vopono.socket and vopono.service:
// systemd-socket-activate listens on the unit's socket (owner/group/mode applied as systemd
// would), and only the first connection starts the daemon — inside exactly the unit's capability
// bounding set and with no_new_privs. The daemon must take the socket from LISTEN_FDS, report
// READY=1 on NOTIFY_SOCKET, refuse a user outside the group at connect(), and run a group
// member's app through a real WireGuard tunnel to a local peer as that user.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { boundingSet, parseUnit, unitValues } from '../../../src/doctor/unit-file.js';
import type { OpenvpnWorld } from '../../../src/world/openvpn-peer.js';
import type { PeerWorld } from '../../../src/world/peer.js';
import { clientCli, leftovers, REPO, uniquePrefix } from '../../helpers/daemon.js';
import { describeRoot } from '../../helpers/root.js';
import { run, sh, sleep, waitFor } from '../../helpers/run.js';
import { createUser, type TestUser } from '../../helpers/users.js';

const socketUnit = parseUnit(readFileSync(join(REPO, 'systemd/vopono.socket'), 'utf8'));
const serviceUnit = parseUnit(readFileSync(join(REPO, 'systemd/vopono.service'), 'utf8'));

/** Capability names as /proc/PID/status numbers them (linux/capability.h). */
const CAP_BITS: Record<string, number> = {
  chown: 0,
  dac_override: 1,
  dac_read_search: 2,
  fowner: 3,
  fsetid: 4,
  kill: 5,
  setgid: 6,
  setuid: 7,
  setpcap: 8,
  linux_immutable: 9,
  net_bind_service: 10,
  net_broadcast: 11,
  net_admin: 12,
  net_raw: 13,
  ipc_lock: 14,
  ipc_owner: 15,
  sys_module: 16,
  sys_rawio: 17,
  sys_chroot: 18,
  sys_ptrace: 19,
  sys_pacct: 20,
  sys_admin: 21,
  sys_boot: 22,
  sys_nice: 23,
  sys_resource: 24,
  sys_time: 25,
  sys_tty_config: 26,
  mknod: 27,
  lease: 28,
  audit_write: 29,
  audit_control: 30,
  setfcap: 31,
};

describeRoot("socket activation with the units' settings", () => {
  const prefix = uniquePrefix();
  const group = `${prefix}g`;
  let dir: string;
  let socketPath: string;
  let member: TestUser;
  let outsider: TestUser;
  let world: PeerWorld | undefined;
  let ovpn: OpenvpnWorld | undefined;
  let unguard: (() => Promise<void>) | undefined;
  let activator: ChildProcess | undefined;
  let activatorExited = false;
  let notifier: ChildProcess | undefined;
  let notified = '';
  let configPath: string;
  let cli: string;
  const caps = boundingSet(serviceUnit);

  beforeAll(async () => {
    cli = clientCli();
    dir = mkdtempSync('/tmp/vopono-sa-');
    chmodSync(dir, 0o755);
    await sh('groupadd', [group]);
    member = await createUser('vs', [group]);
    outsider = await createUser('vs');

    const { createPeerWorld } = await import('../../../src/world/peer.js');
    for (let i = 0; i < 5 && !world; i++) {
      try {
        world = await createPeerWorld({ prefix, subnetIndex: 100 + Math.floor(Math.random() * 150) });
      } catch (e) {
        if (!(e instanceof Error && /already in use/.test(e.message))) throw e;
      }
    }
    // an OpenVPN provider too, guarded so its forwarded traffic only ever meets this run's links
    const { createOpenvpnWorld, guardWorld } = await import('../../../src/world/openvpn-peer.js');
    const { createCommandRunner } = await import('../../../src/daemon/vpn/runner.js');
    for (let i = 0; i < 5 && !ovpn; i++) {
      try {
        ovpn = await createOpenvpnWorld({ prefix, subnetIndex: 100 + Math.floor(Math.random() * 150) });
      } catch (e) {
        if (!(e instanceof Error && /already in use/.test(e.message))) throw e;
      }
    }
    unguard = await guardWorld(createCommandRunner(), `${prefix}_guard`, ovpn!.hostVeth, `${prefix}*`);
    writeFileSync(
      join(dir, 'nl.ovpn'),
      ovpn!.clientConfig.replace('auth-user-pass', 'auth-user-pass auth.txt'),
      { mode: 0o644 },
    );
    writeFileSync(join(dir, 'auth.txt'), `${ovpn!.username}\n${ovpn!.password}\n`, { mode: 0o644 });

    configPath = join(dir, 'peer.conf');
    writeFileSync(configPath, world!.clientConfig, { mode: 0o644 }); // a throwaway key, readable by the member

    // READY=1 arrives here (Type=notify)
    const notifyPath = join(dir, 'notify.sock');
    notifier = spawn(
      'python3',
      [
        '-c',
        'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("bound",flush=True)\n' +
          'while True:\n  print(s.recv(4096).decode().replace("\\n"," "),flush=True)',
        notifyPath,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    notifier.stdout!.on('data', (d: Buffer) => (notified += d.toString()));
    await waitFor(() => notified.includes('bound'), 10_000, 'the notify receiver');

    // the unit's socket, at a private path
    expect(unitValues(socketUnit, 'Socket', 'ListenStream')).toEqual(['/run/vopono.sock']);
    socketPath = join(dir, 'vopono.sock');
    const env = unitValues(serviceUnit, 'Service', 'Environment').flatMap((e) => ['-E', e]);
    const nnp = unitValues(serviceUnit, 'Service', 'NoNewPrivileges')[0] === 'yes' ? ['--no-new-privs'] : [];
    const pool = `10.${100 + Math.floor(Math.random() * 150)}`;
    activator = spawn(
      'systemd-socket-activate',
      [
        '-l',
        socketPath,
        ...env,
        '-E',
        `NOTIFY_SOCKET=${notifyPath}`,
        '--',
        'setpriv',
        `--bounding-set=-all,${caps.map((c) => `+${c}`).join(',')}`,
        ...nnp,
        '--',
        process.execPath,
        join(REPO, 'dist/vopono.js'),
        'daemon',
        '--state-dir',
        join(dir, 'state'),
        '--prefix',
        prefix,
        '--pool',
        pool,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    activator.on('exit', () => (activatorExited = true));
    let log = '';
    activator.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    activator.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor(
      () => log.includes('Listening on') || activatorExited,
      10_000,
      'systemd-socket-activate to listen',
    );
    expect(activatorExited, log).toBe(false);
    // what systemd does with SocketUser=/SocketGroup=/SocketMode= (group: this run's stand-in for "vopono")
    const gid = Number((await sh('getent', ['group', group])).split(':')[2]);
    expect(unitValues(socketUnit, 'Socket', 'SocketUser')).toEqual(['root']);
    expect(unitValues(socketUnit, 'Socket', 'SocketGroup')).toEqual(['vopono']);
    chownSync(socketPath, 0, gid);
    chmodSync(socketPath, parseInt(unitValues(socketUnit, 'Socket', 'SocketMode')[0]!, 8));
  });

  afterAll(async () => {
    if (activator && !activatorExited) {
      activator.kill('SIGTERM');
      await waitFor(() => activatorExited, 20_000, 'the daemon to exit').catch(() =>
        activator!.kill('SIGKILL'),
      );
    }
    if (notifier && notifier.exitCode === null) notifier.kill('SIGTERM');
    for (const w of [world, ovpn]) {
      await w?.destroy().catch((e: Error) => {
        if (!/Cannot find device/.test(e.message)) throw e;
      });
    }
    await unguard?.();
    await member?.remove();
    await outsider?.remove();
    await run('groupdel', [group]);
    if (dir) rmSync(dir, { recursive: true, force: true });
    let left: string[] = [];
    for (let i = 0; i < 100; i++) {
      left = await leftovers(prefix);
      if (left.length === 0) break;
      await sleep(50);
    }
    expect(left).toEqual([]);
  });

  const cmdline = (pid: number): string => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');

  it("listens before any daemon runs, with the unit's owner, group and mode", () => {
    const st = statSync(socketPath);
    expect(st.isSocket()).toBe(true);
    expect(st.uid).toBe(0);
    expect(st.mode & 0o777).toBe(0o660);
    expect(cmdline(activator!.pid!)).toContain('systemd-socket-activate');
  });

  it('a user outside the group is refused at connect() and no daemon starts', async () => {
    const r = await run(
      outsider.asUser([process.execPath, cli, 'list'])[0]!,
      outsider.asUser([process.execPath, cli, 'list']).slice(1),
      {
        env: { ...outsider.env(), VOPONO_SOCKET: socketPath },
        cwd: '/',
      },
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no permission to use the daemon's socket/);
    expect(cmdline(activator!.pid!)).toContain('systemd-socket-activate');
  });

  it("the first connection starts the daemon, which runs a member's app through WireGuard as that user", async () => {
    const w = world!;
    const argv = member.asUser([
      process.execPath,
      cli,
      'exec',
      '--custom',
      configPath,
      '--protocol',
      'wireguard',
      '--',
      'sh',
      '-c',
      `id -u; curl -sS --max-time 10 http://${w.domain}:${w.httpPort}/`,
    ]);
    const r = await run(argv[0]!, argv.slice(1), {
      env: { ...member.env(), VOPONO_SOCKET: socketPath },
      cwd: '/',
      timeoutMs: 45_000,
    });
    expect(r.stderr).toBe('');
    const [uid, answer] = r.stdout.trim().split('\n');
    expect(Number(uid)).toBe(member.uid);
    expect([`vopono-peer ${w.clientTunnelIp}`, `vopono-peer ${w.clientTunnelIp6}`]).toContain(answer);
    expect(r.code).toBe(0);

    const pid = activator!.pid!;
    // systemd-socket-activate exec'd setpriv, which exec'd the daemon: same pid, as LISTEN_PID says
    expect(cmdline(pid)).toContain('vopono.js daemon');
    await waitFor(() => notified.includes('READY=1'), 5000, 'READY=1');
    expect(notified).toContain(`READY=1 MAINPID=${pid}`);
  });

  it('within those capabilities: an interactive app gets a PTY of its own, handed to the user (chown + chmod)', async () => {
    const inner = [
      process.execPath,
      cli,
      'exec',
      '--custom',
      configPath,
      '--protocol',
      'wireguard',
      '--',
      'sh',
      '-c',
      'tty; test -t 0 && echo tty-yes; id -u',
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    const argv = member.asUser(['script', '-qec', inner, '/dev/null']);
    const r = await run(argv[0]!, argv.slice(1), {
      env: { ...member.env(), VOPONO_SOCKET: socketPath },
      cwd: '/',
      timeoutMs: 45_000,
    });
    const out = r.stdout.replace(/\r/g, '');
    expect(out, r.stderr).toMatch(/^\/dev\/pts\/\d+$/m);
    expect(out).toContain('tty-yes');
    expect(out).toMatch(new RegExp(`^${member.uid}$`, 'm'));
    expect(r.code).toBe(0);
  });

  it('within those capabilities: OpenVPN (TUN, routes, NAT toward the provider, killswitch)', async () => {
    const o = ovpn!;
    const argv = member.asUser([
      process.execPath,
      cli,
      'exec',
      '--custom',
      join(dir, 'nl.ovpn'),
      '--protocol',
      'openvpn',
      '--',
      'curl',
      '-sS',
      '--max-time',
      '10',
      `http://${o.domain}:${o.httpPort}/`,
    ]);
    const r = await run(argv[0]!, argv.slice(1), {
      env: { ...member.env(), VOPONO_SOCKET: socketPath },
      cwd: '/',
      timeoutMs: 60_000,
    });
    expect(r.stdout, r.stderr).toMatch(/^vopono-peer \S+/);
    expect(r.code).toBe(0);
  });

  it('within those capabilities: --firewall iptables and -f (a host loopback port forwarded into the namespace)', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const server = `require('node:http').createServer((q, r) => { r.end('inside\\n'); setTimeout(() => process.exit(0), 50); }).listen(${port}, () => console.log('up'))`;
    const argv = member.asUser([
      process.execPath,
      cli,
      'exec',
      '--custom',
      configPath,
      '--protocol',
      'wireguard',
      '--firewall',
      'iptables',
      '--custom-netns-name',
      `${prefix}_fw`,
      '-f',
      String(port),
      '--',
      process.execPath,
      '-e',
      server,
    ]);
    const app = run(argv[0]!, argv.slice(1), {
      env: { ...member.env(), VOPONO_SOCKET: socketPath },
      cwd: '/',
      timeoutMs: 45_000,
    });
    let answer = '';
    let last = '';
    let appDone: Awaited<typeof app> | undefined;
    void app.then((r) => (appDone = r));
    try {
      await waitFor(
        async () => {
          const r = await run('curl', ['-sS', '--max-time', '1', `http://127.0.0.1:${port}/`]);
          answer = r.stdout;
          last = r.stderr;
          return r.code === 0 || appDone !== undefined;
        },
        30_000,
        'the forwarded port',
      );
    } catch (e) {
      throw new Error(
        `${(e as Error).message}; curl: ${last}; app so far: ${JSON.stringify(appDone ?? 'running')}`,
      );
    }
    expect(answer).toBe('inside\n');
    const r = await app;
    expect(r.stdout, r.stderr).toContain('up');
    expect(r.code).toBe(0);
  });

  it("the daemon runs inside exactly the unit's capability bounding set, with no_new_privs", () => {
    const status = readFileSync(`/proc/${activator!.pid!}/status`, 'utf8');
    const bnd = BigInt(`0x${/^CapBnd:\s+([0-9a-f]+)/m.exec(status)![1]!}`);
    const want = caps.reduce((m, c) => {
      const bit = CAP_BITS[c];
      if (bit === undefined) throw new Error(`unknown capability ${c} in vopono.service`);
      return m | (1n << BigInt(bit));
    }, 0n);
    expect(bnd.toString(16)).toBe(want.toString(16));
    expect(/^NoNewPrivs:\s+1$/m.test(status)).toBe(true);
  });

  it("the socket keeps the unit's mode: the daemon does not re-chmod an inherited socket", () => {
    const st = statSync(socketPath);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.uid).toBe(0);
  });
});
