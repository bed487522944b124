// Builds dist/: one ESM bundle per entry with code splitting, so `vopono exec` loads only the
// client code (no React, no daemon), and the native launcher with plain cc. Built into a fresh
// directory, then swapped in, so no stale chunk survives and a running build is never half-seen.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const out = resolve(`dist.tmp-${process.pid}`);

// msgpackr's Node entry probes for its optional native add-on (and loads its stream classes) at
// import: ~4 ms of every `vopono exec` for nothing at our message sizes. Take its plain-JS entry.
const msgpackrPlainJs = {
  name: 'msgpackr-plain-js',
  setup(b) {
    b.onResolve({ filter: /^msgpackr$/ }, () => ({ path: resolve('node_modules/msgpackr/index.js') }));
  },
};
rmSync(out, { recursive: true, force: true });

await build({
  entryPoints: { vopono: 'src/cli/main.ts' },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // native modules stay in node_modules; everything else is bundled (ink's devtools are never loaded)
  external: ['koffi', 'node-pty', 'react-devtools-core'],
  plugins: [msgpackrPlainJs],
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __vCreateRequire } from 'node:module'; const require = __vCreateRequire(import.meta.url);",
  },
  jsx: 'automatic',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});
chmodSync(`${out}/vopono.js`, 0o755);
execFileSync('make', ['-s', '-B', '-C', 'native', `OUT=${out}/vopono-launch`], { stdio: 'inherit' });
writeFileSync(`${out}/.built`, new Date().toISOString() + '\n');

const old = resolve(`dist.old-${process.pid}`);
if (existsSync('dist')) renameSync('dist', old);
renameSync(out, 'dist');
rmSync(old, { recursive: true, force: true });
