// A program under a real PTY (node-pty) whose output is read as a screen (@xterm/headless), for
// the TUI end-to-end test and the TUI benchmark.
import xterm from '@xterm/headless';
import * as pty from 'node-pty';

export interface ScreenOptions {
  cols?: number;
  rows?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export class PtyScreen {
  readonly term: xterm.Terminal;
  readonly proc: pty.IPty;
  readonly exited: Promise<{ exitCode: number; signal?: number }>;
  private exitInfo: { exitCode: number; signal?: number } | undefined;
  /** Everything the program wrote, raw. */
  output = '';
  private pending = Promise.resolve();
  /** Checks run after each chunk the terminal has parsed (waitFor wakes on output, not a timer). */
  private readonly waiters = new Set<() => void>();

  constructor(file: string, args: string[], opts: ScreenOptions = {}) {
    const cols = opts.cols ?? 80;
    const rows = opts.rows ?? 24;
    this.term = new xterm.Terminal({ cols, rows, allowProposedApi: true, scrollback: 1000 });
    this.proc = pty.spawn(file, args, {
      name: 'xterm-256color',
      cols,
      rows,
      cwd: opts.cwd ?? process.cwd(),
      env: opts.env ?? process.env,
    });
    this.proc.onData((d) => {
      this.output += d;
      this.pending = this.pending.then(
        () =>
          new Promise<void>((r) =>
            this.term.write(d, () => {
              r();
              for (const w of [...this.waiters]) w();
            }),
          ),
      );
    });
    // answer the terminal queries a program may send (cursor position, device attributes)
    this.term.onData((d) => this.proc.write(d));
    this.exited = new Promise((resolve) => {
      this.proc.onExit((e) => {
        this.exitInfo = e;
        resolve(e);
      });
    });
  }

  get pid(): number {
    return this.proc.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** The visible screen, one string per row, right-trimmed. */
  lines(): string[] {
    const b = this.term.buffer.active;
    const out: string[] = [];
    for (let y = 0; y < this.term.rows; y++)
      out.push((b.getLine(b.viewportY + y)?.translateToString(true) ?? '').replace(/\s+$/, ''));
    return out;
  }

  text(): string {
    return this.lines().join('\n');
  }

  /**
   * The normal screen with its scrollback (what apps printed while the TUI stepped aside), with
   * lines the terminal wrapped joined again.
   */
  normalText(): string {
    const b = this.term.buffer.normal;
    let out = '';
    for (let y = 0; y < b.length; y++) {
      const line = b.getLine(y);
      if (!line) continue;
      if (y > 0 && !line.isWrapped) out += '\n';
      out += line.translateToString(true);
    }
    return out.replace(/[ \t]+$/gm, '');
  }

  /** True while the alternate screen (the TUI's) is shown. */
  get altScreen(): boolean {
    return this.term.buffer.active.type === 'alternate';
  }

  async settle(): Promise<void> {
    await this.pending;
  }

  write(data: string): void {
    this.proc.write(data);
  }

  resize(cols: number, rows: number): void {
    this.term.resize(cols, rows);
    this.proc.resize(cols, rows);
  }

  /** Waits until the screen satisfies `what`; fails with the screen in the message. */
  async waitFor(what: string | RegExp | ((s: PtyScreen) => boolean), timeoutMs = 10_000): Promise<void> {
    const test = (): boolean => {
      if (typeof what === 'function') return what(this);
      const t = this.text();
      return typeof what === 'string' ? t.includes(what) : what.test(t);
    };
    await this.settle();
    if (test()) return;
    await new Promise<void>((resolve, reject) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        clearInterval(poll);
        this.waiters.delete(check);
        if (ok) resolve();
        else
          reject(
            new Error(
              `screen never showed ${String(what)}${this.hasExited ? ' (program exited)' : ''}; it shows:\n${this.text()}`,
            ),
          );
      };
      const check = (): void => {
        if (test()) done(true);
      };
      this.waiters.add(check);
      // the exit, a resize or a parse callback without new output: look again now and then
      const poll = setInterval(() => {
        check();
        if (this.hasExited) void this.settle().then(() => done(test()));
      }, 50);
      const timer = setTimeout(() => done(test()), timeoutMs);
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.hasExited) return;
    try {
      process.kill(this.proc.pid, signal);
    } catch {
      /* gone */
    }
  }
}
