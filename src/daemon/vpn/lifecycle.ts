// What happens around a namespace's life besides the tunnel: the -f port proxies and the
// postup/predown hooks. One call after setup, one before teardown, for the namespace manager.
import type { ExecOptions } from '../../protocol/messages.js';
import type { NetnsRecord } from './backend.js';
import { startForwarders } from './forward.js';
import { runHook, type HookResult } from './hooks.js';

export interface NamespaceExtras {
  /** Runs --predown (as the user) and stops the proxies. Idempotent. */
  stop(): Promise<HookResult | undefined>;
  postup?: HookResult;
}

export interface ExtrasRequest {
  ns: NetnsRecord;
  options: Pick<ExecOptions, 'forward' | 'noProxy' | 'postup' | 'predown'>;
  uid: number;
  gid: number;
  isRoot: boolean;
  log?(message: string): void;
}

/**
 * Starts the -f proxies (host loopback → namespace; ports below 1024 only for root; none with
 * --no-proxy) and runs --postup as the user. A failing postup is reported, not fatal (upstream
 * behaves the same); a port that can't be bound is fatal (the user asked for it).
 */
export async function startNamespaceExtras(req: ExtrasRequest): Promise<NamespaceExtras> {
  const { ns, options } = req;
  let stopForwarders: (() => Promise<void>) | undefined;
  if (options.forward.length > 0 && !options.noProxy) {
    const low = options.forward.filter((p) => p < 1024);
    if (low.length > 0 && !req.isRoot)
      throw new Error(`forwarding host port ${low.join(', ')} needs root (ports below 1024)`);
    stopForwarders = await startForwarders(ns, options.forward);
  }
  let postup: HookResult | undefined;
  if (options.postup !== undefined && options.postup !== '') {
    postup = await runHook(options.postup, { uid: req.uid, gid: req.gid, ns });
    if (postup.code !== 0)
      req.log?.(`postup exited with ${postup.code ?? postup.signal}: ${postup.output.trim().slice(-500)}`);
  }
  let stopped = false;
  return {
    ...(postup !== undefined ? { postup } : {}),
    stop: async () => {
      if (stopped) return undefined;
      stopped = true;
      let r: HookResult | undefined;
      if (options.predown !== undefined && options.predown !== '') {
        r = await runHook(options.predown, { uid: req.uid, gid: req.gid, ns }).catch((e: unknown) => {
          req.log?.(`predown failed: ${e instanceof Error ? e.message : String(e)}`);
          return undefined;
        });
      }
      await stopForwarders?.();
      return r;
    },
  };
}
