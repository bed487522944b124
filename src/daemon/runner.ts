// Runs system programs (ip, nft, wg, ...) as root with a fixed argv: never through a shell, so no
// user-supplied string is ever parsed as a command line.
import { execFile } from 'node:child_process';
import type { CommandRunner } from './vpn/backend.js';

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(`${command} failed: ${stderr.trim() || `exit ${exitCode}`}`);
  }
}

function runFile(
  file: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        timeout: opts.timeoutMs ?? 30_000,
        maxBuffer: 16 * 1024 * 1024,
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
      },
      (err, stdout, stderr) => {
        if (err) {
          const code = typeof err.code === 'number' ? err.code : null;
          reject(new CommandError([file, ...args].join(' '), stderr || err.message, code));
        } else resolve(stdout);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export const systemRunner: CommandRunner = {
  run: runFile,
  runInNs: (ns, file, args, opts) => runFile('ip', ['netns', 'exec', ns, file, ...args], opts),
};
