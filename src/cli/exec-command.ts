// The work behind `vopono exec`: flags merged over config.toml, the provider's config resolved as
// the user, the session run, and the app's exit status made ours.
import { existsSync, writeSync } from 'node:fs';
import { constants, homedir } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ExecOptions } from '../protocol/messages.js';
import type { ExecFlags } from './commands/exec.js';
import { ports } from './commands/exec.js';
import { DaemonError } from './client.js';
import { runExecSession, SETUP_FAILURE, type ExitStatus } from './exec-session.js';
import { reportError } from './report.js';
import { shellWords } from './shell-words.js';

interface Defaults {
  provider?: string;
  server?: string;
  protocol?: string;
  custom?: string;
  interface?: string;
  firewall?: 'nftables' | 'iptables';
  dns?: string[];
  keepAlive?: boolean;
  workingDirectory?: string;
}

async function userDefaults(): Promise<Defaults> {
  const home = process.env.XDG_CONFIG_HOME ?? resolve(homedir(), '.config');
  if (!existsSync(resolve(home, 'vopono', 'config.toml'))) return {};
  const { loadUserDefaults } = await import('../providers/user-config.js');
  return loadUserDefaults();
}

export async function runExec(
  command: string[],
  flags: ExecFlags,
  dashDash: boolean,
  _cmd: Command,
): Promise<void> {
  let status: ExitStatus;
  try {
    const argv = !dashDash && command.length === 1 ? shellWords(command[0]!) : command;
    const defaults = await userDefaults();
    const createOnly = flags.createNetnsOnly ?? false;
    if (argv.length === 0 && !createOnly)
      throw new Error(
        'no command given: vopono exec [options] -- COMMAND [ARGS...] (or --create-netns-only)',
      );
    const provider = flags.provider ?? (flags.custom ? 'custom' : undefined) ?? defaults.provider;
    if (!provider)
      throw new Error(
        'no provider: pass -p/--provider (none, custom, mullvad, ...) or --custom FILE, or set provider in ~/.config/vopono/config.toml',
      );
    const cwd = flags.workingDirectory ?? defaults.workingDirectory;
    const home = process.env.HOME ?? homedir();
    const options: ExecOptions = {
      provider: provider.toLowerCase(),
      dns: flags.dns ?? defaults.dns ?? [],
      interface: flags.interface ?? defaults.interface,
      keepAlive: flags.keepAlive ?? defaults.keepAlive ?? false,
      createNetnsOnly: createOnly,
      customNetnsName: flags.customNetnsName,
      noKillswitch: !flags.killswitch,
      firewall: flags.firewall ?? defaults.firewall,
      openPorts: ports(flags.openPorts),
      forward: ports(flags.forward),
      noProxy: !flags.proxy,
      disableIpv6: flags.disableIpv6 ?? false,
      allowHostAccess: flags.allowHostAccess ?? false,
      openHosts: flags.openHosts ?? [],
      hosts: flags.hosts ?? [],
      postup: flags.postup,
      predown: flags.predown,
    };
    if (options.provider !== 'none') {
      const { resolveExecConfig } = await import('../providers/index.js');
      const resolved = await resolveExecConfig({
        provider: options.provider,
        server: flags.server ?? (flags.provider ? undefined : defaults.server),
        protocol: flags.protocol ?? defaults.protocol,
        customPath: flags.custom ?? (flags.provider ? undefined : defaults.custom),
        cwd: process.cwd(),
        home,
      });
      options.provider = resolved.provider;
      options.protocol = resolved.protocol;
      options.server = resolved.server;
      if (resolved.config) options.customConfig = resolved.config;
      if (resolved.credentials) options.credentials = resolved.credentials;
      if (options.dns.length === 0 && resolved.dns && !resolved.config) options.dns = resolved.dns;
      if (resolved.notice && !flags.silent) process.stderr.write(`vopono: ${resolved.notice}\n`);
      const { openvpnNeedsCredentials, promptCredentials } = await import('./credentials-prompt.js');
      if (await openvpnNeedsCredentials(options))
        // no credentials file: ask on the user's terminal (the daemon never prompts)
        options.credentials = promptCredentials(`OpenVPN config ${options.customConfig?.name ?? ''}`);
    }
    const showProgress = !flags.silent && (flags.verbose || process.stderr.isTTY);
    status = await runExecSession(
      {
        argv: argv.length > 0 ? argv : ['true'],
        cwd: cwd
          ? resolve(process.cwd(), cwd.startsWith('~/') ? resolve(home, cwd.slice(2)) : cwd)
          : process.cwd(),
        env: Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ''}`),
        options,
      },
      {
        socketPath: flags.socket,
        announceFallback: !flags.silent,
        onProgress: (m) => showProgress && process.stderr.write(`vopono: ${m}\n`),
        onStarted: (pid, ns) => {
          if (createOnly && !flags.silent)
            writeSync(1, `${ns}\n`); // sync: we exit right after
          else if (flags.verbose) process.stderr.write(`vopono: started pid ${pid} in namespace ${ns}\n`);
        },
      },
    );
  } catch (err) {
    reportError(err);
    process.exit(err instanceof DaemonError && err.exitCode !== undefined ? err.exitCode : SETUP_FAILURE);
  }
  finish(status);
}

/** Exit like the app: its code, or its death by the same signal. */
function finish(status: ExitStatus): void {
  if ('code' in status) process.exit(status.code);
  const { signal } = status;
  process.removeAllListeners(signal);
  try {
    process.kill(process.pid, signal);
  } catch {
    // not a signal we may raise
  }
  // still here (the signal is ignored, or only stops us): exit as a shell reports such a death
  setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 1)), 50);
}
