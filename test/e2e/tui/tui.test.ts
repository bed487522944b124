// The TUI end to end: the built CLI (`vopono tui`) run by a throwaway user in an interactive bash
// under a real PTY, read as a screen with @xterm/headless, against the real daemon. It browses and
// filters servers, launches bash in a `none` namespace (the TUI steps aside), types in it, ^Cs a
// sleep, resizes, exits 4, and checks the TUI is back where it was with "exit 4" shown; that no
// keystroke crosses between the app and the TUI; live namespaces and stop; and that the
// terminal settings are the same before and after.
import { chmodSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clientCli, expectClean, startDaemon, uniquePrefix, type TestDaemon } from '../../helpers/daemon.js';
import { describeRoot } from '../../helpers/root.js';
import { run, sh, waitFor } from '../../helpers/run.js';
import { createUser, type TestUser } from '../../helpers/users.js';
import { PtyScreen } from './pty-screen.js';

const COUNTRIES = ['se-got', 'de-fra', 'us-nyc', 'jp-tyo', 'ch-zrh'];

/** Types a line into the shell running in the PTY. */
const shell = (s: PtyScreen, line: string): void => s.write(line + '\r');

/** Fake synced Mullvad WireGuard configs (browsing only: nothing connects to them). */
async function fakeSyncedConfigs(user: TestUser): Promise<number> {
  const dir = join(user.home, '.config', 'vopono', 'mv', 'wireguard');
  mkdirSync(dir, { recursive: true });
  let n = 0;
  for (const c of COUNTRIES)
    for (let i = 1; i <= 6; i++) {
      writeFileSync(join(dir, `${c}-wg-00${i}.conf`), '[Interface]\nPrivateKey = x\nAddress = 10.0.0.2/32\n');
      n++;
    }
  await sh('chown', ['-R', `${user.uid}:${user.gid}`, join(user.home, '.config')]);
  chmodSync(join(user.home, '.config'), 0o700);
  return n;
}

describeRoot('vopono tui (built CLI, real PTY, real daemon, throwaway user)', () => {
  let d: TestDaemon;
  let user: TestUser;
  let cli: string;
  let screen: PtyScreen | undefined;
  let servers = 0;

  beforeAll(async () => {
    cli = clientCli();
    d = await startDaemon();
    user = await createUser('vtu');
    servers = await fakeSyncedConfigs(user);
  });

  afterAll(async () => {
    screen?.kill('SIGKILL');
    await user?.remove(); // kills the user's leftover processes by pid
    await d?.stop();
    if (d) await expectClean(d.prefix);
  });

  it('browses, filters, launches bash in a none namespace, and comes back where it was', async () => {
    const argv = user.asUser(['/bin/bash', '--norc', '--noprofile', '-i']);
    const s = new PtyScreen(argv[0]!, argv.slice(1), {
      cols: 80,
      rows: 24,
      cwd: user.home,
      // no CI in the app's environment: Ink renders differently under CI
      env: user.env({ VOPONO_SOCKET: d.socketPath, TERM: 'xterm-256color', PS1: 'OUTER$ ' }),
    });
    screen = s;
    await s.waitFor('OUTER$');

    // a background app of the same user: the TUI must list it live, and stop it
    shell(s, `${process.execPath} ${cli} exec -p none -- sleep 300 </dev/null >/dev/null 2>&1 &`);
    shell(s, 'stty -a > ~/stty.before; echo BEFORE-$((1+1))');
    await s.waitFor(/^BEFORE-2$/m);
    shell(s, `${process.execPath} ${cli} tui; echo "TUI-EXIT=$?"`);

    // ---- the first frame: providers, daemon connected ----
    await s.waitFor('● daemon connected', 15_000);
    expect(s.altScreen).toBe(true);
    expect(s.text()).toMatch(/> mullvad +wireguard, openvpn +30 +synced/);
    expect(s.lines()).toHaveLength(24);

    // ---- servers and the filter ----
    s.write('\r');
    await s.waitFor(`mullvad: ${servers} of ${servers}`);
    s.write('/');
    await s.waitFor('/_');
    s.write('de');
    await s.waitFor('mullvad: 6 of 30   /de_');
    s.write(' 003');
    await s.waitFor('mullvad: 1 of 30');
    expect(s.text()).toMatch(/> de-fra-wg-003 +wireguard/);
    s.write('\x7f\x7f\x7f\x7f');
    await s.waitFor('mullvad: 6 of 30   /de_');
    s.write('j');
    await s.waitFor('mullvad: 0 of 30');
    expect(s.text()).toContain('no server matches "dej"');
    s.write('\x7f');
    await s.waitFor('mullvad: 6 of 30');
    s.write('\x1b[B\x1b[B\r'); // two down, choose
    await s.waitFor('Launch in mullvad / de-fra-wg-003 (wireguard)');
    // the fake config can't come up: the daemon's error is shown in place, with its hint
    s.write('true\r');
    await s.waitFor(/^✗ could not set up namespace .+/m, 20_000);
    // shown whole, over more than one line when needed
    expect(s.text()).toMatch(/WireGuard/);
    expect(s.altScreen).toBe(true);
    expect(s.text()).toContain('Launch in mullvad / de-fra-wg-003 (wireguard)');
    s.write('\x7f\x7f\x7f\x7f');
    await s.waitFor(/Command {8}_/);
    s.write('\x1b');
    await s.waitFor(/mullvad: 6 of 30 {3}\/de$/m);
    expect(s.text()).toMatch(/> de-fra-wg-003/);
    s.write('\x1b');
    await s.waitFor(`mullvad: ${servers} of ${servers}`);
    s.write('\x1b');
    await s.waitFor(/^ {2}provider +protocols/m);
    expect(s.text()).toMatch(/^> mullvad/m);

    // ---- help, then the none provider ----
    s.write('?');
    await s.waitFor('Keys (Esc or ? closes)');
    s.write('?');
    await s.waitFor((x) => !x.text().includes('Keys (Esc or ? closes)'));
    s.write('G');
    await s.waitFor(/> none +none/);
    s.write('\r');
    await s.waitFor('Launch in none (a namespace without a VPN)');
    const command = "env PS1='INNER$ ' bash --norc --noprofile";
    s.write(command);
    await s.waitFor(`Command        ${command}_`);

    // ---- launch: the TUI steps aside, bash owns the terminal ----
    s.write('\r');
    await s.waitFor((x) => !x.altScreen && x.text().includes('INNER$'), 15_000);
    s.write('echo $((6*7)); ip -o link | grep -c "_s@" ; id -u\r');
    await s.waitFor(new RegExp(`^42\\n1\\n${user.uid}\\nINNER\\$$`, 'm'));

    // keys that mean something to the TUI go to the app only
    s.write("echo 'q?/jk'\r");
    await s.waitFor(/^q\?\/jk$/m);
    expect(s.altScreen).toBe(false);

    // ^C reaches the app's foreground job through its PTY
    s.write('sleep 100\r');
    await waitFor(
      async () => (await run('pgrep', ['-u', String(user.uid), '-x', 'sleep'])).code === 0,
      10_000,
      'the sleep to run',
    );
    s.write('\x03');
    await s.waitFor(/\^C\nINNER\$$/m);
    s.write('echo rc=$?\r');
    await s.waitFor('rc=130');

    // a resize while the app runs reaches it
    s.resize(100, 30);
    // the resize travels client → daemon → the app's PTY: ask until it has arrived
    let sized = false;
    for (let i = 0; i < 20 && !sized; i++) {
      s.write('stty size\r');
      sized = await s.waitFor(/^30 100$/m, 500).then(
        () => true,
        () => false,
      );
    }
    expect(sized).toBe(true);

    // ---- exit 4: the TUI is back where it was, at the new size ----
    s.write('exit 4\r');
    await s.waitFor((x) => x.altScreen && x.text().includes('exit 4'), 15_000);
    let text = s.text();
    expect(text).toContain(`• ${command}: exit 4 in ${d.prefix}`);
    expect(text).toContain('Launch in none (a namespace without a VPN)');
    expect(text).toContain(`Command        ${command}_`);
    expect(text).toContain('last run: exit 4');
    expect(s.lines()).toHaveLength(30);
    expect(s.lines()[0]).toMatch(/\? help {2}q quit$/);
    expect(s.lines()[0]!.length).toBe(100);
    expect(text).not.toContain('Keys (Esc or ? closes)');
    // the command is remembered for the next session, in the user's own state dir
    const history = join(user.home, '.local', 'state', 'vopono', 'tui-history');
    expect(readFileSync(history, 'utf8')).toBe(`${command}\ntrue\n`);
    expect(statSync(history).uid).toBe(user.uid);

    // every key typed after the return reaches the TUI, none is eaten by the finished session
    s.write('\x7f'.repeat(command.length));
    await s.waitFor(/Command {8}_/);
    s.write('echo typed-after-return');
    await s.waitFor('Command        echo typed-after-return_');
    s.write('\x1b');
    await s.waitFor(/> none +none/);
    expect(s.text()).toMatch(/> none/);

    // ---- live namespaces: the background sleep, stopped from the TUI ----
    s.write('\t');
    await s.waitFor('[2 Namespaces (1)]');
    text = s.text();
    expect(text).toMatch(new RegExp(`> ${d.prefix}\\S* {2}none`));
    expect(text).toMatch(/^ +\d+ +\d+s {2}sleep 300/m);
    s.write('s');
    await s.waitFor(/Stop namespace \S+ and its 1 app\(s\)\? y\/n/);
    s.write('y');
    await s.waitFor('[2 Namespaces (0)]', 15_000);
    await s.waitFor(/✓ stopped 1 app\(s\)/);

    // ---- a resize while the TUI is shown: the frame follows ----
    s.resize(72, 20);
    await s.waitFor((x) => x.lines()[0]!.length === 72 && /● daemon connected/.test(x.lines()[19]!));
    expect(s.lines()[0]).toMatch(/^vopono .*\? help {2}q quit$/);
    expect(s.lines()[1]).toMatch(/^Active namespaces: 0/);

    // ---- the daemon goes away: the TUI says so and keeps working without it ----
    await d.stop();
    await s.waitFor(/✗ daemon connection lost|○ no vopono daemon at/, 10_000);
    await s.waitFor('○ no vopono daemon at', 15_000);
    await s.waitFor('the daemon is not running');
    s.write('\t');
    await s.waitFor(/^ {2}provider +protocols/m);

    // ---- back to the first size, then quit: the shell is back with the terminal as it was ----
    s.resize(80, 24);
    await s.waitFor((x) => x.lines()[0]!.length === 80);
    s.write('q');
    await s.waitFor('TUI-EXIT=0', 10_000);
    expect(s.altScreen).toBe(false);
    shell(s, 'stty -a > ~/stty.after; echo AFTER-$((1+1))');
    await s.waitFor(/^AFTER-2$/m);
    const before = readFileSync(join(user.home, 'stty.before'), 'utf8');
    const after = readFileSync(join(user.home, 'stty.after'), 'utf8');
    expect(after).toBe(before);
    expect(before).toContain('icanon');
    expect(before).toMatch(/ echo /);

    shell(s, 'exit 0');
    await s.exited;
    screen = undefined;
    await expectClean(d.prefix);
  }, 180_000);
});

describeRoot('vopono tui without a daemon (browse; launch through the sudo fallback)', () => {
  let user: TestUser;
  let cli: string;
  let screen: PtyScreen | undefined;
  const prefix = uniquePrefix();
  const stateDir = `/tmp/vopono-tui-nd-${prefix}`;
  let sudoers = '';

  beforeAll(async () => {
    cli = clientCli();
    user = await createUser('vtn');
    await fakeSyncedConfigs(user);
    // the user may start vopono's one-shot root side, and nothing else, without a password
    // checked as a draft first: a broken file in /etc/sudoers.d would break sudo for everyone
    const draft = join(user.home, 'sudoers.draft');
    writeFileSync(draft, `${user.name} ALL=(root) NOPASSWD: ${realpathSync(cli)}\n`, { mode: 0o440 });
    await sh('visudo', ['-cf', draft]);
    sudoers = `/etc/sudoers.d/${prefix}-tui`;
    writeFileSync(sudoers, readFileSync(draft), { mode: 0o440 });
    rmSync(draft, { force: true });
  });

  afterAll(async () => {
    screen?.kill('SIGKILL');
    if (sudoers) rmSync(sudoers, { force: true });
    await user?.remove();
    rmSync(stateDir, { recursive: true, force: true });
    await expectClean(prefix);
  });

  it('`vopono` alone opens it: says there is no daemon, still browses, launches through sudo with the exit status shown', async () => {
    // `vopono` with no arguments on a terminal is the TUI
    const argv = user.asUser([process.execPath, cli]);
    const s = new PtyScreen(argv[0]!, argv.slice(1), {
      cols: 110,
      cwd: user.home,
      env: user.env({
        VOPONO_SOCKET: join(stateDir, 'none.sock'),
        VOPONO_PREFIX: prefix,
        VOPONO_STATE_DIR: stateDir,
        VOPONO_POOL: `10.${100 + Math.floor(Math.random() * 150)}`,
        TERM: 'xterm-256color',
      }),
    });
    screen = s;
    await s.waitFor(`○ no vopono daemon at ${join(stateDir, 'none.sock')}: launches go through sudo`, 15_000);
    s.write('\r');
    await s.waitFor('mullvad: 30 of 30');
    s.write('/zrh 5');
    await s.waitFor('mullvad: 1 of 30');
    expect(s.text()).toMatch(/> ch-zrh-wg-005/);
    s.write('\x1b');
    await s.waitFor(/mullvad: 1 of 30 {3}\/zrh 5$/m);
    s.write('\x1b');
    await s.waitFor('mullvad: 30 of 30');
    s.write('\x1b');
    await s.waitFor(/^ {2}provider +protocols/m);
    s.write('\t');
    await s.waitFor('the daemon is not running');
    s.write('\t');
    await s.waitFor(/^ {2}provider +protocols/m);
    s.write('G');
    await s.waitFor(/> none +none/);
    s.write('\r');
    await s.waitFor('Launch in none');
    s.write("sh -c 'echo uid=$(id -u) net=$(ip -o link | grep -c _s@); exit 3'");
    s.write('\r');
    await s.waitFor((x) => x.altScreen && /: exit 3 in\s/.test(x.text()), 30_000);
    expect(s.text()).toMatch(new RegExp(`• sh -c .*: exit 3 in\\s+${prefix}_none`));
    const printed = s.normalText();
    expect(printed).toContain('running this command through sudo');
    expect(printed).toContain(`uid=${user.uid} net=1`);
    // the one-shot root side tears the namespace down on its own, while the TUI stays open
    await expectClean(prefix);
    // in the form, q is a letter of the command: Ctrl-C quits from anywhere
    s.write('\x03');
    await s.exited;
    screen = undefined;
  }, 120_000);

  it('a signal to the TUI restores the terminal: shown, or while an app runs (which gets it first)', async () => {
    const argv = user.asUser(['/bin/bash', '--norc', '--noprofile', '-i']);
    const s = new PtyScreen(argv[0]!, argv.slice(1), {
      cwd: user.home,
      env: user.env({
        VOPONO_SOCKET: join(stateDir, 'none.sock'),
        VOPONO_PREFIX: prefix,
        VOPONO_STATE_DIR: stateDir,
        VOPONO_POOL: `10.${100 + Math.floor(Math.random() * 150)}`,
        TERM: 'xterm-256color',
        PS1: 'SH$ ',
      }),
    });
    screen = s;
    await s.waitFor('SH$');
    shell(s, 'stty -a > ~/stty.before; echo BEFORE-$((1+1))');
    await s.waitFor(/^BEFORE-2$/m);
    const tuiPid = async (): Promise<number> => {
      const out = await sh('pgrep', ['-u', String(user.uid), '-f', `${cli} tui`]);
      return Number(out.trim().split('\n')[0]);
    };

    // 1. shown: SIGTERM
    shell(s, `${process.execPath} ${cli} tui; echo "TUI-EXIT-1=$?"`);
    await s.waitFor(/^ {2}provider +protocols/m, 15_000);
    process.kill(await tuiPid(), 'SIGTERM');
    await s.waitFor('TUI-EXIT-1=143');
    expect(s.altScreen).toBe(false);

    // 2. while an app runs: the app gets the signal, then the TUI goes away instead of coming back
    shell(s, `${process.execPath} ${cli} tui; echo "TUI-EXIT-2=$?"`);
    await s.waitFor(/^ {2}provider +protocols/m, 15_000);
    s.write('G');
    await s.waitFor(/> none +none/);
    s.write('\r');
    await s.waitFor('Launch in none');
    s.write("sh -c 'echo APP-UP; exec sleep 60'\r");
    await s.waitFor((x) => !x.altScreen && /^APP-UP$/m.test(x.text()), 30_000);
    process.kill(await tuiPid(), 'SIGTERM');
    await s.waitFor('TUI-EXIT-2=143', 15_000);
    expect(s.altScreen).toBe(false);

    shell(s, 'stty -a > ~/stty.after; echo AFTER-$((1+1))');
    await s.waitFor(/^AFTER-2$/m);
    expect(readFileSync(join(user.home, 'stty.after'), 'utf8')).toBe(
      readFileSync(join(user.home, 'stty.before'), 'utf8'),
    );
    await expectClean(prefix);
    shell(s, 'exit 0');
    await s.exited;
    screen = undefined;
  }, 120_000);
});
