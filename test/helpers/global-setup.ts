// Once per test run: a world-readable copy of the built CLI for the throwaway users (the checkout
// may sit under /root), removed when the run ends.
import { rmSync } from 'node:fs';
import { makeClientCopy } from './client-copy.js';

export default function setup(): () => void {
  if (process.getuid?.() !== 0) return () => undefined;
  const dir = makeClientCopy();
  process.env.VOPONO_TEST_CLIENT_DIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
