// The doctor's checks as plain functions over a fake machine: each broken piece is named, with
// the fix that repairs it.
import { describe, expect, it } from 'vitest';
import {
  configDirCheck,
  kernelChecks,
  nodeCheck,
  probeKernel,
  programChecks,
  serviceManager,
  socketAccessCheck,
  socketCheck,
  subjectOf,
  wireguardCheck,
  type KernelProbe,
} from '../../../src/doctor/checks.js';
import { daemonCheck } from '../../../src/doctor/daemon-check.js';
import type { FileInfo, RunResult, System } from '../../../src/doctor/system.js';

interface Fake {
  uid?: number;
  groups?: number[];
  env?: NodeJS.ProcessEnv;
  bins?: Record<string, string>;
  files?: Record<string, FileInfo>;
  dirs?: Record<string, string[]>;
  run?: (file: string, args: string[]) => RunResult;
  loginGroups?: Record<string, number[]>;
}

const USERS = [
  { name: 'root', uid: 0, gid: 0, home: '/root' },
  { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' },
];
const GROUPS: Record<number, { name: string; members: string[] }> = {
  0: { name: 'root', members: [] },
  1000: { name: 'alice', members: [] },
  990: { name: 'vopono', members: ['bob'] },
};

function fake(f: Fake = {}): System {
  return {
    env: f.env ?? { PATH: '/usr/bin' },
    uid: f.uid ?? 1000,
    groups: f.groups ?? [1000],
    which: (bin) => f.bins?.[bin],
    stat: (p) => f.files?.[p],
    readText: () => undefined,
    readDir: (p) => f.dirs?.[p] ?? [],
    run: (file, args) => f.run?.(file, args) ?? { status: 1, stdout: '', stderr: 'no' },
    accountByUid: (uid) => USERS.find((u) => u.uid === uid),
    groupById: (gid) => GROUPS[gid],
    loginGroups: (user) => f.loginGroups?.[user] ?? (user === 'alice' ? [1000] : [0]),
  };
}

const sock = (mode: number, gid = 990, uid = 0): FileInfo => ({ uid, gid, mode, kind: 'socket' });
const probeOk: KernelProbe = {
  ran: true,
  privileged: true,
  results: {
    veth: { ok: true },
    nft: { ok: true },
    tun: { ok: true },
    wg: { ok: false, error: 'Unknown device type.' },
  },
};

describe('socket access vs the user', () => {
  const path = '/run/vopono.sock';
  it('a member of the group passes', () => {
    const sys = fake({ groups: [1000, 990] });
    const c = socketAccessCheck(sys, path, sock(0o660), subjectOf(sys));
    expect(c.status).toBe('pass');
    expect(c.detail).toContain('in group vopono');
  });
  it('a user outside the group fails with the usermod fix naming user and group', () => {
    const sys = fake();
    const c = socketAccessCheck(sys, path, sock(0o660), subjectOf(sys));
    expect(c).toMatchObject({ id: 'daemon.access', status: 'fail' });
    expect(c.detail).toContain('alice is not in group vopono');
    expect(c.detail).toContain('root:vopono 0660');
    expect(c.fix).toBe('sudo usermod -aG vopono alice   then log out and back in');
  });
  it('added to the group but not logged in again: says so, fix is a new login', () => {
    const sys = fake({ loginGroups: { alice: [1000, 990] } });
    const c = socketAccessCheck(sys, path, sock(0o660), subjectOf(sys));
    expect(c.status).toBe('fail');
    expect(c.detail).toContain('this login session predates it');
    expect(c.fix).toContain('newgrp vopono');
  });
  it('root passes; a world-writable socket is a warning; a group without write fails', () => {
    const root = fake({ uid: 0, groups: [0] });
    expect(socketAccessCheck(root, path, sock(0o600), subjectOf(root)).status).toBe('pass');
    const sys = fake();
    expect(socketAccessCheck(sys, path, sock(0o666), subjectOf(sys)).status).toBe('warn');
    const member = fake({ groups: [990] });
    expect(socketAccessCheck(member, path, sock(0o640), subjectOf(member))).toMatchObject({ status: 'fail' });
  });
  it('under sudo, speaks for the invoking user and their login groups', () => {
    const sys = fake({
      uid: 0,
      groups: [0],
      env: { SUDO_UID: '1000', SUDO_USER: 'alice', PATH: '/usr/bin' },
    });
    const who = subjectOf(sys);
    expect(who.account.name).toBe('alice');
    expect(who.viaSudo).toBe(true);
    expect(socketAccessCheck(sys, path, sock(0o660), who).status).toBe('fail');
  });
});

describe('daemon', () => {
  it('no socket: not running, with the fix for how this machine starts daemons', () => {
    const c = socketCheck('/run/vopono.sock', undefined, {
      systemd: true,
      socketUnit: '/etc/systemd/system/vopono.socket',
    });
    expect(c.status).toBe('fail');
    expect(c.detail).toContain('not running');
    expect(c.fix).toBe('sudo systemctl enable --now vopono.socket');
    expect(socketCheck('/run/vopono.sock', undefined, { systemd: true }).fix).toMatch(
      /^install the units .*install\.sh/,
    );
    expect(socketCheck('/run/vopono.sock', undefined, { systemd: false }).fix).toContain(
      'sudo vopono daemon &',
    );
    expect(socketCheck('/tmp/x.sock', undefined, { systemd: true }).fix).toContain(
      'sudo vopono daemon --socket /tmp/x.sock',
    );
  });
  it('serviceManager finds systemd and an installed socket unit', () => {
    const dir: FileInfo = { uid: 0, gid: 0, mode: 0o755, kind: 'dir' };
    const file: FileInfo = { uid: 0, gid: 0, mode: 0o644, kind: 'file' };
    expect(
      serviceManager(
        fake({ files: { '/run/systemd/system': dir, '/usr/lib/systemd/system/vopono.socket': file } }),
      ),
    ).toEqual({
      systemd: true,
      socketUnit: '/usr/lib/systemd/system/vopono.socket',
    });
    expect(serviceManager(fake())).toEqual({ systemd: false });
  });
  it('a stale socket nobody listens on, and a protocol mismatch', () => {
    expect(daemonCheck('/s', { reachable: false, error: { kind: 'refused', message: 'x' } })).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('nothing listens'),
    });
    const c = daemonCheck('/s', {
      reachable: true,
      daemonVersion: '0.0.1',
      protocol: 0,
      error: { kind: 'protocol', message: 'the daemon speaks protocol 0, this client 1' },
    });
    expect(c.status).toBe('fail');
    expect(c.detail).toContain('version mismatch');
    expect(
      daemonCheck('/s', { reachable: true, daemonVersion: '0.1.0', protocol: 1, namespaces: 2 }),
    ).toMatchObject({
      status: 'pass',
      detail: 'vopono 0.1.0 daemon, protocol 1, 2 namespaces active',
    });
  });
});

describe('WireGuard and programs', () => {
  it('kernel module missing, wireguard-go present: pass, userspace', () => {
    const c = wireguardCheck(fake({ bins: { 'wireguard-go': '/usr/bin/wireguard-go' } }), probeOk);
    expect(c.status).toBe('pass');
    expect(c.detail).toContain('userspace wireguard-go');
  });
  it('neither kernel module nor wireguard-go: fails naming wireguard-go', () => {
    const c = wireguardCheck(fake(), probeOk);
    expect(c.status).toBe('fail');
    expect(c.detail).toContain('wireguard-go is not on PATH');
    expect(c.fix).toContain('apt-get install wireguard-go');
  });
  it('kernel module: pass without wireguard-go', () => {
    const probe: KernelProbe = { ...probeOk, results: { ...probeOk.results, wg: { ok: true } } };
    expect(wireguardCheck(fake(), probe).detail).toBe('kernel WireGuard');
  });
  it('a missing required program fails, a missing optional one warns', () => {
    const checks = programChecks(
      fake({ bins: { ip: '/usr/sbin/ip', wg: '/usr/bin/wg', iptables: '/usr/sbin/iptables' } }),
    );
    const by = Object.fromEntries(checks.map((c) => [c.id, c]));
    expect(by['bin.ip']!.status).toBe('pass');
    expect(by['bin.nft']).toMatchObject({ status: 'fail', fix: 'sudo apt-get install nftables' });
    expect(by['bin.openvpn']).toMatchObject({ status: 'warn', fix: 'sudo apt-get install openvpn' });
  });
});

describe('kernel probe', () => {
  it('parses the probe output', () => {
    const sys = fake({
      uid: 0,
      bins: { unshare: '/usr/bin/unshare' },
      run: () => ({
        status: 0,
        stdout:
          'netns ok\nveth ok\nnft fail Error: Could not process rule\ntun ok\nwg fail Unknown device type.\n',
        stderr: '',
      }),
    });
    const p = probeKernel(sys);
    expect(p.ran).toBe(true);
    const checks = kernelChecks(sys, p);
    expect(checks.map((c) => [c.id, c.status])).toEqual([
      ['kernel.netns', 'pass'],
      ['kernel.veth', 'pass'],
      ['kernel.nftables', 'fail'],
      ['kernel.tun', 'pass'],
    ]);
    expect(checks[2]!.fix).toContain('modprobe nf_tables');
  });
  it('no namespace as root is a failure; without root only a warning', () => {
    const run = (): RunResult => ({
      status: 1,
      stdout: '',
      stderr: 'unshare: unshare failed: Operation not permitted',
    });
    const root = fake({ uid: 0, bins: { unshare: '/usr/bin/unshare' }, run });
    expect(kernelChecks(root, probeKernel(root))[0]).toMatchObject({ id: 'kernel.netns', status: 'fail' });
    const user = fake({ bins: { unshare: '/usr/bin/unshare' }, run });
    expect(kernelChecks(user, probeKernel(user))[0]).toMatchObject({ id: 'kernel.netns', status: 'warn' });
  });
});

describe('Node.js and a machine without iproute2', () => {
  it('Node.js older than 20.19 fails', () => {
    expect(nodeCheck('20.19.0', '/usr/bin/node').status).toBe('pass');
    expect(nodeCheck('22.1.0', '/usr/bin/node').status).toBe('pass');
    expect(nodeCheck('20.11.1', '/usr/bin/node')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('too old'),
    });
  });
  it('no ip: the link probes are skipped (with the package to install), not blamed on the kernel', () => {
    const sys = fake({
      uid: 0,
      bins: { unshare: '/usr/bin/unshare' },
      run: () => ({
        status: 0,
        stdout:
          'netns ok\nveth skip ip (iproute2) not installed\ntun skip ip (iproute2) not installed\nwg skip ip (iproute2) not installed\nnft ok\n',
        stderr: '',
      }),
    });
    const checks = kernelChecks(sys, probeKernel(sys));
    expect(checks.find((c) => c.id === 'kernel.veth')).toMatchObject({
      status: 'skip',
      fix: 'sudo apt-get install iproute2',
    });
    expect(checks.find((c) => c.id === 'kernel.tun')!.status).toBe('skip');
  });
});

describe('config directory', () => {
  const dir = '/home/alice/.config/vopono';
  it('missing is fine', () => {
    const sys = fake();
    expect(configDirCheck(sys, subjectOf(sys), dir).status).toBe('pass');
  });
  it('files owned by root (upstream run with sudo) fail with the chown fix', () => {
    const sys = fake({
      files: {
        [dir]: { uid: 1000, gid: 1000, mode: 0o755, kind: 'dir' },
        [`${dir}/mullvad`]: { uid: 0, gid: 0, mode: 0o755, kind: 'dir' },
        [`${dir}/mullvad/x.conf`]: { uid: 0, gid: 0, mode: 0o600, kind: 'file' },
        [`${dir}/config.toml`]: { uid: 1000, gid: 1000, mode: 0o644, kind: 'file' },
      },
      dirs: { [dir]: ['mullvad', 'config.toml'], [`${dir}/mullvad`]: ['x.conf'] },
    });
    const c = configDirCheck(sys, subjectOf(sys), dir);
    expect(c.status).toBe('fail');
    expect(c.detail).toContain('2 entries not owned by alice (owned by root)');
    expect(c.fix).toBe(`sudo chown -R alice: ${dir}`);
  });
});
