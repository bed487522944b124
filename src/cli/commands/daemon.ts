// Placeholder: registered so `vopono --help` lists it; replaced by the issue that builds it.
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('daemon')
    .description('(not built yet)')
    .allowUnknownOption(true)
    .action(() => {
      process.stderr.write("vopono: 'daemon' is not supported yet\n");
      process.exit(1);
    });
}
