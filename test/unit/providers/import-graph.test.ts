// `vopono exec` and the TUI import src/providers/index.ts on every start: its static imports must
// stay small (no sync code, HTTP, zip, TOML, crypto); those load with dynamic import() when used.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../../src/providers');

function staticGraph(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^import\s+(?!type\b)[^'"]*from\s+'([^']+)';/gm)) {
    const spec = m[1]!;
    if (spec.startsWith('.')) staticGraph(resolve(dirname(file), spec.replace(/\.js$/, '.ts')), seen);
    else seen.add(spec);
  }
  return seen;
}

describe('import cost of the catalogue', () => {
  it('index.ts statically loads only the registry, paths and server listing', () => {
    const names = [...staticGraph(join(SRC, 'index.ts'))]
      .map((f) => (f.startsWith('/') ? f.slice(SRC.length + 1) : f))
      .sort();
    expect(names).toEqual([
      'index.ts',
      'node:fs',
      'node:os',
      'node:path',
      'paths.ts',
      'registry.ts',
      'servers.ts',
    ]);
  });
  it('user-config.ts loads the TOML parser only when a file is there', () => {
    const names = [...staticGraph(join(SRC, 'user-config.ts'))]
      .map((f) => (f.startsWith('/') ? f.slice(SRC.length + 1) : f))
      .sort();
    expect(names).not.toContain('smol-toml');
  });
});
