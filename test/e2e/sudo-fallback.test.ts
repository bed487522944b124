// No daemon: `vopono exec` starts a one-shot root side with sudo (design.md section 6). A user with
// a NOPASSWD rule for the client's dist/vopono.js gets their app run as themselves, announced in
// one line; a user without one gets a clear error naming both fixes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clientCli, expectClean, leftovers, uniquePrefix } from '../helpers/daemon.js';
import { describeRoot } from '../helpers/root.js';
import { run, sh, waitFor, type RunResult } from '../helpers/run.js';
import { createUser, type TestUser } from '../helpers/users.js';

describeRoot('sudo fallback (no daemon, real sudo, throwaway users)', () => {
  let allowed: TestUser;
  let denied: TestUser;
  let cli: string;
  let target: string;
  let dir: string;
  let sudoers: string;
  const prefix = uniquePrefix();
  const pool = `10.${100 + Math.floor(Math.random() * 150)}`;

  beforeAll(async () => {
    cli = clientCli();
    // sudo matches the rule against the real path it executes: the copy's dist/vopono.js
    target = realpathSync(cli);
    expect(statSync(target).mode & 0o111, `${target} must be executable for sudo`).not.toBe(0);
    expect(readFileSync(target, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    dir = mkdtempSync('/tmp/vopono-sudo-');
    chmodSync(dir, 0o755);
    allowed = await createUser('vtsa');
    denied = await createUser('vtsd');
    sudoers = `/etc/sudoers.d/vopono-test-${randomBytes(4).toString('hex')}`;
    const draft = join(dir, 'sudoers');
    writeFileSync(draft, `${allowed.name} ALL=(root) NOPASSWD: ${target}\n`, { mode: 0o440 });
    await sh('visudo', ['-cf', draft]);
    writeFileSync(sudoers, readFileSync(draft), { mode: 0o440 });
    chmodSync(sudoers, 0o440);
    await sh('visudo', ['-c']); // the whole configuration still parses
  });

  afterAll(async () => {
    if (sudoers) rmSync(sudoers, { force: true });
    await allowed?.remove();
    await denied?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await expectClean(prefix);
  });

  /** The CLI as `u`, without a controlling terminal (so sudo can never prompt), no daemon. */
  function vopono(u: TestUser, args: string[]): Promise<RunResult> {
    const argv = ['setsid', '-w', ...u.asUser([process.execPath, cli, ...args])];
    return run(argv[0]!, argv.slice(1), { env: env(u), cwd: u.home, timeoutMs: 60_000 });
  }

  /** No daemon at VOPONO_SOCKET; the root side's prefix, state dir and pool are this test's own. */
  function env(u: TestUser): Record<string, string> {
    return u.env({
      VOPONO_SOCKET: join(dir, 'no-daemon-here.sock'),
      VOPONO_PREFIX: prefix,
      VOPONO_STATE_DIR: join(dir, 'state'),
      VOPONO_POOL: pool,
    });
  }

  /** Root sides (one-shot daemons) of this test still alive. */
  function oneShots(): number[] {
    const out: number[] = [];
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        if (cmd.includes('--connection-fd') && cmd.includes(prefix)) out.push(Number(pid));
      } catch {
        // gone
      }
    }
    return out;
  }

  const announcement = (): string =>
    `vopono: no vopono daemon at ${join(dir, 'no-daemon-here.sock')}; running this command through sudo\n`;

  it('with a NOPASSWD rule: the app runs as the user, announced in exactly one line', async () => {
    expect(existsSync(join(dir, 'no-daemon-here.sock'))).toBe(false);
    const r = await vopono(allowed, [
      'exec',
      '-p',
      'none',
      '--',
      'sh',
      '-c',
      'id -u; id -g; ip -o link | grep -c "_s@"',
    ]);
    expect(r.stderr).toBe(announcement());
    expect(r.code).toBe(0);
    const [uid, gid, veth] = r.stdout.trim().split('\n');
    expect(Number(uid)).toBe(allowed.uid);
    expect(Number(gid)).toBe(allowed.gid);
    expect(veth).toBe('1'); // inside the namespace: its veth end, not the host's links
    await waitFor(() => oneShots().length === 0, 10_000, 'the one-shot root side to exit');
    await expectClean(prefix);
  });

  it('with a NOPASSWD rule: the exit status passes through, and the namespace is cleaned', async () => {
    for (const code of [3, 0, 255]) {
      const r = await vopono(allowed, ['exec', '-p', 'none', '--', 'sh', '-c', `exit ${code}`]);
      expect(r.stderr).toBe(announcement());
      expect(r.code).toBe(code);
      // vopono returns only once its root side has torn the namespace down
      expect(oneShots()).toEqual([]);
      expect(await leftovers(prefix)).toEqual([]);
    }
    const killed = await vopono(allowed, ['exec', '-p', 'none', '--', 'sh', '-c', 'kill -TERM $$']);
    expect(killed.signal).toBe('SIGTERM');
    await waitFor(() => oneShots().length === 0, 10_000, 'the one-shot root sides to exit');
    await expectClean(prefix);
  });

  it('with a NOPASSWD rule: stdin and stdout pass through byte for byte', async () => {
    const input = randomBytes(256 * 1024).toString('base64');
    const argv = [
      'setsid',
      '-w',
      ...allowed.asUser([process.execPath, cli, 'exec', '-p', 'none', '--', 'cat']),
    ];
    const r = await run(argv[0]!, argv.slice(1), { env: env(allowed), cwd: allowed.home, input });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(input);
    await expectClean(prefix);
  });

  it('with a NOPASSWD rule: a 400 KB environment (more than the socket pair buffers at once) arrives whole', async () => {
    const big: Record<string, string> = {};
    for (let i = 0; i < 4; i++) big[`BIG${i}`] = String(i).repeat(100_000);
    const argv = [
      'setsid',
      '-w',
      ...allowed.asUser([
        process.execPath,
        cli,
        'exec',
        '-p',
        'none',
        '--',
        'sh',
        '-c',
        'echo ${#BIG0} ${#BIG3}',
      ]),
    ];
    const r = await run(argv[0]!, argv.slice(1), { env: { ...env(allowed), ...big }, cwd: allowed.home });
    expect(r.stderr).toBe(announcement());
    expect(r.stdout).toBe('100000 100000\n');
    expect(r.code).toBe(0);
    expect(await leftovers(prefix)).toEqual([]);
  });

  it('with a NOPASSWD rule: a client killed outright hangs up the app, and the root side goes too', async () => {
    const marker = join(allowed.home, 'hup-marker');
    const argv = [
      'setsid',
      ...allowed.asUser([
        process.execPath,
        cli,
        'exec',
        '-p',
        'none',
        '--',
        'sh',
        '-c',
        `trap 'echo hup > ${marker}; exit 0' HUP; echo ready; while :; do sleep 0.05; done`,
      ]),
    ];
    const child = spawn(argv[0]!, argv.slice(1), {
      env: env(allowed),
      cwd: allowed.home,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      await waitFor(() => out.includes('ready'), 20_000, 'the app to start');
      expect(oneShots().length).toBeGreaterThan(0); // sudo and the root side under it
      child.kill('SIGKILL');
      await waitFor(
        () => existsSync(marker) && readFileSync(marker, 'utf8') === 'hup\n',
        10_000,
        'the app to get SIGHUP',
      );
      await waitFor(() => oneShots().length === 0, 10_000, 'the one-shot root side to exit');
      await expectClean(prefix);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('with a NOPASSWD rule: ^C (SIGINT to the whole foreground group, sudo included) reaches the app only', async () => {
    // sudo relays the signals it gets to the root side; that must not kill the root side before
    // the app has finished and the namespace is torn down
    for (const sig of ['SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTERM'] as const) {
      const script = `trap 'echo got; exit 5' ${sig.slice(3)}; echo ready; while :; do sleep 0.05; done`;
      const argv = [
        'setsid',
        ...allowed.asUser([process.execPath, cli, 'exec', '-p', 'none', '--', 'sh', '-c', script]),
      ];
      const child = spawn(argv[0]!, argv.slice(1), {
        env: env(allowed),
        cwd: allowed.home,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      try {
        let out = '';
        let err = '';
        child.stdout.on('data', (b: Buffer) => (out += b.toString()));
        child.stderr.on('data', (b: Buffer) => (err += b.toString()));
        const closed = new Promise<[number | null, string | null]>((r) =>
          child.on('close', (c, s) => r([c, s])),
        );
        await waitFor(() => out.includes('ready'), 20_000, 'the app to start');
        process.kill(-child.pid!, sig); // setsid made the client a process group leader
        const [code] = await closed;
        // vopono's own words: the announcement only (sh may say "Quit" when its sleep dies of SIGQUIT)
        expect(
          err.split('\n').filter((l) => l.startsWith('vopono')),
          sig,
        ).toEqual([announcement().trimEnd()]);
        expect(out, sig).toContain('got');
        expect(code, sig).toBe(5);
        await waitFor(() => oneShots().length === 0, 10_000, 'the one-shot root side to exit');
        await expectClean(prefix);
      } finally {
        child.kill('SIGKILL');
      }
    }
  });

  it('with a NOPASSWD rule, at a terminal: PTY mode works, and the terminal closing after the exit leaves nothing', async () => {
    // sudo's use_pty (Debian's default) is active only with a terminal
    const inner = `${process.execPath} ${cli} exec -p none -- sh -c 'id -u; tty; exit 3'; echo "exit=$?"`;
    const argv = ['setsid', '-w', ...allowed.asUser(['script', '-qec', inner, '/dev/null'])];
    // stdin stays open: at EOF `script` types its EOF character into the terminal, which the
    // client (raw mode) would pass on to the app's terminal, echoed as ^@
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...env(allowed), TERM: 'dumb' },
      cwd: allowed.home,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    clearTimeout(timer);
    child.stdin.destroy();
    expect(code).toBe(0);
    const lines = out.replace(/\r/g, '').split('\n'); // two PTYs: CR LF, sometimes CR CR LF
    expect(lines[0]).toBe(announcement().trimEnd());
    expect(lines, JSON.stringify(lines)).toContain(String(allowed.uid));
    expect(lines.some((l) => /^\/dev\/pts\/\d+$/.test(l))).toBe(true);
    expect(lines).toContain('exit=3');
    expect(oneShots()).toEqual([]);
    expect(await leftovers(prefix)).toEqual([]);
  });

  it('without a sudo rule: exit 125 and a clear error naming both fixes', async () => {
    const r = await vopono(denied, ['exec', '-p', 'none', '--', 'id', '-u']);
    expect(r.code).toBe(125);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(announcement().trimEnd());
    expect(r.stderr).toMatch(/sudo could not start vopono's root side/);
    // fix 1: the daemon and the group; fix 2: sudo rights
    expect(r.stderr).toMatch(/start the daemon/);
    expect(r.stderr).toMatch(/vopono group/);
    expect(r.stderr).toMatch(/sudo/);
    expect(r.stderr).toMatch(/allow yourself to run vopono with sudo/);
    expect(r.stderr).not.toMatch(/at Object|node:internal|Error:/); // no stack trace
    expect(oneShots()).toEqual([]);
    await expectClean(prefix);
  });
});
