import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { historyPath, loadRecent, saveRecent } from '../../../src/tui/history.js';
import { createTuiStore } from '../../../src/tui/store.js';
import { NO_KEY, handleInput } from '../../../src/tui/keys.js';
import { fakeDeps, tick } from './fixtures.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'vopono-tui-hist-'));
  dirs.push(d);
  return d;
}

describe('TUI recent commands between sessions', () => {
  it('lives in the XDG state dir, else ~/.local/state', () => {
    expect(historyPath({ XDG_STATE_HOME: '/s', HOME: '/h' })).toBe('/s/vopono/tui-history');
    expect(historyPath({ HOME: '/h' })).toBe('/h/.local/state/vopono/tui-history');
    expect(historyPath({ XDG_STATE_HOME: 'relative', HOME: '/h' })).toBe(
      '/h/.local/state/vopono/tui-history',
    );
  });

  it('saves privately and loads newest first, at most 8, skipping junk', () => {
    const path = join(tmp(), 'state', 'vopono', 'tui-history');
    expect(loadRecent(path)).toEqual([]);
    saveRecent(path, ['htop', 'firefox', 'bash']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadRecent(path)).toEqual(['htop', 'firefox', 'bash']);
    writeFileSync(path, ['a', '', '   ', 'x'.repeat(5000), ...'bcdefghijk'].join('\n'));
    expect(loadRecent(path)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
  });

  it('the store saves the list on each launch', async () => {
    const path = join(tmp(), 'tui-history');
    const deps = fakeDeps({ daemon: false });
    deps.saveRecent = (r) => saveRecent(path, r);
    const store = createTuiStore(deps, { recent: ['old'] });
    store.getState().init();
    await tick();
    handleInput(store.getState, 'G', NO_KEY);
    handleInput(store.getState, '\r', { ...NO_KEY, return: true });
    handleInput(store.getState, 'htop', NO_KEY);
    handleInput(store.getState, '\r', { ...NO_KEY, return: true });
    await tick();
    expect(readFileSync(path, 'utf8')).toBe('htop\nold\n');
    store.getState().dispose();
  });
});
