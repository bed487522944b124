// `vopono demo`: the whole thing on this machine with no VPN account. A stand-in provider (the
// peer world: wireguard-go, DNS and a web server that exists only inside the tunnel) is built,
// a real app (curl) is run through the daemon into a WireGuard tunnel to it, and the answer shows
// the tunnel address the server saw. Then everything is removed.
import { spawnSync } from 'node:child_process';
import { startTunnelRun } from './tunnel-run.js';

export interface DemoOptions {
  socketPath: string;
  /** Use the running daemon when one answers (default), else start a temporary one. */
  useRunningDaemon: boolean;
  out?: (text: string) => void;
  cli?: string[];
}

const hasCurl = (): boolean => spawnSync('sh', ['-c', 'command -v curl'], { stdio: 'ignore' }).status === 0;

/** Returns the exit status for the process. */
export async function runDemo(o: DemoOptions): Promise<number> {
  const say = o.out ?? ((t: string): void => void process.stdout.write(t));
  say('vopono demo: a real app through a real WireGuard tunnel, on this machine, no VPN account needed.\n\n');
  let step = 0;
  const run = await startTunnelRun({
    socketPath: o.socketPath,
    useRunningDaemon: o.useRunningDaemon,
    ...(o.cli ? { cli: o.cli } : {}),
    log: (m) => say(`  ${++step}. ${m[0]!.toUpperCase()}${m.slice(1)}\n`),
  });
  const w = run.world;
  let status = 0;
  try {
    say(
      `     provider namespace ${w.nsName}: wireguard-go listening on ${w.peerIp}:51820, DNS for ${w.domain},\n` +
        `     a web server on ${w.tunnelIp}:${w.httpPort} that only the tunnel reaches\n` +
        `     daemon: ${run.daemonPid !== undefined ? `temporary (pid ${run.daemonPid}) on ${run.socketPath}` : run.socketPath}\n`,
    );
    const url = `http://${w.domain}:${w.httpPort}/`;
    const app = hasCurl()
      ? ['curl', '-sS', '--max-time', '10', url]
      : [
          process.execPath,
          '-e',
          `fetch(${JSON.stringify(url)}).then(r=>r.text()).then(t=>process.stdout.write(t))`,
        ];
    say(`  ${++step}. Running an app in a new namespace whose only way out is the tunnel:\n`);
    say(
      `     $ vopono exec --custom ${run.configPath} --protocol wireguard --keep-alive --custom-netns-name ${run.nsName} -- ${app.join(' ')}\n`,
    );
    const t0 = Date.now();
    const r = await run.exec(app);
    const ms = Date.now() - t0;
    const answer = r.stdout.trim();
    say(
      answer
        .split('\n')
        .map((l) => `     | ${l}\n`)
        .join('') || '     | (no output)\n',
    );
    const seen = /^vopono-peer (\S+)$/.exec(answer)?.[1];
    if (r.code === 0 && seen !== undefined && [w.clientTunnelIp, w.clientTunnelIp6].includes(seen)) {
      say(
        `\n  The server saw the request come from ${seen}: the app's WireGuard tunnel address\n` +
          `  (${w.clientTunnelIp} / ${w.clientTunnelIp6}). The name ${w.domain} was answered by the provider's DNS\n` +
          `  through the tunnel. Namespace created, tunnel up and app run in ${ms} ms.\n`,
      );
    } else {
      status = 1;
      say(
        `\n  The app did not get the tunnel's answer (exit ${String(r.code)}).\n${r.stderr.trim().replace(/^/gm, '     ')}\n`,
      );
      say('  Run `sudo vopono doctor` to find out why.\n');
    }
  } finally {
    say(
      `  ${++step}. Cleaning up: the namespace, the tunnel, the provider${run.daemonPid !== undefined ? ', the temporary daemon' : ''}\n`,
    );
    const errors = await run.cleanup();
    if (errors.length > 0) {
      status = 1;
      say(`     cleanup problems: ${errors.join('; ')}\n`);
    } else say(`     nothing left behind (prefix ${run.prefix})\n`);
  }
  if (status === 0) {
    say(
      '\nNow with your own VPN:\n' +
        "  vopono sync                                  # fetch your provider's configs (upstream layout)\n" +
        '  vopono exec -p mullvad -s se -- firefox      # or: vopono exec --custom my.conf -- firefox\n' +
        '  vopono                                       # the TUI\n',
    );
  }
  return status;
}
