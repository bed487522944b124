// Builds dist/: one ESM bundle per entry with code splitting, so `vopono exec` loads only the
// client code (no React, no daemon), and the native launcher with plain cc.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, chmodSync, writeFileSync } from 'node:fs';

const watch = process.argv.includes('--watch');
mkdirSync('dist', { recursive: true });

await build({
  entryPoints: { vopono: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // native modules stay in node_modules; everything else is bundled
  // react-devtools-core: Ink imports it only when DEV=true; it is not installed
  external: ['koffi', 'node-pty', 'msgpackr-extract', 'react-devtools-core'],
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __vCreateRequire } from 'node:module'; const require = __vCreateRequire(import.meta.url);",
  },
  jsx: 'automatic',
  logLevel: watch ? 'info' : 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});
chmodSync('dist/vopono.js', 0o755);

execFileSync('make', ['-s', '-C', 'native'], { stdio: 'inherit' });
writeFileSync('dist/.built', new Date().toISOString() + '\n');
