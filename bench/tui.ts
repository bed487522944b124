// The TUI: first frame and filter time per keystroke over 2,000 servers.
//  - in process: Ink + the store + the FrameWriter on an in-memory terminal (render cost alone);
//  - whole CLI: `vopono tui` from a dist/ snapshot under a real PTY, read with @xterm/headless,
//    against `node -e 0` (process start) and `cat` (PTY echo) in the same run.
// Run: npx tsx bench/tui.ts (as root; the in-process part needs no root but shares the harness).
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { staticCatalogue, type ProviderSummary, type ServerRow } from '../src/tui/catalogue.js';
import { FrameWriter, isInkStdout } from '../src/tui/frame-writer.js';
import { defaultOptions } from '../src/tui/options.js';
import type { TuiDeps } from '../src/tui/ports.js';
import { createTuiStore } from '../src/tui/store.js';
import { PtyScreen } from '../test/e2e/tui/pty-screen.js';
import { dist, distSnapshot, emit, log, main, median, ms, now, percentile } from './lib.js';

// the production builds of React, as in dist/ (React and Ink are imported below, after this)
process.env.NODE_ENV = 'production';

const SERVERS = Number(process.env.BENCH_TUI_SERVERS ?? 2000);
const ROUNDS = Number(process.env.BENCH_TUI_ROUNDS ?? 10);
const COUNTRIES = [
  'se-got',
  'de-fra',
  'us-nyc',
  'jp-tyo',
  'ch-zrh',
  'gb-lon',
  'nl-ams',
  'ca-tor',
  'au-syd',
  'br-sao',
];
/** Typed one key at a time: words that narrow, a backspace run, words that widen again. */
const TYPED = [
  's',
  'e',
  '-',
  'g',
  'o',
  't',
  ' ',
  'w',
  'g',
  ' ',
  '1',
  '\x7f',
  '\x7f',
  '\x7f',
  '\x7f',
  '\x7f',
  '\x7f',
  'u',
  's',
  ' ',
  '0',
  '0',
  '4',
];

function servers(n: number): ServerRow[] {
  const out: ServerRow[] = [];
  for (let i = 0; i < n; i++) {
    const c = COUNTRIES[i % COUNTRIES.length]!;
    const proto = i % 3 === 0 ? 'openvpn' : 'wireguard';
    const name = `${c}-${proto === 'wireguard' ? 'wg' : 'ovpn'}-${String(i).padStart(4, '0')}`;
    out.push({
      provider: 'mullvad',
      protocol: proto,
      name,
      file: `/x/${name}.conf`,
      country: c.slice(0, 2),
      city: c.slice(3),
      host: `${name}.relays.example`,
    });
  }
  return out;
}

class MemoryTerminal extends EventEmitter {
  columns = 80;
  rows = 24;
  bytes = 0;
  writes = 0;
  write(s: string): boolean {
    this.bytes += s.length;
    this.writes++;
    return true;
  }
}

class Keys extends EventEmitter {
  isTTY = true;
  private queue: string[] = [];
  setEncoding(): void {}
  setRawMode(): void {}
  ref(): void {}
  unref(): void {}
  read(): string | null {
    return this.queue.shift() ?? null;
  }
  type(s: string): void {
    this.queue.push(s);
    this.emit('readable');
  }
}

function isReadStream(x: object): x is NodeJS.ReadStream {
  return 'setRawMode' in x && 'read' in x;
}

function deps(list: ServerRow[]): TuiDeps {
  const providers: ProviderSummary[] = [
    {
      name: 'mullvad',
      aliases: ['mv'],
      protocols: ['wireguard', 'openvpn'],
      synced: true,
      serverCount: list.length,
    },
    { name: 'none', aliases: ['none'], protocols: ['none'], synced: true, serverCount: 0, note: 'no VPN' },
  ];
  return {
    catalogue: staticCatalogue(providers, list),
    socketPath: '/nonexistent/vopono.sock',
    connect: () => Promise.reject(new Error('no daemon in this bench')),
    isUnavailable: () => true,
    stepAside: () => Promise.resolve({ code: 0 }),
    quit: () => {},
    defaultOptions,
    uid: 0,
    cwd: '/',
    env: [],
    now: Date.now,
    retryMs: 60_000,
  };
}

/** In process: render() → first frame, and key → frame for each filter keystroke. */
async function inProcess(
  list: ServerRow[],
): Promise<{ first: number[]; keys: number[]; keysCpu: number[]; storeOnly: number[] }> {
  const first: number[] = [];
  const keys: number[] = [];
  const keysCpu: number[] = [];
  const storeOnly: number[] = [];
  const { render } = await import('ink');
  const { createElement } = await import('react');
  const { App } = await import('../src/tui/components/App.js');
  for (let r = 0; r < ROUNDS; r++) {
    const term = new MemoryTerminal();
    const frames = new FrameWriter(term);
    const input = new Keys();
    if (!isInkStdout(frames) || !isReadStream(input)) throw new Error('bench fakes lack stream members');
    const store = createTuiStore(deps(list));
    const t0 = now();
    store.getState().init();
    const ink = render(
      createElement(App, { store, uid: 0, socketPath: '/nonexistent/vopono.sock', now: Date.now }),
      {
        stdout: frames,
        stdin: input,
        debug: true,
        exitOnCtrlC: false,
        patchConsole: false,
      },
    );
    if (frames.frames === 0) throw new Error('no first frame from render()');
    first.push(now() - t0);
    await new Promise((res) => setTimeout(res, 5)); // effects (viewport, input) settle
    input.type('\r');
    input.type('/');
    await new Promise((res) => setTimeout(res, 5));
    for (const k of TYPED) {
      const before = frames.frames;
      const t = now();
      const cpu = process.cpuUsage();
      input.type(k);
      for (let i = 0; i < 100 && frames.frames === before; i++) await new Promise((res) => setImmediate(res));
      if (frames.frames === before) throw new Error(`no frame for key ${JSON.stringify(k)}`);
      keys.push(now() - t);
      const used = process.cpuUsage(cpu);
      keysCpu.push((used.user + used.system) / 1000);
    }
    // the filter alone (no rendering), for the breakdown
    const s = store.getState();
    s.eraseFilter();
    for (let i = 0; i < 12; i++) s.eraseFilter();
    for (const k of 'se-got wg 1') {
      const t = now();
      store.getState().typeFilter(k);
      storeOnly.push(now() - t);
    }
    ink.unmount();
    ink.cleanup();
    frames.detach();
    store.getState().dispose();
  }
  return { first, keys, keysCpu, storeOnly };
}

/** Fake synced Mullvad configs in a throwaway config dir, for the whole-CLI runs. */
function configHome(list: ServerRow[]): string {
  const home = mkdtempSync('/tmp/vopono-bench-tui-');
  const dir = join(home, '.config', 'vopono', 'mv', 'wireguard');
  mkdirSync(dir, { recursive: true });
  for (const s of list) writeFileSync(join(dir, `${s.name}.conf`), '[Interface]\n');
  return home;
}

async function wholeCli(
  cli: string,
  home: string,
  count: number,
): Promise<{ first: number[]; keys: number[]; baseline: number[]; echo: number[] }> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    VOPONO_SOCKET: join(home, 'no-daemon.sock'),
  };
  const first: number[] = [];
  const keys: number[] = [];
  const baseline: number[] = [];
  const echo: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // baseline: node -e 0 under the same kind of PTY, spawn → exit
    const b0 = now();
    const b = new PtyScreen(process.execPath, ['-e', '0'], { env });
    await b.exited;
    baseline.push(now() - b0);

    const t0 = now();
    const s = new PtyScreen(process.execPath, [cli, 'tui'], { env });
    try {
      await s.waitFor(/^ {2}provider +protocols/m, 15_000);
      first.push(now() - t0);
      s.write('\r');
      await s.waitFor(`mullvad: ${count} of ${count}`);
      s.write('/');
      await s.waitFor('/_');
      let typed = '';
      for (const k of TYPED) {
        typed = k === '\x7f' ? typed.slice(0, -1) : typed + k;
        const t = now();
        s.write(k);
        await s.waitFor(`/${typed}_`, 5_000);
        keys.push(now() - t);
      }
      s.write('\x1b');
      await new Promise((res) => setTimeout(res, 50));
      s.write('q');
      await Promise.race([s.exited, new Promise((res) => setTimeout(res, 3000))]);
    } finally {
      s.kill();
    }

    // baseline for a key: the echo of `cat` under the same PTY and screen reader
    const c = new PtyScreen('/bin/cat', [], { env });
    try {
      await new Promise((res) => setTimeout(res, 50));
      let line = '';
      for (let i = 0; i < 5; i++) {
        line += String(i);
        const t = now();
        c.write(String(i));
        await c.waitFor((x) => x.lines()[0] === line, 5_000);
        echo.push(now() - t);
      }
    } finally {
      c.kill();
    }
  }
  return { first, keys, baseline, echo };
}

await main('tui', async () => {
  const list = servers(SERVERS);
  log(`servers: ${SERVERS}; rounds: ${ROUNDS}; keys a round: ${TYPED.length}`);

  const p = await inProcess(list);
  emit({
    figure: 'TUI first frame, in process (render → frame written)',
    measured: `${ms(p.first[0]!)} cold, warm ${dist(p.first.slice(1))}`,
    baseline: '',
    target: '≤ 300 ms',
    verdict: p.first[0]! <= 300 ? 'pass' : 'miss',
  });
  emit({
    figure: `TUI filter keystroke over ${SERVERS} servers, in process (key → frame written)`,
    measured: `${dist(p.keys, 2)}, max ${ms(Math.max(...p.keys), 2)}; CPU time ${dist(p.keysCpu, 2)}`,
    baseline: `filter alone ${dist(p.storeOnly, 3)}`,
    target: '≤ 16 ms',
    verdict: percentile(p.keys, 90) <= 16 ? 'pass' : 'miss',
    note: `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs while measuring (wall times stretch with load; CPU time does not)`,
  });

  if (process.env.BENCH_TUI_CLI === '0') return;
  const cli = join(distSnapshot(), 'dist', 'vopono.js');
  const wgCount = list.length; // every config is written as a WireGuard one
  const home = configHome(list);
  try {
    const w = await wholeCli(cli, home, wgCount);
    emit({
      figure: `TUI first frame, whole CLI under a PTY (spawn → providers on screen, ${wgCount} configs on disk)`,
      measured: dist(w.first),
      baseline: `node -e 0 spawn → exit ${dist(w.baseline)}`,
      target: '≤ 300 ms',
      verdict: median(w.first) <= 300 ? 'pass' : 'miss',
      note: `first frame − node start: ${ms(median(w.first) - median(w.baseline))} (median)`,
    });
    emit({
      figure: `TUI filter keystroke over ${wgCount} servers, whole CLI under a PTY (key → new filter on screen)`,
      measured: `${dist(w.keys, 2)}, max ${ms(Math.max(...w.keys), 2)}`,
      baseline: `cat echo under the same PTY ${dist(w.echo, 2)}`,
      target: '≤ 16 ms',
      verdict: median(w.keys) <= 16 ? 'pass' : 'miss',
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
