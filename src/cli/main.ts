// Entry point of the `vopono` binary. Only the module of the subcommand being run is loaded, so
// `vopono exec` never loads React, the daemon or the provider catalogue it does not need.
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';

type Register = (program: Command) => void;
const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  exec: () => import('./commands/exec.js'),
  list: () => import('./commands/list.js'),
  stop: () => import('./commands/stop.js'),
  servers: () => import('./commands/servers.js'),
  sync: () => import('./commands/sync.js'),
  daemon: () => import('./commands/daemon.js'),
  doctor: () => import('./commands/doctor.js'),
  tui: () => import('./commands/tui.js'),
  demo: () => import('./commands/demo.js'),
  completions: () => import('./commands/completions.js'),
};

async function main(argv: string[]): Promise<void> {
  const program = new Command('vopono')
    .version(VERSION, '-V, --version')
    .description(
      'Run single applications through VPN tunnels in temporary network namespaces.\n' +
        'With no arguments on a terminal, opens the interactive TUI.',
    )
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .exitOverride();

  const args = argv.slice(2);
  const first = args.find((a) => !a.startsWith('-'));
  const wanted = first !== undefined && first in COMMANDS ? [first] : Object.keys(COMMANDS);
  for (const name of wanted) (await COMMANDS[name]!()).register(program);

  if (args.length === 0 && process.stdin.isTTY && process.stdout.isTTY) args.push('tui');
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    throw err;
  }
}

main(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`vopono: ${message}\n`);
  process.exit(1);
});
