// The README's first command on a fresh clone: `sudo ./scripts/demo.sh` sets the clone up
// (system packages, dependencies, build) and runs `vopono demo`, which shows curl's answer from
// a web server that exists only at the far end of a real WireGuard tunnel, then removes it all.
// The clone reuses this checkout's node_modules (hard links) since `npm ci` needs the network;
// everything else — the build, the launcher, the daemon, the peer — comes from the clone.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { leftovers, REPO } from '../../helpers/daemon.js';
import { describeRoot } from '../../helpers/root.js';
import { run } from '../../helpers/run.js';

describeRoot('vopono demo on a fresh clone', () => {
  let clone: string;

  beforeAll(() => {
    clone = join(mkdtempSync('/tmp/vopono-clone-'), 'vopono');
    execFileSync('git', ['clone', '--quiet', REPO, clone]);
    execFileSync('cp', ['-al', join(REPO, 'node_modules'), join(clone, 'node_modules')]);
    // the lock file is not newer than the installed tree, so setup.sh does not run `npm ci`
    utimesSync(join(clone, 'package-lock.json'), new Date(0), new Date(0));
  });

  afterAll(() => {
    if (clone) rmSync(join(clone, '..'), { recursive: true, force: true });
  });

  it('sudo ./scripts/demo.sh: curl gets the answer from the far end of the tunnel; nothing is left', async () => {
    expect(existsSync(join(clone, 'dist'))).toBe(false);
    const env: NodeJS.ProcessEnv = { ...process.env, VOPONO_SOCKET: join(clone, 'no-daemon-here.sock') };
    const r = await run(join(clone, 'scripts/demo.sh'), [], { cwd: clone, env, timeoutMs: 300_000 });
    const out = r.stdout;
    expect(out, r.stderr).toContain('vopono demo: a real app through a real WireGuard tunnel');
    expect(out).toMatch(/Building a throwaway WireGuard peer/);
    expect(out).toMatch(/Starting a temporary daemon on a private socket/);
    expect(out).toMatch(
      /\$ vopono exec --custom \S+ --protocol wireguard .* -- curl -sS --max-time 10 http:\/\/test\.vopono:8080\//,
    );
    const seen = /^ {5}\| vopono-peer (\S+)$/m.exec(out)?.[1];
    expect(seen, out).toMatch(/^(10\.238\.\d+\.2|fd37:[0-9a-f]+::2)$/);
    expect(out).toContain(
      `The server saw the request come from ${seen!}: the app's WireGuard tunnel address`,
    );
    const prefix = /nothing left behind \(prefix (\w+)\)/.exec(out)?.[1];
    expect(prefix, out).toBeDefined();
    expect(await leftovers(prefix!)).toEqual([]);
    expect(r.code).toBe(0);
  }, 320_000);
});
