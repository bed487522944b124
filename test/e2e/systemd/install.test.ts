// scripts/install.sh and scripts/uninstall.sh: staged under DESTDIR (always), and for real on a
// machine where vopono is not installed (the real run puts the machine back as it found it, and is
// skipped with a reason when an install is already there, so an admin's setup is never touched).
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REPO } from '../../helpers/daemon.js';
import { describeRoot } from '../../helpers/root.js';
import { run } from '../../helpers/run.js';

const MANIFEST = '/var/lib/vopono/installed-files';
/** Exists, without following symlinks (a staged symlink points at its final, unstaged path). */
const there = (p: string): boolean => {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
};
const npmPrefix = execFileSync('npm', ['prefix', '-g'], {
  encoding: 'utf8',
  env: { ...process.env, DESTDIR: '' },
}).trim();

describeRoot('install.sh / uninstall.sh', () => {
  const stage = mkdtempSync('/tmp/vopono-stage-');
  afterAll(() => rmSync(stage, { recursive: true, force: true }));

  it('DESTDIR install: package, command, units, snippets, completions, docs, group; uninstall removes them', async () => {
    const env = { ...process.env, DESTDIR: stage };
    const r = await run(join(REPO, 'scripts/install.sh'), ['--no-deps'], { env, timeoutMs: 180_000 });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const files = readFileSync(join(stage, MANIFEST), 'utf8').trim().split('\n');
    expect(files).toEqual(
      expect.arrayContaining([
        `${npmPrefix}/bin/vopono`,
        `${npmPrefix}/lib/node_modules/vopono`,
        '/etc/systemd/system/vopono.service',
        '/etc/systemd/system/vopono.socket',
        '/etc/sysusers.d/vopono.conf',
        '/etc/tmpfiles.d/vopono.conf',
        '/usr/share/bash-completion/completions/vopono',
        '/usr/share/zsh/vendor-completions/_vopono',
        '/usr/share/fish/vendor_completions.d/vopono.fish',
        '/usr/share/doc/vopono/README.md',
      ]),
    );
    for (const f of files) expect(there(join(stage, f)), f).toBe(true);
    const pkg = join(stage, npmPrefix, 'lib/node_modules/vopono');
    // the command is the bundle; the launcher sits next to it, root-owned, writable by root only
    const version = execFileSync(process.execPath, [join(pkg, 'dist/vopono.js'), '--version'], {
      encoding: 'utf8',
    }).trim();
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    const launcher = statSync(join(pkg, 'dist/vopono-launch'));
    expect(launcher.uid).toBe(0);
    expect(launcher.mode & 0o022).toBe(0);
    expect(readFileSync(join(stage, '/etc/systemd/system/vopono.service'), 'utf8')).toMatch(
      new RegExp(`^ExecStart=${npmPrefix}/bin/vopono daemon$`, 'm'),
    );
    expect(readFileSync(join(stage, '/usr/share/bash-completion/completions/vopono'), 'utf8')).toContain(
      'complete -F _vopono vopono',
    );
    expect(readFileSync(join(stage, 'etc/group'), 'utf8')).toMatch(/^vopono:x:\d+:$/m);
    // the installed copy works on its own: the doctor finds its launcher
    const doc = await run(process.execPath, [
      join(pkg, 'dist/vopono.js'),
      'doctor',
      '--json',
      '--no-self-test',
      '--socket',
      join(stage, 'none.sock'),
    ]);
    const launcherCheck = (
      JSON.parse(doc.stdout) as { checks: { id: string; status: string; detail: string }[] }
    ).checks.find((c) => c.id === 'launcher');
    expect(launcherCheck).toMatchObject({ status: 'pass', detail: join(pkg, 'dist/vopono-launch') });

    // after `npm install -g`: the package's own install.sh --system-only adds only the system pieces
    const stage2 = mkdtempSync('/tmp/vopono-stage2-');
    try {
      const s2 = await run(join(pkg, 'scripts/install.sh'), ['--system-only'], {
        env: { ...process.env, DESTDIR: stage2 },
        timeoutMs: 60_000,
      });
      expect(s2.code, s2.stderr + s2.stdout).toBe(0);
      expect(s2.stdout).toContain('rebuilding the native launcher');
      const files2 = readFileSync(join(stage2, MANIFEST), 'utf8').trim().split('\n');
      expect(files2).toContain('/etc/systemd/system/vopono.socket');
      expect(files2.filter((f) => f.includes('node_modules') || f.endsWith('/bin/vopono'))).toEqual([]); // npm owns those
      for (const f of files2) expect(there(join(stage2, f)), f).toBe(true);
    } finally {
      rmSync(stage2, { recursive: true, force: true });
    }

    const u = await run(join(REPO, 'scripts/uninstall.sh'), [], { env });
    expect(u.code, u.stderr).toBe(0);
    for (const f of files) expect(there(join(stage, f)), `${f} after uninstall`).toBe(false);
  }, 200_000);

  it('real install on a machine without vopono: on PATH for everyone, units verify, group made; uninstall restores', async () => {
    const present = [`${npmPrefix}/bin/vopono`, '/etc/systemd/system/vopono.service', MANIFEST].filter((p) =>
      existsSync(p),
    );
    const group = (await run('getent', ['group', 'vopono'])).code === 0;
    if (present.length > 0 || group) {
      console.log(
        `skip: vopono is already installed here (${[...present, ...(group ? ['group vopono'] : [])].join(', ')}); not touching it`,
      );
      return;
    }
    try {
      const r = await run(join(REPO, 'scripts/install.sh'), ['--no-deps'], { timeoutMs: 180_000 });
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toContain('sudo usermod -aG vopono USER');
      // an unprivileged user runs the installed command
      const v = await run(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', '--', `${npmPrefix}/bin/vopono`, '--version'],
        {
          cwd: '/',
          env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/nonexistent' },
        },
      );
      expect(v.stderr).toBe('');
      expect(v.code).toBe(0);
      const verify = await run('systemd-analyze', [
        'verify',
        '/etc/systemd/system/vopono.socket',
        '/etc/systemd/system/vopono.service',
      ]);
      expect(verify.stderr + verify.stdout).toBe('');
      expect((await run('getent', ['group', 'vopono'])).code).toBe(0);
      const st = statSync('/run/vopono');
      expect(st.mode & 0o777).toBe(0o700);
    } finally {
      const u = await run(join(REPO, 'scripts/uninstall.sh'), []);
      expect(u.code, u.stderr).toBe(0);
    }
    expect(
      [
        `${npmPrefix}/bin/vopono`,
        `${npmPrefix}/lib/node_modules/vopono`,
        '/etc/systemd/system/vopono.service',
        MANIFEST,
      ].filter((p) => existsSync(p)),
    ).toEqual([]);
    expect((await run('getent', ['group', 'vopono'])).code).not.toBe(0);
  }, 200_000);
});
