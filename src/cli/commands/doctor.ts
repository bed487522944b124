// `vopono doctor [--json]`: says why vopono does (not) work on this machine, with a fix per
// problem; exit status 1 when a check fails. The checks live in src/doctor/ (loaded on use).
import { Option, type Command } from 'commander';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('Check this machine for everything vopono needs, with a fix for each problem')
    .option('--json', 'print the report as JSON (for scripts)')
    .option('--socket <path>', 'daemon socket to check (default: $VOPONO_SOCKET or /run/vopono.sock)')
    .addOption(
      new Option('--no-self-test', 'skip the end-to-end self-test (root: builds a throwaway WireGuard peer)'),
    )
    .addHelpText(
      'after',
      '\nChecks: kernel features (netns, veth, nftables, TUN, WireGuard), programs (ip, nft, wg,\n' +
        'wireguard-go, iptables, openvpn), the launcher, the daemon (socket, access, protocol\n' +
        'version), the config directory; then, as root, an end-to-end self-test: a throwaway\n' +
        'WireGuard peer, an app run through it, the killswitch tested by stopping the peer.\n' +
        'Exit status: 0 when nothing failed, 1 otherwise.',
    )
    .action(async (opts: { json?: boolean; socket?: string; selfTest: boolean }) => {
      (await import('../../doctor/epipe.js')).exitQuietlyOnEpipe();
      const { runDoctor, renderCheck, renderSummary } = await import('../../doctor/doctor.js');
      const { defaultSocketPath } = await import('../client.js');
      const color = !opts.json && process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
      const report = await runDoctor({
        socketPath: defaultSocketPath(opts.socket),
        selfTest: opts.selfTest,
        onProgress: (m) => {
          if (!opts.json) process.stderr.write(`       ... ${m}\n`);
        },
        onCheck: (c) => {
          if (!opts.json) process.stdout.write(renderCheck(c, color));
        },
      });
      if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else process.stdout.write(renderSummary(report));
      process.exitCode = report.ok ? 0 : 1;
    });
}
