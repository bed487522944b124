// `vopono sync [PROVIDER] [-c PROTOCOL]`: downloads a provider's server list / configs into
// ~/.config/vopono/<alias>/<protocol>/. Interactive on a terminal; with flags or VOPONO_SYNC_* env
// variables it runs without questions (for scripts). Never writes a half-finished directory.
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('sync')
    .description('Download server lists and configs for a VPN provider (interactive on a terminal)')
    .argument('[provider]', 'provider name (asked on a terminal when omitted)')
    .option('-c, --protocol <protocol>', "wireguard or openvpn (default: the provider's default, or asked)")
    .option('--non-interactive', 'never ask: take every answer from flags/env, else fail')
    .option('--account <number>', 'Mullvad account number (env VOPONO_SYNC_ACCOUNT)')
    .option('--username <name>', 'account user name (env VOPONO_SYNC_USERNAME)')
    .option(
      '--password <password>',
      'account password (prefer env VOPONO_SYNC_PASSWORD: flags are visible in ps)',
    )
    .option('--port <port>', 'server port to connect to')
    .option('--variant <name>', 'config set: udp/tcp/... (provider specific; see the interactive choices)')
    .option(
      '--device <new|pubkey>',
      'WireGuard device: "new" to register a new key, or an existing public key',
    )
    .option(
      '--reuse-device <yes|no>',
      'reuse the WireGuard key of the last sync if still registered (default yes)',
    )
    .option(
      '--private-key <key>',
      'private key of an existing WireGuard device (prefer env VOPONO_SYNC_PRIVATE_KEY)',
    )
    .option('--ip <address>', 'iVPN: WireGuard address assigned to your key')
    .option('--dns-choice <name>', 'iVPN: standard, antitracker or hardcore')
    .option('--api-key <key>', 'AirVPN API key (env AIRVPN_API_KEY or VOPONO_SYNC_API_KEY)')
    .option('--cookie <AUTH-x=y>', 'ProtonVPN session cookie AUTH-xxx=yyy (env VOPONO_SYNC_COOKIE)')
    .option('--tier <free|plus>', 'ProtonVPN account tier')
    .option('--category <standard|securecore>', 'ProtonVPN Plus: standard or Secure Core configs')
    .option('--replace-keys <yes|no>', 'AzireVPN: give an existing device a new keypair')
    .option('--token <token>', 'MozillaVPN/AzireVPN access token (skips the login)')
    .option('--device-name <name>', 'name of a new MozillaVPN device')
    .option('--use-ips <yes|no>', 'Mullvad OpenVPN: IP addresses instead of host names')
    .option('--only-port-forwarding <yes|no>', 'PIA WireGuard: only servers with port forwarding')
    .addHelpText(
      'after',
      '\nEvery answer can also come from the environment: VOPONO_SYNC_<FLAG> (e.g. VOPONO_SYNC_ACCOUNT,\n' +
        'VOPONO_SYNC_PASSWORD, VOPONO_SYNC_PRIVATE_KEY). Without a terminal nothing is asked: a missing\n' +
        'answer is an error naming its flag. Configs go to ~/.config/vopono/<provider>/<protocol>/ (as upstream\n' +
        'vopono lays them out); a failed sync leaves the previous ones untouched.\n' +
        'Tests and mirrors: VOPONO_<PROVIDER>_API_URL replaces the base URL of every request of a provider\n' +
        '(MULLVAD, AZIREVPN, IVPN, PIA, PROTONVPN, NORDVPN, AIRVPN, MOZILLAVPN).',
    )
    .action(async (provider: string | undefined, opts: Record<string, string | boolean | undefined>) => {
      const { runSync } = await import('../../providers/sync-command.js');
      await runSync(provider, opts);
    });
}
