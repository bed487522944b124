// `vopono exec` end to end: the real daemon on a temporary socket, the CLI run by a throwaway
// user, real namespaces. Each assertion is on what the user sees: bytes, exit status, uid.
import { createHash } from 'node:crypto';
import { mkdirSync, chmodSync, statSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { voponoAs, voponoInBackground, type CliOptions } from '../helpers/cli.js';
import { clientCli, expectClean, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { describeRoot } from '../helpers/root.js';
import { run, sh, sleep, waitFor, type RunResult } from '../helpers/run.js';
import { createUser, type TestUser } from '../helpers/users.js';

describeRoot('vopono exec (pipe mode, real daemon, throwaway user)', () => {
  let d: TestDaemon;
  let user: TestUser;
  let other: TestUser;
  let cli: string;

  beforeAll(async () => {
    cli = clientCli();
    d = await startDaemon();
    user = await createUser('vta');
    other = await createUser('vtb');
  });

  afterAll(async () => {
    await d?.stop();
    await user?.remove();
    await other?.remove();
    if (d) await expectClean(d.prefix);
  });

  const vopono = (u: TestUser, args: string[], opts: CliOptions = {}): Promise<RunResult> =>
    voponoAs(u, d, args, opts);

  it("runs as the user: uid, gid and groups are the user's own", async () => {
    const r = await vopono(user, ['exec', '-p', 'none', '--', 'sh', '-c', 'id -u; id -g; id -G']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [uid, gid, groups] = r.stdout.trim().split('\n');
    expect(Number(uid)).toBe(user.uid);
    expect(Number(gid)).toBe(user.gid);
    const outside = (await sh('id', ['-G', user.name])).trim().split(' ').sort();
    expect(groups!.split(' ').sort()).toEqual(outside);
    await expectClean(d.prefix);
  });

  it("runs in the namespace: its own interfaces, its resolv.conf, and the user's files", async () => {
    const r = await vopono(user, [
      'exec',
      '-p',
      'none',
      '-d',
      '10.9.8.7',
      '--',
      'sh',
      '-c',
      'ip -o link; echo ---; cat /etc/resolv.conf; echo ---; echo hi > made-here; pwd',
    ]);
    expect(r.code).toBe(0);
    const [links, resolv, pwd] = r.stdout.split('---\n');
    expect(links).toMatch(new RegExp(`${d.prefix}\\d+_s`));
    expect(links).not.toMatch(/\beth0\b/);
    expect(resolv).toContain('nameserver 10.9.8.7');
    expect(pwd!.trim()).toBe(user.home);
    const st = statSync(`${user.home}/made-here`);
    expect(st.uid).toBe(user.uid);
    expect(st.gid).toBe(user.gid);
  });

  it('passes stdin/stdout through byte for byte (100 MB) with the daemon out of the data path', async () => {
    const data = Buffer.alloc(100 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE((i * 2654435761) >>> 0, i);
    const r = await vopono(user, ['exec', '-p', 'none', '--', 'cat'], { input: data, timeoutMs: 120_000 });
    expect(r.code).toBe(0);
    expect(r.stdoutBytes.length).toBe(data.length);
    expect(createHash('sha256').update(r.stdoutBytes).digest('hex')).toBe(
      createHash('sha256').update(data).digest('hex'),
    );
  });

  it('stdin /dev/null, a closed stdout and stderr behave as without vopono', async () => {
    const argv = user.asUser([
      process.execPath,
      cli,
      'exec',
      '-p',
      'none',
      '--',
      'sh',
      '-c',
      'cat; echo out; echo err >&2',
    ]);
    const child = spawn(argv[0]!, argv.slice(1), {
      env: user.env({ VOPONO_SOCKET: d.socketPath }),
      cwd: user.home,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    child.stderr.on('data', (b: Buffer) => (err += b));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(out).toBe('out\n');
    expect(err).toBe('err\n');
    // a closed stdout: Node (the client) reopens a closed fd 0-2 as /dev/null at start-up, so the
    // app gets /dev/null there; it runs and exits normally, and nothing hangs
    const q = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
    const cmd = user
      .asUser([process.execPath, cli, 'exec', '-p', 'none', '--', 'sh', '-c', 'echo x; echo done >&2'])
      .map(q)
      .join(' ');
    const via = await run('sh', ['-c', `exec 1>&-; ${cmd}`], {
      env: user.env({ VOPONO_SOCKET: d.socketPath }),
      cwd: user.home,
    });
    expect(via.code).toBe(0);
    expect(via.stderr).toBe('done\n');
  });

  it('passes exit codes 0, 1, 3 and 255 through', async () => {
    for (const code of [0, 1, 3, 255]) {
      const r = await vopono(user, ['exec', '-p', 'none', '--', 'sh', '-c', `exit ${code}`]);
      expect(r.code).toBe(code);
    }
  });

  it('dies of the signal the app died of (SIGTERM, SIGKILL)', async () => {
    for (const sig of ['TERM', 'KILL']) {
      const r = await vopono(user, ['exec', '-p', 'none', '--', 'sh', '-c', `kill -${sig} $$`]);
      expect(r.code).toBe(null);
      expect(r.signal).toBe(`SIG${sig}`);
    }
  });

  it("upstream's one-string command form is split like a shell would", async () => {
    const r = await vopono(user, ['exec', '-p', 'none', "printf '%s|' a 'b c' \"d e\""]);
    expect(r.stdout).toBe('a|b c|d e|');
  });

  it("signals sent to the client reach the app's process group", async () => {
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      const app = voponoInBackground(user, d, [
        'exec',
        '-p',
        'none',
        '--',
        'sh',
        '-c',
        `trap 'echo got-${sig}; exit 7' ${sig.slice(3)}; echo ready; while :; do sleep 0.05; done`,
      ]);
      await app.waitFor('ready');
      app.child.kill(sig);
      expect(await app.closed).toBe('exit 7');
      expect(app.out()).toContain(`got-${sig}`);
    }
  });

  it('a client killed outright hangs up the app (SIGHUP to its group)', async () => {
    const marker = `${user.home}/hup-marker`;
    const app = voponoInBackground(user, d, [
      'exec',
      '-p',
      'none',
      '--',
      'sh',
      '-c',
      `trap 'echo hup > ${marker}; exit 0' HUP; echo ready; while :; do sleep 0.05; done`,
    ]);
    await app.waitFor('ready');
    app.child.kill('SIGKILL');
    await waitFor(
      () => {
        try {
          return statSync(marker).size > 0;
        } catch {
          return false;
        }
      },
      10_000,
      'the app to get SIGHUP',
    );
    await expectClean(d.prefix);
  });

  it('a missing command exits 127, a non-executable one 126, with a clear message', async () => {
    const missing = await vopono(user, ['exec', '-p', 'none', '--', 'fooo']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain("vopono: cannot run 'fooo': no such command");
    writeFileSync(`${user.home}/not-exec`, 'echo hi\n');
    await sh('chown', [`${user.uid}:${user.gid}`, `${user.home}/not-exec`]);
    const notExec = await vopono(user, ['exec', '-p', 'none', '--', './not-exec']);
    expect(notExec.code).toBe(126);
    expect(notExec.stderr).toMatch(/cannot run '\.\/not-exec': permission denied/);
  });

  it('a working directory the user cannot enter is an error, not a root chdir', async () => {
    const secret = `/tmp/vt-secret-${process.pid}`;
    mkdirSync(secret, { mode: 0o700 });
    chmodSync(secret, 0o700);
    try {
      const r = await vopono(user, ['exec', '-p', 'none', '-w', secret, '--', 'pwd']);
      expect(r.code).toBe(125);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`cannot enter working directory '${secret}'`);
    } finally {
      rmSync(secret, { recursive: true, force: true });
    }
  });

  it("shares one namespace between a user's apps, never between two users", async () => {
    const slow = [
      'exec',
      '-p',
      'none',
      '--',
      'sh',
      '-c',
      'cat /proc/self/net/dev_snmp6/../../../proc/net/dev >/dev/null 2>&1; ip -o -4 addr show scope global; sleep 1',
    ];
    const [a1, a2, b1] = await Promise.all([vopono(user, slow), vopono(user, slow), vopono(other, slow)]);
    for (const r of [a1, a2, b1]) expect(r.code).toBe(0);
    const addr = (r: RunResult): string => /inet (\S+)/.exec(r.stdout)?.[1] ?? 'none';
    expect(addr(a1)).toBe(addr(a2));
    expect(addr(b1)).not.toBe(addr(a1));
    await expectClean(d.prefix);
  });

  it("list shows only the caller's namespaces and apps (--json), stop ends them", async () => {
    const app = voponoInBackground(user, d, ['exec', '-p', 'none', '--', 'sleep', '30'], { stdin: 'ignore' });
    try {
      let mine: { name: string; owner: number; apps: { pid: number; command: string[] }[] }[] = [];
      await waitFor(
        async () => {
          const r = await vopono(user, ['list', '--json']);
          mine = JSON.parse(r.stdout) as typeof mine;
          return mine.length === 1 && mine[0]!.apps.length === 1;
        },
        10_000,
        'the app to be listed',
      );
      expect(mine[0]!.owner).toBe(user.uid);
      expect(mine[0]!.apps[0]!.command).toEqual(['sleep', '30']);
      const theirs = JSON.parse((await vopono(other, ['list', '--json'])).stdout) as unknown[];
      expect(theirs).toEqual([]);
      const refused = await vopono(other, ['stop', mine[0]!.name]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('no namespace');
      const stopped = await vopono(user, ['stop', mine[0]!.name]);
      expect(stopped.code).toBe(0);
      expect(await app.closed).toBe('SIGTERM'); // the app died of SIGTERM, and so did the client
      await expectClean(d.prefix);
    } finally {
      app.child.kill('SIGKILL');
    }
  });

  it('--create-netns-only keeps the namespace until stopped', async () => {
    const r = await vopono(user, [
      'exec',
      '-p',
      'none',
      '--create-netns-only',
      '--custom-netns-name',
      `${d.prefix}_keep`,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`${d.prefix}_keep`);
    await sleep(200);
    expect(await sh('ip', ['netns', 'list'])).toContain(`${d.prefix}_keep`);
    const join = await vopono(user, [
      'exec',
      '-p',
      'none',
      '--custom-netns-name',
      `${d.prefix}_keep`,
      '--',
      'true',
    ]);
    expect(join.code).toBe(0);
    expect(await sh('ip', ['netns', 'list'])).toContain(`${d.prefix}_keep`);
    const theirs = await vopono(other, [
      'exec',
      '-p',
      'none',
      '--custom-netns-name',
      `${d.prefix}_keep`,
      '--',
      'true',
    ]);
    expect(theirs.code).toBe(125);
    expect(theirs.stderr).toContain('belongs to another user');
    expect((await vopono(user, ['stop', `${d.prefix}_keep`])).code).toBe(0);
    await expectClean(d.prefix);
  });

  it('takes defaults from ~/.config/vopono/config.toml, and flags win', async () => {
    const dir = `${user.home}/.config/vopono`;
    await sh('mkdir', ['-p', dir]);
    writeFileSync(`${dir}/config.toml`, 'provider = "none"\ndns = ["10.1.2.3"]\n');
    await sh('chown', ['-R', `${user.uid}:${user.gid}`, `${user.home}/.config`]);
    await sh('chmod', ['700', `${user.home}/.config`, dir]);
    try {
      const fromFile = await vopono(user, ['exec', '--', 'cat', '/etc/resolv.conf']);
      expect(fromFile.stderr).toBe('');
      expect(fromFile.stdout).toContain('nameserver 10.1.2.3');
      const flagWins = await vopono(user, ['exec', '-d', '10.4.5.6', '--', 'cat', '/etc/resolv.conf']);
      expect(flagWins.stdout).toContain('nameserver 10.4.5.6');
      expect(flagWins.stdout).not.toContain('10.1.2.3');
    } finally {
      rmSync(`${user.home}/.config`, { recursive: true, force: true });
    }
  });

  it('a second daemon refuses a socket a live daemon answers on', async () => {
    const r = await run(process.execPath, [
      cli,
      'daemon',
      '--socket',
      d.socketPath,
      '--state-dir',
      `${d.stateDir}-2`,
      '--prefix',
      d.prefix,
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`a daemon already answers on ${d.socketPath}`);
    rmSync(`${d.stateDir}-2`, { recursive: true, force: true });
    expect((await vopono(user, ['exec', '-p', 'none', '--', 'true'])).code).toBe(0);
  });

  it('never takes over (or deletes) a namespace vopono did not make', async () => {
    const foreign = `${d.prefix}_foreign`;
    await sh('ip', ['netns', 'add', foreign]);
    try {
      const r = await vopono(user, ['exec', '-p', 'none', '--custom-netns-name', foreign, '--', 'true']);
      expect(r.code).toBe(125);
      expect(r.stderr).toContain(`'${foreign}' already exists and is not vopono's`);
      expect(await sh('ip', ['netns', 'list'])).toContain(foreign);
    } finally {
      await run('ip', ['netns', 'del', foreign]);
    }
  });

  it('refuses a DNS server that is not an address, naming the field', async () => {
    const r = await vopono(user, ['exec', '-p', 'none', '-d', '1.2.3.4\nnameserver 6.6.6.6', '--', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/dns\[0\].*not an IP address/);
  });

  it("joining one's own namespace with other options is refused, naming the difference", async () => {
    const name = `${d.prefix}_opts`;
    expect(
      (await vopono(user, ['exec', '-p', 'none', '--create-netns-only', '--custom-netns-name', name])).code,
    ).toBe(0);
    try {
      const r = await vopono(user, [
        'exec',
        '-p',
        'none',
        '--custom-netns-name',
        name,
        '--disable-ipv6',
        '--',
        'true',
      ]);
      expect(r.code).toBe(125);
      expect(r.stderr).toContain('--disable-ipv6 false (asked true)');
      expect(r.stderr).toContain(`vopono stop ${name}`);
    } finally {
      await vopono(user, ['stop', name]);
    }
    await expectClean(d.prefix);
  });
});
