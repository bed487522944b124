// `npm run bench`: runs every bench file (bench/*.ts but the harness) as its own child process,
// one after the other, then prints one table of all figures. Each bench prints its details as it
// goes and hands its rows over through VOPONO_BENCH_RESULTS (see emit() in bench/lib.ts).
// Select some: npm run bench -- exec pty. Every bench also runs alone: npx tsx bench/exec.ts.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printTable, type Row } from './lib.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const HARNESS = new Set(['lib.ts', 'run.ts']);
/** Quiet figures first; the heavy ones (hundreds of processes or namespaces) at the end. */
const ORDER = ['exec', 'pty', 'rss', 'vpn', 'tui', 'scale'];
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 20 * 60_000);

function benchFiles(selected: string[]): string[] {
  const all = readdirSync(HERE)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !HARNESS.has(f) && !/^[_.]/.test(f)) // _x.ts: scratch
    .map((f) => basename(f, '.ts'))
    .sort((a, b) => {
      const ia = ORDER.indexOf(a);
      const ib = ORDER.indexOf(b);
      return (ia < 0 ? ORDER.length : ia) - (ib < 0 ? ORDER.length : ib) || a.localeCompare(b);
    });
  if (selected.length === 0) return all;
  const unknown = selected.filter((s) => !all.includes(s));
  if (unknown.length > 0) throw new Error(`no such bench: ${unknown.join(', ')} (have: ${all.join(', ')})`);
  return all.filter((b) => selected.includes(b));
}

function runOne(
  name: string,
  resultsFile: string,
): Promise<{ code: number | null; signal: string | null; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, `${name}.ts`)], {
      stdio: 'inherit',
      env: { ...process.env, VOPONO_BENCH_RESULTS: resultsFile },
    });
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      process.stdout.write(
        `bench ${name}: over ${TIMEOUT_MS / 1000} s, stopping it (it cleans up on SIGTERM)\n`,
      );
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    }, TIMEOUT_MS);
    // ^C here reaches the child too (same process group); wait for its clean-up
    const onSignal = (): void => undefined;
    process.on('SIGINT', onSignal);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      process.removeListener('SIGINT', onSignal);
      resolve({ code, signal, ms: Date.now() - t0 });
    });
  });
}

async function mainRun(): Promise<void> {
  const benches = benchFiles(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'vopono-bench-results-'));
  const all: (Row & { bench: string })[] = [];
  let failures = 0;
  try {
    for (const name of benches) {
      const file = join(dir, `${name}.jsonl`);
      process.stdout.write(`\n######## bench/${name}.ts\n`);
      const r = await runOne(name, file);
      const rows: Row[] = existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Row)
        : [];
      if (r.code !== 0) failures++;
      if (r.code !== 0 && !rows.some((x) => x.verdict === 'error'))
        rows.push({
          figure: name,
          measured: 'failed',
          baseline: '',
          target: '',
          verdict: 'error',
          note: `exit ${r.code ?? r.signal}`,
        });
      process.stdout.write(
        `######## bench/${name}.ts done in ${(r.ms / 1000).toFixed(1)} s (exit ${r.code ?? r.signal})\n`,
      );
      all.push(...rows.map((x) => ({ ...x, bench: name })));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`\n======== summary (${new Date().toISOString()}, node ${process.version})\n`);
  printTable(all.map((r) => ({ ...r, figure: `${r.bench}: ${r.figure}` })));
  const notes = all.filter((r) => r.note && r.verdict !== 'pass');
  if (notes.length > 0) {
    process.stdout.write('\nnotes:\n');
    for (const r of notes) process.stdout.write(`  ${r.bench}: ${r.figure}: ${r.note}\n`);
  }
  const counts = (v: string): number => all.filter((r) => r.verdict === v).length;
  process.stdout.write(
    `\n${counts('pass')} pass, ${counts('miss')} miss, ${counts('skipped')} skipped, ${counts('error')} error, ${counts('info')} info` +
      (failures ? `; ${failures} bench file(s) failed` : '') +
      '\n',
  );
  process.exit(failures > 0 ? 1 : 0);
}

await mainRun();
