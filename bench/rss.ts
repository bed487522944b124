// Daemon idle RSS (VmRSS of /proc/<pid>/status): just after start, and idle again after a
// workload (execs in pipe and PTY mode, namespaces made and removed, sessions at once).
// Baseline: an idle `node -e` process of the same Node. Run: npx tsx bench/rss.ts (as root).
import { spawn as ptySpawn } from 'node-pty';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { connectSocket, Conversation } from '../src/cli/client.js';
import { emit, log, main, noneOptions, sleep, startBenchDaemon, vmRssKb, type BenchDaemon } from './lib.js';

const mb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`;

async function session(d: BenchDaemon, ns: string): Promise<void> {
  const devnull = openSync('/dev/null', 'r+');
  try {
    const conv = new Conversation(await connectSocket(d.socketPath));
    conv.start(
      {
        t: 'exec',
        argv: ['true'],
        cwd: '/',
        env: ['PATH=/usr/bin:/bin'],
        options: noneOptions({ customNetnsName: ns }),
        tty: { stdin: false, stdout: false, stderr: false },
      },
      [devnull, devnull, devnull],
    );
    await conv.welcome();
    for (;;) {
      const m = await conv.next();
      if (m === null || m.t === 'exit') break;
      if (m.t === 'error') throw new Error(`${m.code}: ${m.message}`);
    }
    conv.close();
  } finally {
    closeSync(devnull);
  }
}

async function ptySession(d: BenchDaemon, ns: string): Promise<void> {
  const p = ptySpawn(
    d.cli[0]!,
    [
      d.cli[1]!,
      'exec',
      '--custom-netns-name',
      ns,
      '-p',
      'none',
      '--',
      'sh',
      '-c',
      'head -c 2M /dev/zero | base64',
    ],
    {
      cols: 100,
      rows: 30,
      env: d.env as Record<string, string>,
    },
  );
  p.onData(() => undefined);
  await new Promise<void>((resolve) => p.onExit(() => resolve()));
}

await main('rss', async () => {
  // baseline: an idle node process (the floor of any Node daemon)
  const idleNode = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await sleep(1000);
  const nodeKb = vmRssKb(idleNode.pid!);
  idleNode.kill('SIGKILL');

  const d = await startBenchDaemon();
  try {
    await sleep(1000);
    const startKb = vmRssKb(d.pid);
    log(`  idle node ${mb(nodeKb)}; daemon after start ${mb(startKb)}`);
    let peakKb = startKb;
    const phase = (label: string): void => {
      const kb = vmRssKb(d.pid);
      peakKb = Math.max(peakKb, kb);
      log(`    after ${label.padEnd(34)} ${mb(kb)}`);
    };
    const ns = `${d.prefix}_rss`;
    const made = await d.vopono([
      'exec',
      '-p',
      'none',
      '--custom-netns-name',
      ns,
      '--create-netns-only',
      '--silent',
    ]);
    if (made.code !== 0) throw new Error(`--create-netns-only failed: ${made.stderr}`);
    // the same workload twice: growth that stops after the first round is retention (V8 heap,
    // malloc arenas), growth that repeats is a leak
    const idle: number[] = [];
    let perSessionKb = 0;
    for (let round = 1; round <= 2; round++) {
      log(`  workload round ${round}:`);
      for (let i = 0; i < 30; i++) {
        const r = await d.vopono(['exec', '--custom-netns-name', ns, '-p', 'none', '--', 'true']);
        if (r.code !== 0) throw new Error(`exec failed: ${r.stderr}`);
      }
      phase('30 CLI execs (pipe mode)');
      for (let i = 0; i < 5; i++) await ptySession(d, ns);
      phase('5 PTY sessions (2 MiB output each)');
      const before = vmRssKb(d.pid);
      await Promise.all(Array.from({ length: 200 }, () => session(d, ns)));
      phase('200 sessions at once');
      if (round === 1) perSessionKb = (vmRssKb(d.pid) - before) / 200;
      for (let i = 0; i < 20; i++) {
        const name = `${d.prefix}_r${i}`;
        const r = await d.vopono([
          'exec',
          '-p',
          'none',
          '--custom-netns-name',
          name,
          '--create-netns-only',
          '--silent',
        ]);
        if (r.code !== 0) throw new Error(`namespace ${name}: ${r.stderr}`);
      }
      phase('20 namespaces created');
      for (let i = 0; i < 20; i++) await d.vopono(['stop', `${d.prefix}_r${i}`]);
      phase('20 namespaces stopped');
      // idle again: a few seconds (timers, GC) with nothing to do
      await sleep(5000);
      idle.push(vmRssKb(d.pid));
      log(`    idle 5 s later                           ${mb(idle[idle.length - 1]!)}`);
    }
    await d.vopono(['stop', ns]);
    const afterKb = idle[0]!;
    log(
      `  daemon peak during the workload ${mb(peakKb)}; idle after round 1 ${mb(idle[0]!)}, after round 2 ${mb(idle[1]!)}`,
    );
    emit({
      figure: 'daemon idle RSS',
      measured: `${mb(afterKb)} idle after the workload (after start ${mb(startKb)}, after a 2nd round ${mb(idle[1]!)}, peak ${mb(peakKb)})`,
      baseline: `idle node ${mb(nodeKb)}`,
      target: '≤ 70 MB',
      verdict: Math.max(startKb, ...idle) <= 70 * 1024 ? 'pass' : 'miss',
      note: `200 sessions at once grew it by ${perSessionKb.toFixed(0)} kB a session (round 1), kept after they ended`,
    });
  } finally {
    await d.stop();
  }
});
