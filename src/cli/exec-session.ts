// Runs one app through the daemon (or, without one, through a one-shot root side started with
// sudo): passes fds 0/1/2, puts the terminal in raw mode for an interactive app and restores it,
// forwards window size changes and signals, and returns the app's exit status.
import { isatty } from 'node:tty';
import { FORWARDED_SIGNALS, type ExecOptions } from '../protocol/messages.js';
import { connectSocket, Conversation, DaemonError, DaemonUnavailable, defaultSocketPath } from './client.js';
import { enterRawMode, windowSize } from './terminal.js';

export interface ExecRequest {
  argv: string[];
  cwd: string;
  env: string[];
  options: ExecOptions;
}

export type ExitStatus = { code: number } | { signal: NodeJS.Signals };

export interface ExecSessionOptions {
  socketPath?: string;
  onStarted?: (pid: number, namespace: string) => void;
  onProgress?: (message: string) => void;
  /** Say so on stderr when the sudo fallback is used (default true). */
  announceFallback?: boolean;
}

/** Exit status for vopono's own failures (setup, daemon errors), as `env`/container tools use. */
export const SETUP_FAILURE = 125;

export async function runExecSession(req: ExecRequest, opts: ExecSessionOptions = {}): Promise<ExitStatus> {
  const socketPath = defaultSocketPath(opts.socketPath);
  let conv: Conversation;
  let fallback: { done: Promise<string> } | undefined;
  try {
    conv = new Conversation(await connectSocket(socketPath));
  } catch (err) {
    if (!(err instanceof DaemonUnavailable)) throw err;
    const { startOneShot } = await import('./sudo-fallback.js');
    if (opts.announceFallback !== false)
      process.stderr.write(`vopono: ${err.message}; running this command through sudo\n`);
    const oneShot = await startOneShot(err);
    conv = new Conversation(oneShot.socket);
    fallback = oneShot;
  }

  const interactive = isatty(0);
  const tty = { stdin: interactive, stdout: isatty(1), stderr: isatty(2) };
  const winsize = windowSize(interactive ? 0 : 1);
  const umask = process.umask();
  conv.start(
    {
      t: 'exec',
      argv: req.argv,
      cwd: req.cwd,
      env: req.env,
      options: req.options,
      tty,
      ...(winsize ? { winsize } : {}),
      umask,
    },
    [0, 1, 2],
  );

  let restoreTerminal = (): void => undefined;
  const handlers: [string, () => void][] = [];
  const cleanup = (): void => {
    restoreTerminal();
    for (const [sig, h] of handlers) process.removeListener(sig, h);
  };
  try {
    try {
      await conv.welcome();
    } catch (err) {
      if (fallback && err instanceof DaemonError && err.code === 'closed')
        throw new DaemonError('sudo-failed', await fallback.done, fallbackHint());
      throw err;
    }
    for (const sig of FORWARDED_SIGNALS) {
      const h = (): void => conv.send({ t: 'signal', signal: sig });
      handlers.push([sig, h]);
      process.on(sig, h);
    }
    if (interactive) {
      const h = (): void => {
        const ws = windowSize(0);
        if (ws) conv.send({ t: 'resize', ...ws });
      };
      handlers.push(['SIGWINCH', h]);
      process.on('SIGWINCH', h);
    }
    for (;;) {
      const m = await conv.next();
      if (m === null)
        throw new DaemonError(
          'closed',
          'the daemon closed the connection before the app finished',
          'see the daemon log (journalctl -u vopono)',
        );
      switch (m.t) {
        case 'progress':
          opts.onProgress?.(m.message);
          break;
        case 'started':
          // raw only now: setup progress above printed on a normal terminal
          if (interactive && m.pid > 0) restoreTerminal = enterRawMode(0);
          opts.onStarted?.(m.pid, m.namespace);
          break;
        case 'error':
          throw new DaemonError(m.code, m.message, m.hint, m.exitCode);
        case 'exit':
          conv.close();
          if (m.signal !== null && isSignal(m.signal)) return { signal: m.signal };
          return { code: m.code ?? SETUP_FAILURE };
        default:
          break;
      }
    }
  } finally {
    cleanup();
    conv.close();
    // The one-shot root side tears the namespace down after the exit status: return only once it
    // is done, so a terminal closing right after vopono returns (SIGHUP to the root side's session)
    // cannot cut the teardown short, and nothing is left behind when vopono has exited.
    if (fallback) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([fallback.done, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
      clearTimeout(timer);
    }
  }
}

function isSignal(s: string): s is NodeJS.Signals {
  return /^SIG[A-Z0-9]+$/.test(s);
}

function fallbackHint(): string {
  return (
    'either start the daemon (sudo systemctl enable --now vopono.socket) and join the vopono group ' +
    '(sudo usermod -aG vopono $USER, then log in again), or allow yourself to run vopono with sudo'
  );
}
