// Interactive apps under a real terminal: the user's shell runs in node-pty, vopono exec runs in
// it, and the test types keys and reads what a person would see.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { clientCli, expectClean, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { describeRoot } from '../helpers/root.js';
import { openTerminal, settle, type TestTerminal } from '../helpers/terminal.js';
import { createUser, type TestUser } from '../helpers/users.js';

describeRoot('vopono exec (PTY mode, under a real terminal)', () => {
  let d: TestDaemon;
  let user: TestUser;
  let cli: string;
  let term: TestTerminal | undefined;

  beforeAll(async () => {
    cli = clientCli();
    d = await startDaemon();
    user = await createUser('vtp');
  });

  afterEach(() => {
    term?.kill();
    term = undefined;
  });

  afterAll(async () => {
    await d?.stop();
    await user?.remove();
    if (d) await expectClean(d.prefix);
  });

  /** The user's own shell in a terminal, with `vopono` as a function calling the built CLI. */
  async function userShell(): Promise<TestTerminal> {
    const argv = user.asUser(['bash', '--norc', '--noprofile']);
    const t = openTerminal(argv[0]!, argv.slice(1), {
      env: user.env({ VOPONO_SOCKET: d.socketPath, PS1: 'OUTER$ ', TERM: 'xterm-256color' }),
      cwd: user.home,
    });
    t.type(`vopono() { ${process.execPath} ${cli} "$@"; }\n`);
    await t.expect('OUTER$ ');
    return t;
  }

  /** Starts an interactive bash through vopono inside the user's shell. */
  async function innerBash(t: TestTerminal): Promise<void> {
    t.mark();
    // the prompt is spelt so that the typed command line itself never matches it
    t.type("vopono exec -p none -- env PS1='IN''NER$ ' bash --norc --noprofile\n");
    await t.expect('INNER$ ', 15_000);
  }

  it("gives the app a terminal of its own, sized from the client's, and follows resizes", async () => {
    term = await userShell();
    await innerBash(term);
    term.mark();
    term.type('tty; stty size\n');
    const out = await term.expect(/\/dev\/pts\/\d+\r\n24 80\r\n/);
    expect(out).toMatch(/\/dev\/pts\/\d+/);
    term.resize(100, 30);
    await settle(200);
    term.mark();
    term.type('stty size\n');
    await term.expect('30 100');
    term.type('exit\n');
    await term.expect('OUTER$ ');
  });

  it('^C interrupts a sleep and the shell gets its prompt back; ^Z stops it and fg resumes it', async () => {
    term = await userShell();
    await innerBash(term);
    term.mark();
    term.type('sleep 30\n');
    await settle(300);
    const t0 = Date.now();
    term.type('\x03');
    await term.expect(/\^C\r\n(\x1b\[\?2004h)?INNER\$ $/);
    expect(Date.now() - t0).toBeLessThan(5000);
    term.mark();
    term.type('sleep 31\n');
    await settle(300);
    term.type('\x1a');
    await term.expect(/Stopped\s+sleep 31/);
    await term.expect('INNER$ ');
    term.mark();
    term.type('fg\n');
    await term.expect('sleep 31');
    await settle(200);
    term.type('\x03');
    await term.expect('INNER$ ');
    term.mark();
    term.type('jobs; echo jobs""-done\n');
    const jobs = await term.expect('jobs-done\r\n');
    expect(jobs).not.toContain('Stopped');
    term.type('exit\n');
    await term.expect('OUTER$ ');
  });

  it('passes the exit status, restores the terminal exactly, and the next keystroke goes to the shell', async () => {
    term = await userShell();
    term.mark();
    term.type('stty -a > before.txt; echo sa""ved\n');
    await term.expect('saved');
    await innerBash(term);
    term.mark();
    term.type('exit 4\n');
    await term.expect('OUTER$ ');
    // typed as soon as the shell is back: must reach it, not a bridge that outlived the app
    term.type('echo "status=$?"\n');
    await term.expect('status=4');
    term.mark();
    term.type('stty -a > after.txt; cmp before.txt after.txt && echo SAME""-TTY\n');
    await term.expect('SAME-TTY');
    await settle();
    expect(term.screen().join('\n')).toContain('status=4');
  });

  it('delivers the last bytes of a large output before the exit status', async () => {
    term = await userShell();
    term.mark();
    term.type('vopono exec -p none -- sh -c "seq 1 300000; echo END""-MARK"; echo "rc=$?"\n');
    const out = await term.expect('rc=0', 60_000);
    expect(out).toContain('299999\r\n300000\r\nEND-MARK\r\n');
    expect(out.indexOf('END-MARK')).toBeLessThan(out.indexOf('rc=0'));
  });

  it('with stdin a terminal and stdout a pipe, the pipe gets clean output', async () => {
    term = await userShell();
    term.mark();
    term.type('vopono exec -p none -- sh -c "echo clean; echo line2" | od -c | head -3; echo piped""-done\n');
    const out = await term.expect('piped-done\r\n');
    expect(out).toMatch(/c\s+l\s+e\s+a\s+n\s+\\n\s+l\s+i\s+n\s+e\s+2\s+\\n/);
    expect(out).not.toMatch(/\\r/);
  });

  it('a terminal that vanishes hangs up the app and the daemon keeps serving', async () => {
    term = await userShell();
    await innerBash(term);
    term.type('sleep 300\n');
    await settle(300);
    term.kill(); // the whole terminal goes: the client dies with it
    term = undefined;
    await expectClean(d.prefix, 15_000);
    const again = await userShell();
    term = again;
    again.mark();
    again.type('vopono exec -p none -- echo still""-serving\n');
    await again.expect('still-serving');
  });
});
