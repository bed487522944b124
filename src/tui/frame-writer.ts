// Flicker-free output for a full-screen Ink app. Ink runs in debug mode against this object, so
// every render hands over the whole frame as plain lines; we write only the lines that changed,
// each at its absolute row, inside one synchronized-output block (terminals that know mode 2026
// show the update at once; others still get just the changed lines, never an erased screen).
//
// (Ink 6.8's own incremental mode is off by one line when a frame ends with a newline, and its
// standard mode erases and rewrites the whole frame on every change.)
import { EventEmitter } from 'node:events';

const BSU = '\x1b[?2026h';
const ESU = '\x1b[?2026l';

export interface TerminalLike {
  columns: number;
  rows: number;
  write(data: string): boolean;
  on(event: 'resize', listener: () => void): unknown;
  off(event: 'resize', listener: () => void): unknown;
}

export class FrameWriter extends EventEmitter {
  readonly isTTY = true;
  private previous: string[] = [];
  private full = true;
  private readonly onResize = (): void => {
    this.full = true;
    this.emit('resize');
  };
  /** Frames drawn so far (for tests and the benchmark). */
  frames = 0;

  constructor(private readonly terminal: TerminalLike) {
    super();
    terminal.on('resize', this.onResize);
  }

  get columns(): number {
    return this.terminal.columns || 80;
  }

  get rows(): number {
    return this.terminal.rows || 24;
  }

  /** Ink writes each whole frame here. */
  write(frame: string): boolean {
    if (frame === '') return true;
    const lines = frame.split('\n');
    const rows = this.rows;
    let out = '';
    if (this.full) out += '\x1b[H\x1b[2J';
    for (let i = 0; i < rows; i++) {
      const line = lines[i] ?? '';
      if (!this.full && line === (this.previous[i] ?? '')) continue;
      out += `\x1b[${i + 1};1H\x1b[2K${line}`;
    }
    this.previous = lines;
    this.full = false;
    if (out !== '') {
      this.frames++;
      this.terminal.write(BSU + out + ESU);
    }
    return true;
  }

  /** Draw everything again on the next frame (after another program used the screen). */
  invalidate(): void {
    this.full = true;
  }

  detach(): void {
    this.terminal.off('resize', this.onResize);
  }
}

/** Ink's render() takes a NodeJS.WriteStream; it uses only what FrameWriter has. */
export function isInkStdout(x: object): x is NodeJS.WriteStream {
  return 'write' in x && 'columns' in x && 'rows' in x && 'on' in x && 'off' in x && 'isTTY' in x;
}
