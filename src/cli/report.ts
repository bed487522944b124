// How the CLI reports a failure: "vopono: what failed" and, on its own line, what to do next.
import { DaemonError, DaemonUnavailable } from './client.js';

export function reportError(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`vopono: ${message}\n`);
  if (err instanceof DaemonError && err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
  if (err instanceof DaemonUnavailable)
    process.stderr.write(
      '  hint: start it with `sudo systemctl enable --now vopono.socket` (or `sudo vopono daemon`)\n',
    );
}
