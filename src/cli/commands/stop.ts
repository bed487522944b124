// `vopono stop <namespace|pid>`: stops one of the caller's namespaces (with its apps) or one app.
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('stop')
    .description('Stop one of your namespaces (its apps get SIGTERM, then it is removed) or one app by pid')
    .argument('<target>', 'namespace name or app pid')
    .option('--json', 'print JSON for scripts')
    .option('--socket <path>', 'daemon socket (default $VOPONO_SOCKET or /run/vopono.sock)')
    .action(async (target: string, flags: { json?: boolean; socket?: string }) => {
      const { runStop } = await import('../list-command.js');
      await runStop(target, flags);
    });
}
