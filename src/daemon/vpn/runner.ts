// A CommandRunner over child_process: fixed argv, never a shell, stdin from a string (secrets go
// through this pipe, never through argv or a file), stderr in the rejection.
import { spawn } from 'node:child_process';
import type { CommandRunner } from './backend.js';

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')}: ${stderr.trim() || `exit status ${code ?? 'signal'}`}`);
    this.name = 'CommandError';
  }
}

export function runCommand(
  file: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    }
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {
      /* the program may exit without reading its input; the exit status tells */
    });
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new CommandError([file, ...args], null, e.message));
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      const stdout = Buffer.concat(out).toString();
      if (code === 0) resolve(stdout);
      else reject(new CommandError([file, ...args], code, Buffer.concat(err).toString() || stdout));
    });
    child.stdin.end(opts.input ?? '');
  });
}

export function createCommandRunner(): CommandRunner {
  return {
    run: runCommand,
    runInNs: (ns, file, args, opts) => runCommand('ip', ['netns', 'exec', ns, file, ...args], opts),
  };
}
