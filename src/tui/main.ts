// `vopono tui`: wires the TUI to the real edges — the daemon client, the exec session of
// `vopono exec` (fd passing, raw mode, signals, sudo fallback), and the provider catalogue.
// Loaded only by the tui command, so no other command pays for React and Ink.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isatty } from 'node:tty';
import type { ExecRequest } from '../cli/exec-session.js';
import type { ExecOptions } from '../protocol/messages.js';
import { resolveExecConfig, voponoDir } from '../providers/index.js';
import type { UserDefaults } from '../providers/user-config.js';
import { providerCatalogue } from './provider-catalogue.js';
import type { LaunchRequest } from './ports.js';
import { historyPath, loadRecent, saveRecent } from './history.js';
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

/** config.toml (upstream's defaults file), as `vopono exec` reads it; none → {}. */
async function userDefaults(): Promise<UserDefaults> {
  if (!existsSync(join(voponoDir(), 'config.toml'))) return {};
  const { loadUserDefaults } = await import('../providers/user-config.js');
  return loadUserDefaults();
}

// The daemon client and the exec session (msgpackr, koffi) load just after the first frame.
let clientModule: typeof import('../cli/client.js') | undefined;
async function client(): Promise<typeof import('../cli/client.js')> {
  clientModule ??= await import('../cli/client.js');
  return clientModule;
}

/** As src/cli/client.ts's defaultSocketPath, without loading the client before the first frame. */
function socketPathOf(explicit: string | undefined): string {
  return explicit ?? process.env.VOPONO_SOCKET ?? '/run/vopono.sock';
}

/** Exec options from config.toml for what the form does not ask (firewall, interface, ports...). */
export function optionsFrom(d: UserDefaults): (provider: string) => ExecOptions {
  return (provider) => {
    const o = defaultOptions(provider);
    if (d.interface !== undefined) o.interface = d.interface;
    if (d.firewall !== undefined) o.firewall = d.firewall;
    if (d.openPorts) o.openPorts = [...d.openPorts];
    if (d.hosts) o.hosts = [...d.hosts];
    if (d.openHosts) o.openHosts = [...d.openHosts];
    if (d.noProxy !== undefined) o.noProxy = d.noProxy;
    if (d.allowHostAccess !== undefined) o.allowHostAccess = d.allowHostAccess;
    if (d.disableIpv6 !== undefined) o.disableIpv6 = d.disableIpv6;
    if (d.postup !== undefined) o.postup = d.postup;
    if (d.predown !== undefined) o.predown = d.predown;
    return o;
  };
}

export async function startTui(opts: { socketPath?: string }): Promise<number> {
  if (!isatty(0) || !isatty(1)) {
    process.stderr.write('vopono: the TUI needs a terminal; use vopono exec, list or servers in scripts\n');
    return 2;
  }
  let defaults: UserDefaults = {};
  try {
    defaults = await userDefaults();
  } catch (err) {
    process.stderr.write(
      `vopono: ${err instanceof Error ? err.message : String(err)} (ignored by the TUI)\n`,
    );
  }
  const socketPath = socketPathOf(opts.socketPath);
  const history = historyPath();
  const handle = runTui({
    socketPath,
    catalogue: providerCatalogue(),
    connect: async () => (await client()).DaemonClient.connect({ socketPath, client: 'tui' }),
    isUnavailable: (err) => clientModule !== undefined && err instanceof clientModule.DaemonUnavailable,
    defaultOptions: optionsFrom(defaults),
    preferredProvider: defaults.provider ?? (defaults.custom !== undefined ? 'custom' : undefined),
    preferredServer: defaults.server,
    recent: loadRecent(history),
    saveRecent: (recent) => saveRecent(history, recent),
    form: {
      killswitch: defaults.noKillswitch !== true,
      dns: (defaults.dns ?? []).join(', '),
      keepAlive: defaults.keepAlive ?? false,
      forward: (defaults.forward ?? []).join(', '),
      config: defaults.custom ?? '',
    },
    async prepare(req) {
      const notices: string[] = [];
      const execReq = await toExecRequest(req, (m) => notices.push(m));
      const { runExecSession } = await import('../cli/exec-session.js');
      // checked before stepping aside (a refused config shows in place), asked once the terminal is free
      const { openvpnNeedsCredentials, promptCredentials } = await import('../cli/credentials-prompt.js');
      const askCredentials = await openvpnNeedsCredentials(execReq.options);
      return {
        run(hooks) {
          for (const n of notices) process.stderr.write(`vopono: ${n}\n`);
          if (askCredentials)
            execReq.options.credentials = promptCredentials(
              `OpenVPN config ${execReq.options.customConfig?.name ?? ''}`,
            );
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
