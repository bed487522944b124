// Copies dist/ and the native modules the client loads into a fresh world-readable directory.
import { chmodSync, cpSync, existsSync, mkdtempSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function makeClientCopy(): string {
  if (!existsSync(join(REPO, 'dist', 'vopono.js')))
    throw new Error('dist/ is missing: run `npm run build` first');
  const dir = mkdtempSync('/tmp/vopono-cli-');
  chmodSync(dir, 0o755);
  cpSync(join(REPO, 'dist'), join(dir, 'dist'), { recursive: true });
  for (const m of ['koffi', '@koromix', 'node-pty', 'msgpackr'])
    if (existsSync(join(REPO, 'node_modules', m)))
      cpSync(join(REPO, 'node_modules', m), join(dir, 'node_modules', m), {
        recursive: true,
        dereference: true,
      });
  cpSync(join(REPO, 'package.json'), join(dir, 'package.json'));
  return dir;
}
