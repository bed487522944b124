import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // e2e files build real namespaces and users; run files one at a time to keep the 2-core machine calm
    fileParallelism: false,
    pool: 'forks',
  },
});
