// A real terminal for tests: node-pty runs a program, @xterm/headless renders what it prints, so a
// test can type keys and read both the raw bytes and the screen a person would see.
import xterm from '@xterm/headless';
import { spawn as ptySpawn, type IPty } from 'node-pty';
import { waitFor } from './run.js';

export interface TestTerminal {
  pty: IPty;
  /** Every byte the program printed so far. */
  output(): string;
  /** Text printed since the last mark(). */
  sinceMark(): string;
  mark(): void;
  type(keys: string): void;
  resize(cols: number, rows: number): void;
  /** Waits until the text since the mark matches. */
  expect(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** The screen as lines of text. */
  screen(): string[];
  exited: Promise<{ exitCode: number; signal?: number }>;
  kill(): void;
}

export function openTerminal(
  file: string,
  args: string[],
  opts: { env: Record<string, string>; cwd: string; cols?: number; rows?: number },
): TestTerminal {
  const cols = opts.cols ?? 80;
  const rows = opts.rows ?? 24;
  const pty = ptySpawn(file, args, { name: 'xterm-256color', cols, rows, cwd: opts.cwd, env: opts.env });
  const term = new xterm.Terminal({ cols, rows, scrollback: 1000, allowProposedApi: true });
  let all = '';
  let markAt = 0;
  pty.onData((d) => {
    all += d;
    term.write(d);
  });
  const exited = new Promise<{ exitCode: number; signal?: number }>((resolve) =>
    pty.onExit((e) => resolve(e)),
  );
  const t: TestTerminal = {
    pty,
    output: () => all,
    sinceMark: () => all.slice(markAt),
    mark: () => {
      markAt = all.length;
    },
    type: (keys) => pty.write(keys),
    resize: (c, r) => {
      pty.resize(c, r);
      term.resize(c, r);
    },
    async expect(pattern, timeoutMs = 10_000) {
      const test = (s: string): boolean =>
        typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s);
      try {
        await waitFor(() => test(all.slice(markAt)), timeoutMs, String(pattern));
      } catch {
        throw new Error(
          `terminal never showed ${String(pattern)}; it showed:\n${JSON.stringify(all.slice(markAt).slice(-2000))}`,
        );
      }
      return all.slice(markAt);
    },
    screen() {
      const lines: string[] = [];
      const buf = term.buffer.active;
      for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
      return lines;
    },
    exited,
    kill: () => {
      try {
        process.kill(pty.pid, 'SIGKILL');
      } catch {
        // gone
      }
    },
  };
  return t;
}

/** Lets xterm's async write queue catch up before reading the screen. */
export function settle(ms = 100): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
