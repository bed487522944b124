// `vopono servers PROVIDER [-c PROTOCOL] [--prefix P] [--json]`: the synced configs of a provider,
// as upstream's table (provider, protocol, config file) plus country and city where known.
import type { Command } from 'commander';

interface ServersOpts {
  protocol?: string;
  prefix?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('servers')
    .description('List the synced servers (config files) of a provider')
    .argument(
      '<provider>',
      'provider name (mullvad, azirevpn, ivpn, pia, protonvpn, nordvpn, airvpn, mozillavpn)',
    )
    .option('-c, --protocol <protocol>', 'only this protocol (wireguard, openvpn)')
    .option(
      '--prefix <prefix>',
      'only servers matching this prefix (country, host or file name), as --server does',
    )
    .option('--json', 'print JSON instead of a table')
    .action(async (provider: string, opts: ServersOpts) => {
      const { runServers } = await import('../../providers/servers-command.js');
      // `vopono servers mullvad | head`: a reader that goes away early is not an error
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(0);
        throw err;
      });
      const code = runServers(provider, opts, process.stdout, process.env);
      if (code !== 0) process.exitCode = code;
    });
}
