// Recent commands of the launch form, kept between sessions in the user's state directory
// ($XDG_STATE_HOME/vopono/tui-history, else ~/.local/state/vopono/tui-history), one a line.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export const MAX_RECENT = 8;

export function historyPath(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/')
      ? env.XDG_STATE_HOME
      : join(env.HOME ?? homedir(), '.local', 'state');
  return join(base, 'vopono', 'tui-history');
}

/** The saved commands, newest first; nothing when the file is missing or unreadable. */
export function loadRecent(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && l.length <= 4096 && !l.includes('\0'))
    .slice(0, MAX_RECENT);
}

/** Saves the commands (best effort: a read-only home only loses the history). */
export function saveRecent(path: string, recent: readonly string[]): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, recent.slice(0, MAX_RECENT).join('\n') + '\n', { mode: 0o600 });
    renameSync(tmp, path);
  } catch {
    /* history is a convenience */
  }
}
