// Plain helpers shared by the store and the components: command lines, option fields, times.

/** Why a command line can't be split, in words for the form. */
export class CommandLineError extends Error {}

const SHELL_SYNTAX = /[|&;<>()$`*?~{}[\]!#]/;

/**
 * Splits a command typed in the launch form into argv, with shell-like quoting ('...', "...",
 * backslash). A line that uses shell syntax outside quotes (pipes, redirections, variables,
 * globs, ...) runs under `sh -c` unchanged, as the user would expect from a prompt.
 */
export function splitCommand(line: string): string[] {
  const argv: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  let usesShell = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else cur += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) cur += line[++i]!;
      else {
        if (c === '$' || c === '`') usesShell = true;
        cur += c;
      }
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < line.length) cur += line[++i]!;
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) argv.push(cur);
      cur = '';
      inWord = false;
    } else {
      if (SHELL_SYNTAX.test(c)) usesShell = true;
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new CommandLineError(`unmatched ${quote} in the command`);
  if (inWord) argv.push(cur);
  if (argv.length === 0) throw new CommandLineError('type a command to run');
  if (usesShell) return ['/bin/sh', '-c', line.trim()];
  return argv;
}

/** "8080, 9090" or "8080 9090" → [8080, 9090]; throws naming the bad item. */
export function parsePorts(text: string): number[] {
  const items = text.split(/[\s,]+/).filter((s) => s !== '');
  return items.map((s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || n < 1 || n > 65535) throw new CommandLineError(`'${s}' is not a port (1-65535)`);
    return n;
  });
}

export function parseList(text: string): string[] {
  return text.split(/[\s,]+/).filter((s) => s !== '');
}

export type ExitStatus = { code: number } | { signal: NodeJS.Signals };

export function describeExit(status: ExitStatus): string {
  return 'code' in status ? `exit ${status.code}` : `killed by ${status.signal}`;
}

/** 3s, 5m 02s, 2h 05m, 3d 04h */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, '0')}h`;
}

/** Cuts a string to `width` columns, marking a cut with "~". Plain ASCII on purpose: Ink measures
 * every line with string-width, which is ~3000x slower for a line with any non-ASCII character. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text.padEnd(width);
  if (width === 1) return '~';
  return text.slice(0, width - 1) + '~';
}

/** The first index of the window of `height` rows that keeps `selected` in view, centred. */
export function windowStart(selected: number, count: number, height: number): number {
  if (count <= height) return 0;
  const start = selected - Math.floor(height / 2);
  return Math.max(0, Math.min(start, count - height));
}

/**
 * Word-wraps `text` into at most `maxLines` lines of `width` columns; a longer text ends with "~".
 * Words longer than a line are cut.
 */
export function wrapLines(text: string, width: number, maxLines: number): string[] {
  if (width <= 0 || maxLines <= 0) return [];
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    let w = word;
    while (w.length > width) {
      if (cur !== '') {
        lines.push(cur);
        cur = '';
      }
      lines.push(w.slice(0, width));
      w = w.slice(width);
    }
    if (cur === '') cur = w;
    else if (cur.length + 1 + w.length <= width) cur += ' ' + w;
    else {
      lines.push(cur);
      cur = w;
    }
  }
  if (cur !== '') lines.push(cur);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = fit(kept[maxLines - 1]! + ' ' + lines[maxLines]!, width).trimEnd();
  if (!kept[maxLines - 1]!.endsWith('~'))
    kept[maxLines - 1] = fit(kept[maxLines - 1]!, width - 1).trimEnd() + '~';
  return kept;
}
