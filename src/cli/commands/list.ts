// `vopono list [namespaces|applications] [--json]`: the caller's own (root sees all).
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('list')
    .description("List your running namespaces or applications (root sees everyone's)")
    .argument('[what]', 'namespaces or applications', 'namespaces')
    .option('--json', 'print JSON for scripts')
    .option('--socket <path>', 'daemon socket (default $VOPONO_SOCKET or /run/vopono.sock)')
    .action(async (what: string, flags: { json?: boolean; socket?: string }) => {
      const { runList } = await import('../list-command.js');
      await runList(what, flags);
    });
}
