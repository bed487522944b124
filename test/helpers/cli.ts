// Runs the built CLI as a test user against a test daemon: to completion, or in the background
// with its output collected and its end awaited.
import { spawn, type ChildProcess } from 'node:child_process';
import { clientCli, type TestDaemon } from './daemon.js';
import { run, waitFor, type RunResult } from './run.js';
import type { TestUser } from './users.js';

export interface CliOptions {
  input?: string | Buffer;
  cwd?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

function launch(u: TestUser, d: Pick<TestDaemon, 'socketPath'>, args: string[]): string[] {
  return u.asUser([process.execPath, clientCli(), ...args]);
}

/** `vopono ARGS` as the user, to completion. */
export function voponoAs(
  u: TestUser,
  d: Pick<TestDaemon, 'socketPath'>,
  args: string[],
  opts: CliOptions = {},
): Promise<RunResult> {
  const argv = launch(u, d, args);
  return run(argv[0]!, argv.slice(1), {
    env: u.env({ VOPONO_SOCKET: d.socketPath, ...opts.env }),
    cwd: opts.cwd ?? u.home,
    input: opts.input,
    timeoutMs: opts.timeoutMs ?? 30_000,
  });
}

export interface Background {
  child: ChildProcess;
  /** stdout and stderr so far. */
  out(): string;
  /** Resolves to the signal name the client died of, or `exit N`. */
  closed: Promise<string>;
  /** Waits until the output contains the text (e.g. an app's "ready"). */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
}

/** `vopono ARGS` as the user, left running. */
export function voponoInBackground(
  u: TestUser,
  d: Pick<TestDaemon, 'socketPath'>,
  args: string[],
  opts: { stdin?: 'pipe' | 'ignore' } = {},
): Background {
  const argv = launch(u, d, args);
  const child = spawn(argv[0]!, argv.slice(1), {
    env: u.env({ VOPONO_SOCKET: d.socketPath }),
    cwd: u.home,
    stdio: [opts.stdin ?? 'pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const closed = new Promise<string>((r) => child.on('close', (c, s) => r(s ?? `exit ${c}`)));
  return {
    child,
    out: () => out,
    closed,
    waitFor: (text, timeoutMs = 10_000) =>
      waitFor(() => out.includes(text), timeoutMs, `"${text}" from the app`),
  };
}
