// Scale: 200 execs into one namespace at once (through the client library in-process, and as 200
// whole CLI processes), then 200 namespaces side by side (--create-netns-only, checked, stopped),
// and where a namespace's creation time goes (the daemon's `ip`/`nft` steps, timed one by one).
// Run: npx tsx bench/scale.ts (as root).
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { connectSocket, Conversation } from '../src/cli/client.js';
import { expectClean, leftovers } from '../test/helpers/daemon.js';
import {
  dist,
  emit,
  log,
  main,
  median,
  ms,
  noneOptions,
  now,
  run,
  startBenchDaemon,
  vmRssKb,
  type BenchDaemon,
} from './lib.js';

const N = Number(process.env.BENCH_SCALE ?? 200);

async function execViaLibrary(d: BenchDaemon, ns: string, i: number, out: string): Promise<number> {
  const fd = openSync(out, 'w');
  const devnull = openSync('/dev/null', 'r');
  try {
    const conv = new Conversation(await connectSocket(d.socketPath));
    conv.start(
      {
        t: 'exec',
        argv: ['echo', String(i)],
        cwd: '/',
        env: ['PATH=/usr/bin:/bin'],
        options: noneOptions({ customNetnsName: ns }),
        tty: { stdin: false, stdout: false, stderr: false },
      },
      [devnull, fd, fd],
    );
    try {
      await conv.welcome();
      for (;;) {
        const m = await conv.next();
        if (m === null) throw new Error('connection closed');
        if (m.t === 'error') throw new Error(`${m.code}: ${m.message}`);
        if (m.t === 'exit') return m.code ?? 128;
      }
    } finally {
      conv.close();
    }
  } finally {
    closeSync(fd);
    closeSync(devnull);
  }
}

async function concurrentExecs(d: BenchDaemon, ns: string, dir: string): Promise<void> {
  // a: N sessions at once from one process (the daemon's concurrency alone)
  const t0 = now();
  const codes = await Promise.allSettled(
    Array.from({ length: N }, (_, i) => execViaLibrary(d, ns, i, join(dir, `o${i}`))),
  );
  const libWall = now() - t0;
  let libOk = 0;
  const libErrors: string[] = [];
  codes.forEach((c, i) => {
    if (c.status === 'fulfilled' && c.value === 0 && readFileSync(join(dir, `o${i}`), 'utf8') === `${i}\n`)
      libOk++;
    else if (libErrors.length < 3)
      libErrors.push(c.status === 'rejected' ? String(c.reason) : `#${i} exit ${c.value}`);
  });
  log(`  ${N} sessions at once via the client library: ${libOk}/${N} correct in ${ms(libWall)}`);
  emit({
    figure: `concurrent execs, one namespace (${N} sessions, client library)`,
    measured: `${libOk}/${N} correct, wall ${ms(libWall, 0)}`,
    baseline: '',
    target: `${N} at once, all correct`,
    verdict: libOk === N ? 'pass' : 'miss',
    note: libErrors.length ? `errors: ${libErrors.join('; ')}` : undefined,
  });

  // b: N whole CLI processes at once
  const t1 = now();
  const results = await Promise.all(
    Array.from(
      { length: N },
      (_, i) =>
        new Promise<{ ok: boolean; why: string }>((resolve) => {
          const c = spawn(
            d.cli[0]!,
            [d.cli[1]!, 'exec', '--custom-netns-name', ns, '-p', 'none', '--', 'echo', String(i)],
            {
              env: d.env,
              stdio: ['ignore', 'pipe', 'pipe'],
            },
          );
          let out = '';
          let err = '';
          c.stdout.on('data', (b: Buffer) => (out += b));
          c.stderr.on('data', (b: Buffer) => (err += b));
          const timer = setTimeout(() => c.kill('SIGKILL'), 120_000);
          c.on('close', (code) => {
            clearTimeout(timer);
            resolve({
              ok: code === 0 && out === `${i}\n`,
              why: `#${i} exit ${code} out ${JSON.stringify(out)} ${err.trim()}`,
            });
          });
        }),
    ),
  );
  const cliWall = now() - t1;
  const cliOk = results.filter((r) => r.ok).length;
  log(`  ${N} CLI processes at once: ${cliOk}/${N} correct in ${ms(cliWall)}`);
  // baseline: N `node -e 0` at once on the same machine
  const t2 = now();
  await Promise.all(
    Array.from({ length: N }, () => run(process.execPath, ['-e', '0'], { timeoutMs: 120_000 })),
  );
  const nodeWall = now() - t2;
  emit({
    figure: `concurrent execs, one namespace (${N} CLI processes)`,
    measured: `${cliOk}/${N} correct, wall ${ms(cliWall, 0)}`,
    baseline: `${N}× node -e 0 at once ${ms(nodeWall, 0)}`,
    target: `${N} at once, all correct`,
    verdict: cliOk === N ? 'pass' : 'miss',
    note:
      cliOk < N
        ? `first failures: ${results
            .filter((r) => !r.ok)
            .slice(0, 3)
            .map((r) => r.why)
            .join('; ')}`
        : undefined,
  });
}

async function manyNamespaces(d: BenchDaemon): Promise<void> {
  const names = Array.from({ length: N }, (_, i) => `${d.prefix}_m${i}`);
  const create: number[] = [];
  let created = 0;
  let firstError = '';
  for (const name of names) {
    const r = await d.vopono(
      ['exec', '-p', 'none', '--custom-netns-name', name, '--create-netns-only', '--silent'],
      { timeoutMs: 60_000 },
    );
    if (r.code === 0) {
      created++;
      create.push(r.ms);
    } else {
      firstError ||= `${name}: ${r.stderr.trim()}`;
      break; // one failure is the figure; do not hammer on
    }
  }
  // all of them there and working: the namespace exists with its address, and a route to the host
  const nsList = (await run('ip', ['netns', 'list'])).stdout;
  let working = 0;
  for (const name of names.slice(0, created)) {
    if (!nsList.includes(name)) continue;
    const a = await run('ip', ['-n', name, '-o', '-4', 'addr', 'show']);
    const rt = await run('ip', ['-n', name, '-4', 'route', 'show', 'default']);
    if (a.stdout.includes(`${d.pool}.`) && rt.stdout.includes('default via')) working++;
  }
  const rssAll = vmRssKb(d.pid);
  // what grows with the count: the daemon's list (reads the registry) and the `ip` steps themselves
  const listed = await d.vopono(['list', '--json']);
  log(`  vopono list --json with ${created} namespaces: ${ms(listed.ms)}`);
  if (created > 0) await creationSteps(d, `with ${created} namespaces present`);
  log(`  ${created} created (${working} verified), daemon RSS with them: ${(rssAll / 1024).toFixed(1)} MB`);
  const stop: number[] = [];
  let stopped = 0;
  for (const name of names.slice(0, created)) {
    const r = await d.vopono(['stop', name], { timeoutMs: 60_000 });
    if (r.code === 0) {
      stopped++;
      stop.push(r.ms);
    } else firstError ||= `stop ${name}: ${r.stderr.trim()}`;
  }
  let clean = true;
  try {
    await expectClean(d.prefix, 30_000);
  } catch (e) {
    clean = false;
    firstError ||= String(e);
  }
  log(`  create per namespace (whole CLI): ${dist(create)}`);
  log(`  stop per namespace (whole CLI):   ${dist(stop)}`);
  // does the cost grow with the number of namespaces already there?
  const k = Math.max(1, Math.floor(N / 10));
  log(
    `  create: first ${k} ${ms(median(create.slice(0, k)))}, last ${k} ${ms(median(create.slice(-k)))}; ` +
      `stop (in creation order, so the first stops see ${N} namespaces): first ${k} ${ms(median(stop.slice(0, k)))}, last ${k} ${ms(median(stop.slice(-k)))}`,
  );
  const ok = created === N && working === N && stopped === N && clean;
  emit({
    figure: `namespaces side by side (${N})`,
    measured: `${working}/${N} up and verified, ${stopped} stopped, clean ${clean}; create ${ms(median(create), 0)}/ns, stop ${ms(median(stop), 0)}/ns`,
    baseline: '',
    target: `${N}`,
    verdict: ok ? 'pass' : 'miss',
    note: firstError || undefined,
  });
}

/** The daemon's creation steps for a `none` namespace, replayed and timed one by one. */
async function creationSteps(d: BenchDaemon, when: string): Promise<void> {
  const p = `${d.prefix}z`;
  const steps: Record<string, number[]> = {};
  const timed = async (label: string, file: string, args: string[], input?: string): Promise<void> => {
    const t0 = now();
    const r = await run(file, args, input === undefined ? {} : { input });
    (steps[label] ??= []).push(now() - t0);
    if (r.code !== 0) throw new Error(`${file} ${args.join(' ')}: ${r.stderr}`);
  };
  const uplink =
    /\bdev\s+(\S+)/.exec((await run('ip', ['-4', 'route', 'show', 'default'])).stdout)?.[1] ?? 'lo';
  const [a, b] = d.pool.split('.');
  const rounds = 10;
  try {
    for (let i = 1; i <= rounds; i++) {
      const ns = `${p}${i}`;
      const host = `${p}${i}_d`;
      const inner = `${p}${i}_s`;
      const t0 = now();
      // choosing a free index: routes, link names and nft table names already taken
      await timed('ip route show table all (free /24)', 'ip', ['-4', 'route', 'show', 'table', 'all']);
      await timed('ip -o link show (free index)', 'ip', ['-o', 'link', 'show']);
      await timed('nft list tables (free index)', 'nft', ['list', 'tables']);
      await timed('ip netns add', 'ip', ['netns', 'add', ns]);
      await timed('ip link add veth', 'ip', [
        'link',
        'add',
        host,
        'type',
        'veth',
        'peer',
        'name',
        inner,
        'netns',
        ns,
      ]);
      await timed('ip addr add', 'ip', ['addr', 'add', `${a}.${b}.${200 + i}.1/24`, 'dev', host]);
      await timed('ip link set up', 'ip', ['link', 'set', host, 'up']);
      await timed(
        'ip -n NS -batch (lo, addr, up, route)',
        'ip',
        ['-n', ns, '-batch', '-'],
        `link set lo up\naddr add ${a}.${b}.${200 + i}.2/24 dev ${inner}\nlink set ${inner} up\nroute add default via ${a}.${b}.${200 + i}.1\n`,
      );
      await timed('ip route show default (uplink)', 'ip', ['-4', 'route', 'show', 'default']);
      await timed(
        'nft -f (NAT table)',
        'nft',
        ['-f', '-'],
        `table ip ${p}${i}_nat {\n chain postrouting { type nat hook postrouting priority srcnat; policy accept; ip saddr ${a}.${b}.${200 + i}.0/24 oifname "${uplink}" masquerade; }\n}\n`,
      );
      (steps['total (replayed)'] ??= []).push(now() - t0);
    }
    for (let i = 1; i <= rounds; i++) {
      const t0 = now();
      await timed('ip netns pids (teardown)', 'ip', ['netns', 'pids', `${p}${i}`]);
      await timed('nft delete table', 'nft', ['delete', 'table', 'ip', `${p}${i}_nat`]);
      await timed('ip link del', 'ip', ['link', 'del', `${p}${i}_d`]);
      await timed('ip netns del', 'ip', ['netns', 'del', `${p}${i}`]);
      (steps['teardown total (replayed)'] ??= []).push(now() - t0);
    }
  } finally {
    for (const item of await leftovers(p)) log(`  (removing replay leftover ${item})`);
    for (let i = 1; i <= rounds; i++) {
      await run('nft', ['delete', 'table', 'ip', `${p}${i}_nat`]);
      await run('ip', ['link', 'del', `${p}${i}_d`]);
      await run('ip', ['netns', 'del', `${p}${i}`]);
    }
  }
  log(
    `  namespace creation replayed step by step, ${when} (${rounds} rounds, spawned from node like the daemon does):`,
  );
  for (const [k, xs] of Object.entries(steps)) log(`    ${k.padEnd(40)} ${dist(xs, 2)}`);
}

await main('scale', async () => {
  const d = await startBenchDaemon();
  const dir = mkdtempSync('/tmp/vopono-bench-scale-');
  chmodSync(dir, 0o755);
  const ns = `${d.prefix}_many`;
  try {
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
    await concurrentExecs(d, ns, dir);
    await d.vopono(['stop', ns]);
    await expectClean(d.prefix, 30_000);
    await manyNamespaces(d);
    await creationSteps(d, 'no other namespace of ours present');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await d.stop();
  }
});
