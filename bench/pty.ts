// The PTY bridge under a real terminal (node-pty runs the CLI, as a user's terminal would):
// throughput of a large output against `script -qc` (one PTY relay too) in the same run, and the
// echo delay of one keystroke against plain `cat` and `script -qc cat` under node-pty.
// Run: npx tsx bench/pty.ts (as root).
import { spawn as ptySpawn, type IPty } from 'node-pty';
import { dist, emit, log, main, median, ms, now, startBenchDaemon, type BenchDaemon } from './lib.js';

const MB = Number(process.env.BENCH_PTY_MB ?? 100);
const ROUNDS = Number(process.env.BENCH_PTY_ROUNDS ?? 3);
const KEYS = Number(process.env.BENCH_KEYS ?? 200);

function ptyRun(file: string, args: string[], env: NodeJS.ProcessEnv): IPty {
  return ptySpawn(file, args, {
    name: 'xterm-256color',
    cols: 120,
    rows: 40,
    cwd: '/',
    env: env as Record<string, string>,
    encoding: null,
  } as Parameters<typeof ptySpawn>[2]);
}

/** Bytes/s from the first output byte to the exit, and the total bytes seen. */
function throughput(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 180_000,
): Promise<{ bps: number; bytes: number; code: number }> {
  return new Promise((resolve, reject) => {
    const p = ptyRun(file, args, env);
    let bytes = 0;
    let first = NaN;
    let last = NaN;
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`timed out: ${file} ${args.join(' ')}`));
    }, timeoutMs);
    p.onData((d: string | Buffer) => {
      const t = now();
      if (bytes === 0) first = t;
      bytes += typeof d === 'string' ? Buffer.byteLength(d) : d.length;
      last = t;
    });
    p.onExit(({ exitCode }) => {
      clearTimeout(timer);
      // node-pty may deliver the tail just after exit
      setTimeout(() => resolve({ bps: (bytes / (last - first)) * 1000, bytes, code: exitCode }), 100);
    });
  });
}

async function ptyThroughput(d: BenchDaemon, ns: string): Promise<void> {
  const gen = `head -c ${MB}M /dev/zero | base64`;
  const vopono = [d.cli[1]!, 'exec', '--custom-netns-name', ns, '-p', 'none', '--', 'sh', '-c', gen];
  const script = ['-qc', `sh -c '${gen}'`, '/dev/null'];
  const v: number[] = [];
  const s: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const a = await throughput(d.cli[0]!, vopono, d.env);
    const b = await throughput('script', script, process.env);
    // the ceiling of this reader: the same command straight on node-pty, no relay at all
    const c = await throughput('sh', ['-c', gen], process.env);
    if (a.code !== 0 || b.code !== 0) throw new Error(`exit status vopono ${a.code}, script ${b.code}`);
    log(
      `  round ${i + 1}: vopono ${(a.bps / 1e6).toFixed(1)} MB/s (${a.bytes} B), script ${(b.bps / 1e6).toFixed(1)} MB/s (${b.bytes} B), ` +
        `no relay ${(c.bps / 1e6).toFixed(1)} MB/s`,
    );
    direct.push(c.bps);
    if (Math.abs(a.bytes - b.bytes) > 64) log(`  note: byte counts differ by ${a.bytes - b.bytes}`);
    v.push(a.bps);
    s.push(b.bps);
  }
  const ratio = median(v) / median(s);
  emit({
    figure: `PTY bridge throughput (${MB} MiB base64)`,
    measured: `${(median(v) / 1e6).toFixed(1)} MB/s (${(ratio * 100).toFixed(0)} % of script)`,
    baseline: `script -qc ${(median(s) / 1e6).toFixed(1)} MB/s (no relay ${(median(direct) / 1e6).toFixed(1)} MB/s)`,
    target: '≥ 70 % of script',
    verdict: ratio >= 0.7 ? 'pass' : 'miss',
  });
}

/** Echo delays of single keystrokes: write one byte, wait until it comes back. */
async function echoDelays(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  n: number,
): Promise<number[]> {
  const p = ptyRun(file, args, env);
  let seen = '';
  let waiter: (() => void) | undefined;
  let want = '';
  p.onData((d: string | Buffer) => {
    seen += d.toString();
    if (waiter && seen.includes(want)) {
      const w = waiter;
      waiter = undefined;
      w();
    }
  });
  let exited = false;
  p.onExit(() => (exited = true));
  const waitEcho = (ch: string, timeoutMs: number): Promise<boolean> =>
    new Promise((resolve) => {
      want = ch;
      if (seen.includes(ch)) return resolve(true);
      const t = setTimeout(() => {
        waiter = undefined;
        resolve(false);
      }, timeoutMs);
      waiter = () => {
        clearTimeout(t);
        resolve(true);
      };
    });
  try {
    // ready: the first keystroke echoes once the app is running (the CLI needs ~100 ms to start)
    let ready = false;
    for (let i = 0; i < 100 && !ready && !exited; i++) {
      seen = '';
      p.write('.');
      ready = await waitEcho('.', 100);
    }
    if (!ready) throw new Error(`no echo from ${file} ${args.join(' ')}`);
    await new Promise((r) => setTimeout(r, 200));
    const out: number[] = [];
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    for (let i = 0; i < n; i++) {
      const ch = letters[i % letters.length]!;
      seen = '';
      const t0 = now();
      p.write(ch);
      if (!(await waitEcho(ch, 2000))) throw new Error(`keystroke ${i} not echoed`);
      out.push(now() - t0);
      if (i % 50 === 49) {
        p.write('\r'); // keep the line short (canonical mode)
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    return out;
  } finally {
    p.write('\r\x04');
    const end = Date.now() + 5000;
    while (!exited && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    if (!exited) p.kill('SIGKILL');
  }
}

async function keystrokeEcho(d: BenchDaemon, ns: string): Promise<void> {
  const v = await echoDelays(
    d.cli[0]!,
    [d.cli[1]!, 'exec', '--custom-netns-name', ns, '-p', 'none', '--', 'cat'],
    d.env,
    KEYS,
  );
  const c = await echoDelays('cat', [], process.env, KEYS);
  const s = await echoDelays('script', ['-qc', 'cat', '/dev/null'], process.env, KEYS);
  log(`  vopono exec -- cat   ${dist(v, 3)}`);
  log(`  plain cat            ${dist(c, 3)}`);
  log(`  script -qc cat       ${dist(s, 3)}`);
  const added = median(v) - median(c);
  emit({
    figure: `keystroke echo through the bridge (${KEYS} keys)`,
    measured: `${ms(median(v), 3)} (+${ms(added, 3)} over plain cat, +${ms(median(v) - median(s), 3)} over script)`,
    baseline: `plain cat ${ms(median(c), 3)}; script -qc cat ${ms(median(s), 3)}`,
    target: '≤ 2 ms added median',
    verdict: added <= 2 ? 'pass' : 'miss',
  });
}

await main('pty', async () => {
  const d = await startBenchDaemon();
  const ns = `${d.prefix}_pty`;
  try {
    const made = await d.vopono(['exec', '-p', 'none', '--custom-netns-name', ns, '--create-netns-only']);
    if (made.code !== 0) throw new Error(`--create-netns-only failed: ${made.stderr}`);
    await ptyThroughput(d, ns);
    await keystrokeEcho(d, ns);
    await d.vopono(['stop', ns]);
  } finally {
    await d.stop();
  }
});
