// `vopono tui` (also `vopono` with no arguments on a terminal): the interactive front end.
// The TUI (React, Ink) is loaded only here, by dynamic import, so other commands never load it.
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('tui')
    .description('interactive TUI: providers, servers, active namespaces; launch apps through the VPN')
    .option('--socket <path>', "the daemon's socket (default: $VOPONO_SOCKET or /run/vopono.sock)")
    .action(async (opts: { socket?: string }) => {
      const { startTui } = await import('../../tui/main.js');
      const code = await startTui({ socketPath: opts.socket });
      process.exit(code);
    });
}
