// `vopono demo`: a real app through a real local WireGuard tunnel, no VPN account (root).
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('demo')
    .description('Run curl through a real WireGuard tunnel to a throwaway local peer (no account; root)')
    .option(
      '--socket <path>',
      'daemon to use (default: $VOPONO_SOCKET or /run/vopono.sock; a temporary one if none runs)',
    )
    .option('--temporary-daemon', 'always start a temporary daemon, even if one is running')
    .addHelpText(
      'after',
      '\nBuilds a stand-in VPN provider in its own network namespace (wireguard-go, dnsmasq, a web\n' +
        'server reachable only through the tunnel), runs `curl` through `vopono exec` into it, shows\n' +
        "the server's answer, then removes everything. Needs root: sudo vopono demo",
    )
    .action(async (opts: { socket?: string; temporaryDaemon?: boolean }) => {
      if (process.getuid?.() !== 0) {
        process.stderr.write(
          'vopono demo: needs root to build the stand-in provider; run: sudo vopono demo\n',
        );
        process.exit(1);
      }
      (await import('../../doctor/epipe.js')).exitQuietlyOnEpipe();
      const { runDemo } = await import('../../doctor/demo.js');
      const { defaultSocketPath } = await import('../client.js');
      process.exitCode = await runDemo({
        socketPath: defaultSocketPath(opts.socket),
        useRunningDaemon: opts.temporaryDaemon !== true,
      });
    });
}
