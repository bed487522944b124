// `vopono daemon`: the root side. Normally started by systemd (vopono.socket / vopono.service).
import { Command } from 'commander';

interface DaemonFlags {
  socket?: string;
  socketGroup: string;
  socketMode: string;
  stateDir: string;
  prefix: string;
  pool: string;
  maxConnections: string;
  handshakeTimeout: string;
  connectionFd?: string;
}

export function register(program: Command): void {
  program
    .command('daemon')
    .summary('Run the root daemon (normally started by systemd)')
    .description(
      'Run the root daemon that creates namespaces and starts apps for local users. ' +
        'Takes the socket from systemd when socket-activated (LISTEN_FDS); otherwise listens itself.',
    )
    .option('--socket <path>', 'socket path (default $VOPONO_SOCKET or /run/vopono.sock)')
    .option('--socket-group <group>', 'group allowed to connect', 'vopono')
    .option('--socket-mode <octal>', 'socket permissions', '0660')
    .option('--state-dir <dir>', 'root-only state directory', process.env.VOPONO_STATE_DIR ?? '/run/vopono')
    .option(
      '--prefix <name>',
      'prefix of every namespace, link and nft table made',
      process.env.VOPONO_PREFIX ?? 'vo',
    )
    .option(
      '--pool <a.b>',
      'first two octets of the /16 namespaces get their /24 from',
      process.env.VOPONO_POOL ?? '10.200',
    )
    .option('--max-connections <n>', 'connections served at once', '512')
    .option('--handshake-timeout <ms>', 'close a connection that sends no request within this time', '5000')
    .option('--connection-fd <fd>', 'serve one connection on this fd, then exit (used by the sudo fallback)')
    .action(async (flags: DaemonFlags) => {
      const { runDaemon, DEFAULTS } = await import('../../daemon/server.js');
      const { setQuiet } = await import('../../daemon/log.js');
      const pool = /^(\d{1,3})\.(\d{1,3})$/.exec(flags.pool);
      const mode = /^0?[0-7]{3}$/.test(flags.socketMode) ? parseInt(flags.socketMode, 8) : NaN;
      if (!pool || Number(pool[1]) > 255 || Number(pool[2]) > 255)
        throw new Error(`--pool '${flags.pool}' is not like 10.200`);
      if (Number.isNaN(mode))
        throw new Error(`--socket-mode '${flags.socketMode}' is not an octal mode like 0660`);
      const handshakeTimeoutMs = Number(flags.handshakeTimeout);
      if (!Number.isInteger(handshakeTimeoutMs) || handshakeTimeoutMs < 100 || handshakeTimeoutMs > 600_000)
        throw new Error(
          `--handshake-timeout '${flags.handshakeTimeout}' must be milliseconds from 100 to 600000`,
        );
      const connectionFd = flags.connectionFd === undefined ? undefined : Number(flags.connectionFd);
      if (connectionFd !== undefined) setQuiet(true);
      await runDaemon({
        ...DEFAULTS,
        socketPath: flags.socket ?? process.env.VOPONO_SOCKET ?? DEFAULTS.socketPath,
        socketGroup: flags.socketGroup,
        socketMode: mode,
        stateDir: flags.stateDir,
        prefix: flags.prefix,
        pool: [Number(pool[1]), Number(pool[2])],
        maxConnections: Number(flags.maxConnections),
        handshakeTimeoutMs,
        connectionFd,
      });
      process.exit(0);
    });
}
