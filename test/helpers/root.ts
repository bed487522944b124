// E2E tests need root (namespaces, users). Under CI=true a missing root is a failure, not a skip.
import { describe } from 'vitest';

export const isRoot = process.getuid?.() === 0;

if (!isRoot && process.env.CI === 'true') {
  throw new Error('e2e tests need root and CI=true is set: run them as root (sudo ./scripts/test.sh)');
}
if (!isRoot) process.stderr.write('skipping e2e tests: not root (run sudo ./scripts/test.sh)\n');

/** describe() for tests that need root: skipped locally without root, fatal in CI. */
export const describeRoot: typeof describe = isRoot ? describe : (describe.skip as typeof describe);
