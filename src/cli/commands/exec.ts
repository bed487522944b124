// Placeholder: registered so `vopono --help` lists it; replaced by the issue that builds it.
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('exec')
    .description('(not built yet)')
    .allowUnknownOption(true)
    .action(() => {
      process.stderr.write("vopono: 'exec' is not supported yet\n");
      process.exit(1);
    });
}
