// `vopono exec`: upstream's flags; the command either after `--` or as one string split like a shell.
import { Command, Option } from 'commander';

const collect = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value.split(',').filter(Boolean),
];

function ports(values: string[] | undefined): number[] {
  return (values ?? []).map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`'${v}' is not a port (1-65535)`);
    return n;
  });
}

export interface ExecFlags {
  provider?: string;
  server?: string;
  protocol?: string;
  custom?: string;
  dns?: string[];
  interface?: string;
  keepAlive?: boolean;
  createNetnsOnly?: boolean;
  customNetnsName?: string;
  workingDirectory?: string;
  killswitch: boolean;
  firewall?: 'nftables' | 'iptables';
  openPorts?: string[];
  forward?: string[];
  proxy: boolean;
  disableIpv6?: boolean;
  allowHostAccess?: boolean;
  openHosts?: string[];
  hosts?: string[];
  postup?: string;
  predown?: string;
  verbose?: boolean;
  silent?: boolean;
  socket?: string;
}

export function register(program: Command): void {
  program
    .command('exec')
    .summary('Run a command in a VPN network namespace, as yourself')
    .description(
      'Run a command in a VPN network namespace, as yourself. Give the command after `--` ' +
        '(vopono exec -p none -- curl -s example.org) or as one string, like upstream vopono ' +
        '(vopono exec -p mullvad -s se "firefox --private-window").\n\n' +
        "Exit status: the command's own; 128+N when it died of signal N (the signal is re-raised); " +
        '125 when vopono itself failed (setup, daemon, sudo); 126 not executable; 127 not found.',
    )
    .argument('[command...]', 'the command and its arguments')
    .option('-p, --provider <name>', 'VPN provider (none, custom, mullvad, ...); default from config.toml')
    .option(
      '-s, --server <prefix>',
      'server (country, host or file-name prefix; several matches: one at random)',
    )
    .option(
      '-c, --protocol <protocol>',
      "wireguard or openvpn (default: the provider's, or detected from --custom)",
    )
    .option('--custom <file>', 'a WireGuard or OpenVPN config file (read by you, sent as content)')
    .option('-d, --dns <ip>', 'DNS server for the namespace (repeatable, or comma-separated)', collect)
    .option(
      '-i, --interface <name>',
      "host interface that carries the namespace's traffic (default: the default route's)",
    )
    .option('-k, --keep-alive', 'keep the namespace after the last app exits (remove with vopono stop)')
    .option('--create-netns-only', 'create the namespace, run nothing, keep it until `vopono stop`')
    .option('--custom-netns-name <name>', 'name the namespace yourself')
    .option('-w, --working-directory <dir>', 'directory the command starts in (default: the current one)')
    .option('--no-killswitch', 'do not install the killswitch firewall in the namespace')
    .addOption(
      new Option('--firewall <kind>', 'firewall for the killswitch').choices(['nftables', 'iptables']),
    )
    .option(
      '-o, --open-ports <port>',
      'accept inbound TCP on these ports in the namespace (repeatable)',
      collect,
    )
    .option(
      '-f, --forward <port>',
      'forward this host port (loopback) to the namespace while it lives (repeatable)',
      collect,
    )
    .option('--no-proxy', 'with -f: do not proxy ports from the host')
    .option('--disable-ipv6', 'block IPv6 in the namespace')
    .option('--allow-host-access', "let the app reach the host's veth address (named vopono.host)")
    .option('--open-hosts <ip>', 'addresses that bypass the tunnel (repeatable, or comma-separated)', collect)
    .option('--hosts <entry>', 'extra /etc/hosts entries "IP NAME" for the namespace (repeatable)', collect)
    .option('--postup <command>', 'run after the tunnel is up, as you, with VOPONO_NS etc. set')
    .option('--predown <command>', 'run before the namespace is removed, as you')
    .option('-v, --verbose', 'say what is being set up')
    .option('--silent', 'say nothing but errors')
    .option('--socket <path>', 'daemon socket (default $VOPONO_SOCKET or /run/vopono.sock)')
    .passThroughOptions()
    .action(async (command: string[], flags: ExecFlags, cmd: Command) => {
      const { runExec } = await import('../exec-command.js');
      const dashDash = process.argv.includes('--');
      await runExec(command, flags, dashDash, cmd);
    });
}

export { ports };
