// The edges the TUI store talks to, as small typed interfaces: the daemon connection, the
// step-aside launcher and the catalogue. run.tsx wires the real ones; tests pass fakes.
import type { ExecOptions, NamespaceInfo } from '../protocol/messages.js';
import type { Catalogue } from './catalogue.js';
import type { ExitStatus } from './format.js';

export interface DaemonConnection {
  list(): Promise<NamespaceInfo[]>;
  stop(target: string): Promise<{ namespaces: string[]; pids: number[] }>;
  /** The daemon pushes the full list on every namespace/app change. */
  subscribe(onChange: (namespaces: NamespaceInfo[]) => void): void;
  onClose(cb: () => void): void;
  close(): void;
}

/** The same request `vopono exec` sends (src/cli/exec-session.ts's ExecRequest). */
export interface LaunchRequest {
  argv: string[];
  cwd: string;
  env: string[];
  options: ExecOptions;
  /** `custom` provider: the config file the client reads (as the user) into options.customConfig. */
  customPath?: string;
}

export interface LaunchHooks {
  onStarted?: (pid: number, namespace: string) => void;
}

export interface TuiDeps {
  catalogue: Catalogue;
  socketPath: string;
  connect(): Promise<DaemonConnection>;
  /** True when `connect` failed because no daemon listens (the sudo fallback applies). */
  isUnavailable(err: unknown): boolean;
  /** Unmounts the TUI, runs the exec session with the terminal, renders the TUI again. */
  stepAside(req: LaunchRequest, hooks: LaunchHooks): Promise<ExitStatus>;
  /** Unmounts the TUI for good. */
  quit(): void;
  defaultOptions(provider: string): ExecOptions;
  uid: number;
  cwd: string;
  env: string[];
  now(): number;
  /** Delay before connecting again after the daemon went away or was absent. */
  retryMs: number;
  /** The provider to select first (config.toml's `provider`). */
  preferredProvider?: string;
  /** Keeps the recent commands between sessions. */
  saveRecent?(recent: readonly string[]): void;
  /** The server (a name prefix) to select first in that provider's list (config.toml's `server`). */
  preferredServer?: string;
}
