// The systemd units as install.sh installs them: `systemd-analyze verify` accepts them, the
// sysusers/tmpfiles snippets create what they promise in a scratch root, and the settings the
// other parts of vopono rely on are there.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseUnit, unitValues } from '../../../src/doctor/unit-file.js';

const repo = resolve(import.meta.dirname, '../../..');
const unitDir = join(repo, 'systemd');
const scratch = mkdtempSync(join(tmpdir(), 'vopono-units-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const have = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

describe('systemd units', () => {
  it('pass systemd-analyze verify (ExecStart pointed at this checkout, as install.sh does)', () => {
    if (!have('systemd-analyze')) {
      if (process.env.CI === 'true')
        throw new Error('systemd-analyze missing: run scripts/install-system-deps.sh');
      console.log('skip: systemd-analyze not installed');
      return;
    }
    const dir = join(scratch, 'verify');
    mkdirSync(dir);
    writeFileSync(join(dir, 'vopono.socket'), readFileSync(join(unitDir, 'vopono.socket')));
    const service = readFileSync(join(unitDir, 'vopono.service'), 'utf8').replace(
      /^ExecStart=\/usr\/bin\/vopono /m,
      `ExecStart=${process.execPath} ${join(repo, 'dist/vopono.js')} `,
    );
    writeFileSync(join(dir, 'vopono.service'), service);
    const r = spawnSync(
      'systemd-analyze',
      ['verify', join(dir, 'vopono.socket'), join(dir, 'vopono.service')],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('socket unit: /run/vopono.sock, root:vopono 0660, one daemon for all connections', () => {
    const socket = parseUnit(readFileSync(join(unitDir, 'vopono.socket'), 'utf8'));
    expect(unitValues(socket, 'Socket', 'ListenStream')).toEqual(['/run/vopono.sock']);
    expect(unitValues(socket, 'Socket', 'SocketUser')).toEqual(['root']);
    expect(unitValues(socket, 'Socket', 'SocketGroup')).toEqual(['vopono']);
    expect(unitValues(socket, 'Socket', 'SocketMode')).toEqual(['0660']);
    expect(unitValues(socket, 'Socket', 'Accept')).toEqual(['no']);
    expect(unitValues(socket, 'Install', 'WantedBy')).toEqual(['sockets.target']);
  });

  it('service unit: Type=notify, startable alone, hardening stays out of the mount namespace', () => {
    const service = parseUnit(readFileSync(join(unitDir, 'vopono.service'), 'utf8'));
    expect(unitValues(service, 'Service', 'Type')).toEqual(['notify']);
    expect(unitValues(service, 'Service', 'ExecStart')).toEqual(['/usr/bin/vopono daemon']);
    // Wants (not Requires) the socket: the daemon binds the socket itself when started alone.
    expect(unitValues(service, 'Unit', 'Requires')).toEqual([]);
    expect(unitValues(service, 'Unit', 'Wants').join(' ')).toContain('vopono.socket');
    expect(unitValues(service, 'Service', 'NoNewPrivileges')).toEqual(['yes']);
    expect(unitValues(service, 'Service', 'KillMode')).toEqual(['mixed']);
    const caps = unitValues(service, 'Service', 'CapabilityBoundingSet').join(' ').split(/\s+/);
    expect(caps).toContain('CAP_NET_ADMIN');
    expect(caps).toContain('CAP_SYS_ADMIN');
    expect(caps).not.toContain('CAP_SYS_MODULE');
    // Any of these gives the service its own mount namespace, hiding /run/netns mounts from the host.
    for (const key of [
      'ProtectSystem',
      'ProtectHome',
      'PrivateTmp',
      'PrivateDevices',
      'ReadWritePaths',
      'BindPaths',
    ]) {
      expect(unitValues(service, 'Service', key), key).toEqual([]);
    }
    // Every capability kept is explained in a comment next to it.
    const text = readFileSync(join(unitDir, 'vopono.service'), 'utf8');
    for (const cap of caps) expect(text, cap).toMatch(new RegExp(`^#\\s+${cap}\\s+\\S`, 'm'));
  });

  it('sysusers.d creates group vopono; tmpfiles.d creates /run/vopono 0700 root', () => {
    if (!have('systemd-sysusers') || !have('systemd-tmpfiles')) {
      if (process.env.CI === 'true')
        throw new Error('systemd tools missing: run scripts/install-system-deps.sh');
      console.log('skip: systemd-sysusers/systemd-tmpfiles not installed');
      return;
    }
    const root = join(scratch, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    execFileSync('systemd-sysusers', [`--root=${root}`, join(unitDir, 'sysusers.d/vopono.conf')], {
      stdio: 'pipe',
    });
    expect(readFileSync(join(root, 'etc/group'), 'utf8')).toMatch(/^vopono:x:\d+:$/m);
    const t = spawnSync(
      'systemd-tmpfiles',
      [`--root=${root}`, '--create', join(unitDir, 'tmpfiles.d/vopono.conf')],
      {
        encoding: 'utf8',
      },
    );
    // without root only the chown to root may fail; everything else must have worked
    if (process.getuid?.() === 0) expect(t.status, t.stderr).toBe(0);
    else
      expect(
        t.stderr
          .trim()
          .split('\n')
          .filter((l) => !/fchownat\(\) .* Operation not permitted/.test(l)),
      ).toEqual([]);
    const st = statSync(join(root, 'run/vopono'));
    expect(st.isDirectory()).toBe(true);
    expect(st.mode & 0o7777).toBe(0o700);
    if (process.getuid?.() === 0) expect(st.uid).toBe(0);
  });
});
