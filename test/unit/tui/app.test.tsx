import { EventEmitter } from 'node:events';
import { render as inkRender } from 'ink';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../../src/tui/components/App.js';
import { FrameWriter, isInkStdout } from '../../../src/tui/frame-writer.js';
import { createTuiStore, type TuiStore } from '../../../src/tui/store.js';
import { fakeDeps, ns, tick, type FakeDeps } from './fixtures.js';

const KEY = { down: '\x1b[B', up: '\x1b[A', enter: '\r', esc: '\x1b', tab: '\t', backspace: '\x7f' };

const stores: TuiStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.getState().dispose();
});

async function setup(deps: FakeDeps) {
  const store = createTuiStore(deps);
  stores.push(store);
  store.getState().init();
  await tick();
  const r = render(<App store={store} uid={deps.uid} socketPath={deps.socketPath} now={deps.now} />);
  await tick(); // effects (viewport) run after the first frame
  return { store, ...r };
}

async function keys(stdin: { write(s: string): void }, ...seq: string[]): Promise<void> {
  for (const k of seq) {
    stdin.write(k);
    await tick(k === KEY.esc ? 20 : 2); // a lone Esc is told from a sequence's start on the next tick
  }
}

function frame(r: { lastFrame(): string | undefined }): string {
  return (r.lastFrame() ?? '').replace(/\x1b\[[0-9;]*m/g, '');
}

describe('TUI components (ink-testing-library)', () => {
  it('shows the providers with sync state, and the daemon state in the status line', async () => {
    const r = await setup(fakeDeps({ daemon: false }));
    const f = frame(r);
    expect(f).toContain('mullvad');
    expect(f).toMatch(/protonvpn.*not synced: vopono sync protonvpn/);
    expect(f).toContain('○ no vopono daemon at /run/vopono.sock: launches go through sudo');
    r.unmount();
  });

  it('navigates to the servers, filters as typed, and shows the launch form for the choice', async () => {
    const r = await setup(fakeDeps());
    expect(frame(r)).toContain('● daemon connected (/run/vopono.sock)');
    await keys(r.stdin, KEY.enter);
    expect(frame(r)).toMatch(/mullvad: 300 of 300/);
    await keys(r.stdin, '/', 'z', 'u', 'r');
    let f = frame(r);
    expect(f).toMatch(/mullvad: 50 of 300 +\/zur_/);
    expect(f).toContain('ch-zrh-wg-0005');
    expect(f).not.toContain('se-got');
    await keys(r.stdin, KEY.down, KEY.enter);
    f = frame(r);
    expect(f).toMatch(/Launch in mullvad \/ ch-zrh-ovpn-0011 \(openvpn\)/);
    expect(f).toMatch(/Killswitch +\[x\] on/);
    await keys(r.stdin, 'v', 'i', 'm');
    expect(frame(r)).toMatch(/> Command +vim_/);
    r.unmount();
  });

  it('shows an error in place with its hint', async () => {
    const r = await setup(fakeDeps({ daemon: false }));
    await keys(r.stdin, 'j', KEY.enter);
    expect(frame(r)).toContain(
      '✗ protonvpn is not synced yet: its server list is missing. (run: vopono sync protonvpn)',
    );
    r.unmount();
  });

  it('lists live namespaces with apps, uptime and tunnel state, and asks before a stop', async () => {
    const deps = fakeDeps({ uid: 1000 });
    const r = await setup(deps);
    deps.connections[0]!.push([ns('vo_mv_a', 1000, [4321]), ns('vo_mv_b', 1001, [99])]);
    await keys(r.stdin, KEY.tab);
    let f = frame(r);
    expect(f).toContain('[2 Namespaces (2)]');
    expect(f).toMatch(
      /> vo_mv_a {2}mullvad\/se-got-wg-0000 {2}wireguard, handshake 12s ago, 10\.0\.0\.1:51820 {2}up 1m 05s/,
    );
    expect(f).toMatch(/4321 +5s {2}bash -l/);
    expect(f).toMatch(/vo_mv_b .* uid 1001/);
    await keys(r.stdin, 's');
    expect(frame(r)).toContain('Stop namespace vo_mv_a and its 1 app(s)? y/n');
    await keys(r.stdin, 'y');
    await tick();
    expect(deps.connections[0]!.stops).toEqual(['vo_mv_a']);
    // the daemon pushes the change: the list follows without a key press
    deps.connections[0]!.push([ns('vo_mv_b', 1001, [99])]);
    await tick(40);
    f = frame(r);
    expect(f).toContain('[2 Namespaces (1)]');
    expect(f).not.toContain('vo_mv_a ');
    r.unmount();
  });

  it('opens help with ? and closes it with Esc', async () => {
    const r = await setup(fakeDeps());
    await keys(r.stdin, '?');
    expect(frame(r)).toContain('Keys (Esc or ? closes)');
    await keys(r.stdin, KEY.esc);
    expect(frame(r)).not.toContain('Keys (Esc or ? closes)');
    r.unmount();
  });
});

/** A stdout with a size that can change, like a terminal. */
class SizedStdout extends EventEmitter {
  frames: string[] = [];
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  isTTY = false;
  write = (s: string): boolean => {
    this.frames.push(s);
    return true;
  };
}
function isInkStdin(x: object): x is NodeJS.ReadStream {
  return 'setRawMode' in x && 'read' in x && 'isTTY' in x;
}
class FakeStdin extends EventEmitter {
  isTTY = true;
  setEncoding(): void {}
  setRawMode(): void {}
  ref(): void {}
  unref(): void {}
  read(): null {
    return null;
  }
}

describe('TUI layout', () => {
  it('fills 80×24, never wider, and follows a resize', async () => {
    const deps = fakeDeps({ servers: 2000 });
    const store = createTuiStore(deps);
    stores.push(store);
    store.getState().init();
    await tick();
    const stdout = new SizedStdout(80, 24);
    const stdin = new FakeStdin();
    if (!isInkStdout(stdout) || !isInkStdin(stdin)) throw new Error('fakes lack stream members');
    const inst = inkRender(<App store={store} uid={1000} socketPath="/run/vopono.sock" now={deps.now} />, {
      stdout,
      stdin,
      debug: true,
      patchConsole: false,
      exitOnCtrlC: false,
    });
    await tick();
    store.getState().choose();
    await tick(40);
    const lines = (stdout.frames.at(-1) ?? '').replace(/\x1b\[[0-9;]*m/g, '').split('\n');
    expect(lines).toHaveLength(24);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines[1]).toContain('mullvad: 2000 of 2000');
    expect(store.getState().viewport).toEqual({ cols: 80, rows: 24 });

    stdout.columns = 120;
    stdout.rows = 40;
    stdout.emit('resize');
    await tick(40);
    const big = (stdout.frames.at(-1) ?? '').replace(/\x1b\[[0-9;]*m/g, '').split('\n');
    expect(big).toHaveLength(40);
    expect(Math.max(...big.map((l) => l.length))).toBe(120);

    // a long error with its hint takes three lines; the frame keeps its height
    stdout.columns = 80;
    stdout.rows = 24;
    stdout.emit('resize');
    store.setState({
      notice: {
        kind: 'error',
        view: 'servers',
        text: 'could not set up namespace vo_mullvad_se-got-wg-0000_u1000: the WireGuard peer refused the handshake after 3 attempts',
        hint: 'check the config with vopono servers mullvad, or sync again: vopono sync mullvad',
      },
    });
    await tick(40);
    const err = (stdout.frames.at(-1) ?? '').replace(/\x1b\[[0-9;]*m/g, '').split('\n');
    expect(err).toHaveLength(24);
    for (const l of err) expect(l.length).toBeLessThanOrEqual(80);
    expect(err[19]).toMatch(/^✗ could not set up namespace/);
    expect(err.slice(19, 22).join(' ')).toContain('(check the config with vopono servers mullvad');
    inst.unmount();
  });
});

describe('FrameWriter', () => {
  class Term extends EventEmitter {
    out: string[] = [];
    columns = 20;
    rows = 4;
    write(s: string): boolean {
      this.out.push(s);
      return true;
    }
  }
  it('draws the whole frame first, then only changed lines at their rows, all in one synchronized write', () => {
    const t = new Term();
    const w = new FrameWriter(t);
    w.write('a\nb\nc\nd');
    expect(t.out).toHaveLength(1);
    expect(t.out[0]).toBe(
      '\x1b[?2026h\x1b[H\x1b[2J\x1b[1;1H\x1b[2Ka\x1b[2;1H\x1b[2Kb\x1b[3;1H\x1b[2Kc\x1b[4;1H\x1b[2Kd\x1b[?2026l',
    );
    w.write('a\nB\nc\nd');
    expect(t.out[1]).toBe('\x1b[?2026h\x1b[2;1H\x1b[2KB\x1b[?2026l');
    w.write('a\nB\nc\nd');
    expect(t.out).toHaveLength(2);
    t.emit('resize');
    w.write('a\nB\nc\nd');
    expect(t.out[2]).toContain('\x1b[2J');
    w.detach();
    expect(t.listenerCount('resize')).toBe(0);
  });
});
