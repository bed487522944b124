// Runs the TUI on the terminal and steps aside for launched apps.
//
// Ink 6 has no suspend, so stepping aside means: unmount Ink, put the terminal back in cooked
// mode, close the stream we read keys from (it is our own /dev/tty stream, never process.stdin,
// so nothing of ours can read a keystroke meant for the app), leave the alternate screen, run
// the exec session (which takes the terminal in raw mode itself and restores it), then open a
// fresh /dev/tty stream and render again from the store, which kept every bit of state.
import { render, type Instance } from 'ink';
import { openSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import type { ExecOptions } from '../protocol/messages.js';
import type { Catalogue } from './catalogue.js';
import { App } from './components/App.js';
import type { ExitStatus } from './format.js';
import type { DaemonConnection, LaunchHooks, LaunchRequest } from './ports.js';
import { createTuiStore, emptyForm, type FormState, type TuiStore } from './store.js';
import { FrameWriter, isInkStdout } from './frame-writer.js';

// alternate screen, cursor hidden, no auto-wrap (a line wider than a tiny terminal is clipped
// instead of wrapping and scrolling the frame)
const ALT_SCREEN_ON = '\x1b[?1049h\x1b[?25l\x1b[?7l';
const ALT_SCREEN_OFF = '\x1b[?7h\x1b[?25h\x1b[?1049l';

export interface RunTuiOptions {
  socketPath: string;
  catalogue: Catalogue;
  connect(): Promise<DaemonConnection>;
  isUnavailable(err: unknown): boolean;
  /**
   * Gets a launch ready while the TUI is still shown (the provider's config is read as the user),
   * so an error stays in place without the screen flashing; then runs it with the terminal.
   */
  prepare(req: LaunchRequest): Promise<PreparedLaunch>;
  defaultOptions(provider: string): ExecOptions;
  /** Where progress lines go while the TUI is stepped aside (default: stderr). */
  log?: (line: string) => void;
  /** The provider selected first, and the launch form's starting values (from config.toml). */
  preferredProvider?: string;
  preferredServer?: string;
  /** Recent commands from earlier sessions, and where to keep them. */
  recent?: string[];
  saveRecent?(recent: readonly string[]): void;
  form?: Partial<Omit<FormState, 'focus'>>;
}

export interface PreparedLaunch {
  /** The exec session of `vopono exec` (fd passing, raw mode, signals, sudo fallback). */
  run(hooks: LaunchHooks & { onProgress?: (msg: string) => void }): Promise<ExitStatus>;
}

export interface TuiHandle {
  store: TuiStore;
  /** Settles when the user quits. */
  done: Promise<void>;
}

/** Opens the TUI on the controlling terminal. */
export function runTui(opts: RunTuiOptions): TuiHandle {
  const stdout = process.stdout;
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  let ink: Instance | undefined;
  let input: ReadStream | undefined;
  let frames: FrameWriter | undefined;
  let altScreen = false;
  let resolveDone: () => void = () => {};
  let rejectDone: (err: unknown) => void = () => {};
  const done = new Promise<void>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });

  const size = (): { cols: number; rows: number } => {
    try {
      const [cols, rows] = stdout.getWindowSize();
      return { cols, rows };
    } catch {
      return { cols: stdout.columns || 80, rows: stdout.rows || 24 };
    }
  };

  const restoreOnExit = (): void => {
    if (altScreen) stdout.write(ALT_SCREEN_OFF);
    altScreen = false;
  };
  process.on('exit', restoreOnExit);

  /** Everything mount() did, undone at once (for a signal: no waiting on anything). */
  const unmountNow = (): void => {
    const i = ink;
    const s = input;
    ink = undefined;
    input = undefined;
    frames?.detach();
    frames = undefined;
    try {
      i?.unmount();
    } catch {
      /* tearing down anyway */
    }
    if (s) {
      try {
        if (s.isRaw) s.setRawMode(false);
      } catch {
        /* the terminal may be gone (SIGHUP) */
      }
      s.destroy();
    }
    try {
      restoreOnExit();
    } catch {
      /* the terminal may be gone */
    }
  };

  // A signal to the TUI (kill, a closed terminal): restore the terminal, then die of that signal
  // as the shell expects. While an app owns the terminal, the exec session forwards the signal to
  // it; after TERM or HUP the TUI then goes away when the app has, instead of coming back.
  let pendingSignal: NodeJS.Signals | undefined;
  const dieOf = (sig: NodeJS.Signals): void => {
    for (const [name, h] of signalHandlers) process.off(name, h);
    process.off('exit', restoreOnExit);
    store.getState().dispose();
    process.kill(process.pid, sig);
  };
  const signalHandlers: [NodeJS.Signals, () => void][] = (
    ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT'] as const
  ).map((sig) => [
    sig,
    () => {
      if (ink) {
        unmountNow();
        dieOf(sig);
      } else if (sig === 'SIGTERM' || sig === 'SIGHUP') pendingSignal ??= sig;
      // ^C or ^\ while the terminal is cooked for the app's setup (or a sudo password prompt)
      // reach us too: the session forwards them, and the launch alone is cancelled
    },
  ]);
  for (const [name, h] of signalHandlers) process.on(name, h);

  const mount = (): void => {
    const fd = openSync('/dev/tty', 'r');
    input = new ReadStream(fd);
    input.on('error', () => {});
    // raw before the first frame: a key typed while Ink starts is kept for it, not echoed by the
    // terminal (an echoed Enter would scroll the screen under the frame)
    input.setRawMode(true);
    stdout.write(ALT_SCREEN_ON);
    altScreen = true;
    const { cols, rows } = size();
    store.getState().setViewport(cols, rows);
    frames = new FrameWriter(stdout);
    if (!isInkStdout(frames)) throw new Error('frame writer is not a stream');
    ink = render(
      <App store={store} uid={process.getuid?.() ?? -1} socketPath={opts.socketPath} now={Date.now} />,
      {
        stdin: input,
        stdout: frames,
        stderr: process.stderr,
        // debug: Ink hands every whole frame to the FrameWriter, which writes only changed lines
        debug: true,
        exitOnCtrlC: false,
        patchConsole: false,
      },
    );
  };

  const unmount = async (): Promise<void> => {
    const i = ink;
    const s = input;
    const f = frames;
    ink = undefined;
    input = undefined;
    frames = undefined;
    if (i) {
      i.unmount();
      await i.waitUntilExit().catch(() => {});
      i.cleanup();
    }
    f?.detach();
    if (s) {
      if (s.isRaw) s.setRawMode(false);
      s.destroy();
    }
    if (altScreen) stdout.write(ALT_SCREEN_OFF);
    altScreen = false;
  };

  const store = createTuiStore(
    {
      catalogue: opts.catalogue,
      socketPath: opts.socketPath,
      connect: opts.connect,
      isUnavailable: opts.isUnavailable,
      defaultOptions: opts.defaultOptions,
      uid: process.getuid?.() ?? -1,
      cwd: process.cwd(),
      env: Object.entries(process.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`])),
      now: Date.now,
      retryMs: 3000,
      preferredProvider: opts.preferredProvider,
      preferredServer: opts.preferredServer,
      saveRecent: opts.saveRecent,
      async stepAside(req: LaunchRequest, hooks: LaunchHooks): Promise<ExitStatus> {
        const launch = await opts.prepare(req);
        // leave the key handler that called us before tearing its stream down
        await new Promise<void>((r) => setImmediate(r));
        await unmount();
        try {
          return await launch.run({ ...hooks, onProgress: (msg) => log(`vopono: ${msg}`) });
        } finally {
          if (pendingSignal) dieOf(pendingSignal);
          else if (!store.getState().quitting) mount();
        }
      },
      quit(): void {
        setImmediate(() => {
          unmount().then(
            () => {
              process.off('exit', restoreOnExit);
              for (const [name, h] of signalHandlers) process.off(name, h);
              resolveDone();
            },
            (err: unknown) => {
              process.off('exit', restoreOnExit);
              for (const [name, h] of signalHandlers) process.off(name, h);
              rejectDone(err);
            },
          );
        });
      },
    },
    { form: { ...emptyForm(), ...opts.form }, recent: opts.recent ?? [] },
  );

  store.getState().init();
  mount();
  return { store, done };
}
