// `vopono tui`: wires the TUI to the real edges — the daemon client, the exec session of
// `vopono exec` (fd passing, raw mode, signals, sudo fallback), and the provider catalogue.
// Loaded only by the tui command, so no other command pays for React and Ink.
import { homedir } from 'node:os';
import { isatty } from 'node:tty';
import { DaemonClient, DaemonUnavailable, defaultSocketPath } from '../cli/client.js';
import { runExecSession, type ExecRequest } from '../cli/exec-session.js';
import type { ExecOptions } from '../protocol/messages.js';
import { resolveExecConfig } from '../providers/index.js';
import { providerCatalogue } from './provider-catalogue.js';
import type { LaunchRequest } from './ports.js';
import { defaultOptions } from './options.js';
import { runTui } from './run.js';

export { defaultOptions };

/**
 * Turns the form's request into the exec request, as `vopono exec` does (src/cli/exec-command.ts):
 * the provider's config is read here, as the user, and travels as content.
 */
export async function toExecRequest(
  req: LaunchRequest,
  notice?: (msg: string) => void,
): Promise<ExecRequest> {
  const options: ExecOptions = { ...req.options };
  if (options.provider !== 'none') {
    const resolved = await resolveExecConfig({
      provider: options.provider,
      server: options.server,
      protocol: options.protocol,
      customPath: req.customPath,
      cwd: req.cwd,
      home: process.env.HOME ?? homedir(),
    });
    options.provider = resolved.provider;
    options.protocol = resolved.protocol;
    options.server = resolved.server;
    if (resolved.config) options.customConfig = resolved.config;
    if (resolved.credentials) options.credentials = resolved.credentials;
    if (options.dns.length === 0 && resolved.dns && !resolved.config) options.dns = resolved.dns;
    if (resolved.notice) notice?.(resolved.notice);
  }
  return { argv: req.argv, cwd: req.cwd, env: req.env, options };
}

export async function startTui(opts: { socketPath?: string }): Promise<number> {
  if (!isatty(0) || !isatty(1)) {
    process.stderr.write('vopono: the TUI needs a terminal; use vopono exec, list or servers in scripts\n');
    return 2;
  }
  const socketPath = defaultSocketPath(opts.socketPath);
  const handle = runTui({
    socketPath,
    catalogue: providerCatalogue(),
    connect: () => DaemonClient.connect({ socketPath, client: 'tui' }),
    isUnavailable: (err) => err instanceof DaemonUnavailable,
    defaultOptions,
    async prepare(req) {
      const notices: string[] = [];
      const execReq = await toExecRequest(req, (m) => notices.push(m));
      return {
        run(hooks) {
          for (const n of notices) process.stderr.write(`vopono: ${n}\n`);
          return runExecSession(execReq, {
            socketPath,
            onStarted: hooks.onStarted,
            onProgress: hooks.onProgress,
          });
        },
      };
    },
  });
  await handle.done;
  return 0;
}
