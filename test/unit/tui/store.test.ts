import { describe, expect, it } from 'vitest';
import { NO_KEY, handleInput, handleKey, type KeyInfo } from '../../../src/tui/keys.js';
import { createTuiStore, namespaceRows, type TuiStore } from '../../../src/tui/store.js';
import { PROVIDERS, fakeDeps, makeServers, ns, tick, type FakeDeps } from './fixtures.js';

function press(store: TuiStore, input: string, key: Partial<KeyInfo> = {}): void {
  handleKey(store.getState(), input, { ...NO_KEY, ...key });
}
const ENTER = { return: true };
const ESC = { escape: true };
const DOWN = { downArrow: true };

async function started(deps: FakeDeps): Promise<TuiStore> {
  const store = createTuiStore(deps);
  store.getState().init();
  await tick();
  return store;
}

function typeText(store: TuiStore, text: string): void {
  for (const ch of text) press(store, ch);
}

describe('tui store: daemon connection', () => {
  it('loads providers and shows the no-daemon state when none listens; browsing still works', async () => {
    const deps = fakeDeps({ daemon: false });
    const store = await started(deps);
    const s = store.getState();
    expect(s.daemon.state).toBe('absent');
    expect(s.providers.map((p) => p.name)).toEqual(['mullvad', 'protonvpn', 'custom', 'none']);
    press(store, '', ENTER);
    expect(store.getState().view).toBe('servers');
    expect(store.getState().servers).toHaveLength(300);
    store.getState().dispose();
  });

  it('takes namespaces from the initial list and from every push, keeping the selected row', async () => {
    const deps = fakeDeps();
    const store = await started(deps);
    expect(store.getState().daemon.state).toBe('connected');
    const c = deps.connections[0]!;
    c.push([ns('vo_mv_a', 1000, [10, 11]), ns('vo_mv_b', 1000, [20])]);
    press(store, '', { tab: true });
    expect(store.getState().view).toBe('namespaces');
    press(store, 'j');
    press(store, 'j');
    press(store, 'j');
    expect(namespaceRows(store.getState().namespaces)[store.getState().nsSel]).toMatchObject({
      kind: 'ns',
      ns: { name: 'vo_mv_b' },
    });
    // a namespace before it goes away: the selection follows vo_mv_b
    c.push([ns('vo_mv_b', 1000, [20])]);
    expect(store.getState().nsSel).toBe(0);
    store.getState().dispose();
  });

  it('marks the connection lost when it closes and connects again', async () => {
    const deps = fakeDeps();
    const store = await started(deps);
    deps.connections[0]!.drop();
    expect(store.getState().daemon.state).toBe('lost');
    await tick(120);
    expect(deps.connections).toHaveLength(2);
    expect(store.getState().daemon.state).toBe('connected');
    store.getState().dispose();
    expect(deps.connections[1]!.closed).toBe(true);
  });
});

describe('tui store: navigation and filter', () => {
  it('offers the sync command for an unsynced provider, in place', async () => {
    const store = await started(fakeDeps({ daemon: false }));
    press(store, 'j');
    press(store, '', ENTER);
    const s = store.getState();
    expect(s.view).toBe('providers');
    expect(s.notice).toMatchObject({ kind: 'error', hint: 'run: vopono sync protonvpn', view: 'providers' });
  });

  it('filters incrementally, Esc leaves the filter, Esc again clears it, Esc again goes back', async () => {
    const store = await started(fakeDeps({ daemon: false }));
    press(store, '', ENTER);
    press(store, '/');
    typeText(store, 'jp wg');
    let s = store.getState();
    expect(s.filtering).toBe(true);
    expect(s.matches.length).toBe(25);
    for (const i of s.matches) expect(s.servers[i]!.name).toMatch(/^jp-tyo-wg-/);
    typeText(store, '-001');
    s = store.getState();
    expect(s.matches.map((i) => s.servers[i]!.name)).toEqual(['jp-tyo-wg-0015']);
    press(store, '', { delete: true });
    expect(store.getState().filter).toBe('jp wg-00');
    press(store, '', ESC);
    expect(store.getState().filtering).toBe(false);
    expect(store.getState().filter).toBe('jp wg-00');
    press(store, 'q'.toUpperCase()); // not a key in the list: nothing happens
    press(store, '', ESC);
    expect(store.getState().filter).toBe('');
    expect(store.getState().matches).toHaveLength(300);
    press(store, '', ESC);
    expect(store.getState().view).toBe('providers');
  });

  it('j/k and arrows move, G/g jump, and selection stays in range', async () => {
    const store = await started(fakeDeps({ daemon: false }));
    press(store, '', ENTER);
    press(store, 'k');
    expect(store.getState().serverSel).toBe(0);
    press(store, 'G');
    expect(store.getState().serverSel).toBe(299);
    press(store, 'j');
    expect(store.getState().serverSel).toBe(299);
    press(store, 'g');
    press(store, '', DOWN);
    press(store, '', { pageDown: true });
    expect(store.getState().serverSel).toBe(1 + 18);
  });

  it('? opens help and Esc closes it; q quits', async () => {
    const deps = fakeDeps({ daemon: false });
    const store = await started(deps);
    press(store, '?');
    expect(store.getState().help).toBe(true);
    press(store, 'j');
    expect(store.getState().providerSel).toBe(0);
    press(store, '', ESC);
    expect(store.getState().help).toBe(false);
    press(store, 'q');
    expect(deps.quits).toBe(1);
  });
});

describe('tui store: launch', () => {
  it('sends the exec request of the form and shows the exit status with the selection kept', async () => {
    const deps = fakeDeps();
    deps.nextExit = { code: 4 };
    const store = await started(deps);
    press(store, '', ENTER);
    press(store, '/');
    typeText(store, 'de-fra-wg');
    press(store, '', DOWN);
    const chosen = store.getState().matches[1]!;
    press(store, '', ENTER);
    expect(store.getState().view).toBe('launch');
    typeText(store, "bash -c 'exit 4'");
    press(store, '', DOWN); // killswitch
    press(store, ' ');
    press(store, '', DOWN); // dns
    typeText(store, '9.9.9.9, 1.1.1.1');
    press(store, '', DOWN); // keep alive
    press(store, ' ');
    press(store, '', DOWN); // forward
    typeText(store, '8080 9090');
    press(store, '', ENTER);
    await tick();
    expect(deps.launches).toHaveLength(1);
    const req = deps.launches[0]!;
    expect(req.argv).toEqual(['bash', '-c', 'exit 4']);
    expect(req.cwd).toBe('/home/u');
    expect(req.options).toMatchObject({
      provider: 'mullvad',
      server: store.getState().servers[chosen]!.name,
      protocol: 'wireguard',
      noKillswitch: true,
      keepAlive: true,
      dns: ['9.9.9.9', '1.1.1.1'],
      forward: [8080, 9090],
    });
    const s = store.getState();
    expect(s.running).toBe(false);
    expect(s.notice).toMatchObject({ view: 'launch', text: "bash -c 'exit 4': exit 4 in vo_none_t1" });
    expect(s.lastRun).toMatchObject({ result: 'exit 4', namespace: 'vo_none_t1', pid: 4242, ok: false });
    expect(s.recent).toEqual(["bash -c 'exit 4'"]);
    press(store, '', ESC);
    expect(store.getState().view).toBe('servers');
    expect(store.getState().matches[store.getState().serverSel]).toBe(chosen);
  });

  it('launches in the none provider straight from the providers list', async () => {
    const deps = fakeDeps({ daemon: false });
    deps.nextExit = { signal: 'SIGINT' };
    const store = await started(deps);
    press(store, 'G');
    press(store, '', ENTER);
    expect(store.getState().target).toEqual({ provider: 'none' });
    typeText(store, 'sleep 100');
    press(store, '', ENTER);
    await tick();
    expect(deps.launches[0]!.options.provider).toBe('none');
    expect(deps.launches[0]!.options.server).toBeUndefined();
    expect(store.getState().notice?.text).toBe('sleep 100: killed by SIGINT in vo_none_t1');
  });

  it('shows launch errors in place with the hint, and form errors without launching', async () => {
    const deps = fakeDeps();
    const store = await started(deps);
    press(store, 'G');
    press(store, '', ENTER);
    press(store, '', ENTER);
    expect(deps.launches).toHaveLength(0);
    expect(store.getState().notice).toMatchObject({ kind: 'error', text: 'type a command to run' });
    typeText(store, 'true');
    const err = Object.assign(new Error('sudo: a password is required'), {
      hint: 'start the daemon, or allow sudo',
    });
    deps.nextExit = err;
    press(store, '', ENTER);
    await tick();
    expect(store.getState().notice).toMatchObject({
      kind: 'error',
      text: 'sudo: a password is required',
      hint: 'start the daemon, or allow sudo',
    });
    for (let i = 0; i < 4; i++) press(store, '', DOWN);
    expect(store.getState().form.focus).toBe('forward');
    typeText(store, '99999');
    press(store, '', ENTER);
    expect(store.getState().notice?.text).toMatch(/not a port/);
  });

  it('custom needs a config path, which goes with the request', async () => {
    const deps = fakeDeps();
    const store = await started(deps);
    press(store, 'j');
    press(store, 'j');
    press(store, '', ENTER);
    typeText(store, 'curl ifconfig.co');
    press(store, '', ENTER);
    expect(store.getState().notice?.text).toMatch(/config file/);
    press(store, '', DOWN);
    expect(store.getState().form.focus).toBe('config');
    typeText(store, '~/wg0.conf');
    press(store, '', ENTER);
    await tick();
    expect(deps.launches[0]).toMatchObject({
      argv: ['curl', 'ifconfig.co'],
      customPath: '~/wg0.conf',
      options: { provider: 'custom' },
    });
  });

  it('recent commands can be picked back into the form', async () => {
    const deps = fakeDeps();
    const store = await started(deps);
    press(store, 'G');
    press(store, '', ENTER);
    typeText(store, 'htop');
    press(store, '', ENTER);
    await tick();
    for (let i = 0; i < 4; i++) press(store, '\x7f', { delete: true });
    expect(store.getState().form.command).toBe('');
    press(store, '', { end: true });
    expect(store.getState().form.focus).toBe('recent:0');
    press(store, '', ENTER);
    expect(store.getState().form).toMatchObject({ command: 'htop', focus: 'command' });
  });
});

describe('tui store: stop', () => {
  it('stops an own namespace after y, refuses another user’s, reports errors with the hint', async () => {
    const deps = fakeDeps({ uid: 1000 });
    const store = await started(deps);
    const c = deps.connections[0]!;
    c.push([ns('vo_mv_a', 1000, [10]), ns('vo_mv_x', 1001, [30])]);
    press(store, '2');
    press(store, 's');
    expect(store.getState().stopPrompt).toMatchObject({ target: 'vo_mv_a' });
    press(store, 'n');
    expect(c.stops).toEqual([]);
    press(store, 'j');
    press(store, 's');
    expect(store.getState().stopPrompt).toMatchObject({ target: '10' });
    press(store, 'y');
    await tick();
    expect(c.stops).toEqual(['10']);
    expect(store.getState().notice).toMatchObject({ kind: 'ok', view: 'namespaces' });
    press(store, 'j');
    press(store, 's');
    expect(store.getState().stopPrompt).toBeUndefined();
    expect(store.getState().notice?.text).toMatch(/belongs to uid 1001/);
    press(store, 'k');
    c.stopResult = Object.assign(new Error('no such app'), { hint: 'it may have exited' });
    press(store, 's');
    press(store, 'y');
    await tick();
    expect(store.getState().notice).toMatchObject({
      kind: 'error',
      text: 'no such app',
      hint: 'it may have exited',
    });
  });

  it('Enter on a namespace opens the launch form for its provider and server', async () => {
    const deps = fakeDeps();
    const store = await started(deps);
    deps.connections[0]!.push([ns('vo_mv_a', 1000, [10], { server: 'se-got-wg-0000' })]);
    press(store, '', { tab: true });
    press(store, '', ENTER);
    const s = store.getState();
    expect(s.view).toBe('launch');
    expect(s.target).toMatchObject({
      provider: 'mullvad',
      server: { name: 'se-got-wg-0000', protocol: 'wireguard' },
    });
  });
});

describe('tui keys: chunks of input', () => {
  it('splits a chunk of plain characters into single key presses', async () => {
    const store = await started(fakeDeps({ daemon: false }));
    handleInput(store.getState, 'jj', NO_KEY);
    expect(store.getState().providerSel).toBe(2);
    handleInput(store.getState, 'kk\r', NO_KEY);
    expect(store.getState().view).toBe('servers');
    handleInput(store.getState, '/se\x7f\x7fjp', NO_KEY);
    expect(store.getState().filter).toBe('jp');
    handleInput(store.getState, '\r', { ...NO_KEY, return: true });
    expect(store.getState().view).toBe('launch');
    handleInput(store.getState, 'vim q?jk\x7f', NO_KEY);
    expect(store.getState().form.command).toBe('vim q?j');
  });
});

describe('tui store: reload and launch feedback', () => {
  it('r reads the catalogue again and keeps the view, the filter and the selection', async () => {
    const deps = fakeDeps({ daemon: false });
    let servers = makeServers('mullvad', 300);
    let refreshed = 0;
    deps.catalogue = {
      providers: () =>
        PROVIDERS.map((p) => (p.name === 'mullvad' ? { ...p, serverCount: servers.length } : p)),
      servers: (p) => (p === 'mullvad' ? servers : []),
      refresh: () => refreshed++,
    };
    const store = await started(deps);
    press(store, '', ENTER);
    press(store, '/');
    typeText(store, 'jp');
    press(store, '', ESC);
    press(store, 'j');
    expect(store.getState().matches).toHaveLength(50);
    servers = makeServers('mullvad', 600);
    press(store, 'r');
    const s = store.getState();
    expect(refreshed).toBe(1);
    expect(s.view).toBe('servers');
    expect(s.servers).toHaveLength(600);
    expect(s.filter).toBe('jp');
    expect(s.matches).toHaveLength(100);
    expect(s.serverSel).toBe(1);
    expect(s.providers[0]!.serverCount).toBe(600);
  });

  it('says the launch is starting while it is prepared', async () => {
    const deps = fakeDeps();
    let release: () => void = () => {};
    deps.stepAside = () => new Promise((r) => (release = () => r({ code: 0 })));
    const store = await started(deps);
    press(store, 'G');
    press(store, '', ENTER);
    typeText(store, 'true');
    press(store, '', ENTER);
    expect(store.getState()).toMatchObject({
      running: true,
      notice: { kind: 'info', text: 'starting true ...' },
    });
    press(store, '', ESC); // keys are ignored while a launch runs
    expect(store.getState().view).toBe('launch');
    release();
    await tick();
    expect(store.getState()).toMatchObject({ running: false, notice: { kind: 'ok', text: 'true: exit 0' } });
  });
});

describe('tui store: config.toml defaults', () => {
  it('selects the preferred provider by name or alias', async () => {
    const deps = fakeDeps({ daemon: false });
    deps.preferredProvider = 'PR';
    const store = await started(deps);
    expect(store.getState().providers[store.getState().providerSel]!.name).toBe('protonvpn');
  });

  it("selects the preferred server (a prefix) in the preferred provider's list", async () => {
    const deps = fakeDeps({ daemon: false });
    deps.preferredProvider = 'mv';
    deps.preferredServer = 'JP-TYO-OVPN';
    const store = await started(deps);
    press(store, '', ENTER);
    const s = store.getState();
    expect(s.servers[s.matches[s.serverSel]!]!.name).toBe('jp-tyo-ovpn-0009');
  });
});
