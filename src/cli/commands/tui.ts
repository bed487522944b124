// `vopono tui` (also `vopono` with no arguments on a terminal): the interactive front end.
// The TUI (React, Ink) is loaded only here, by dynamic import, so other commands never load it.
import type { Command } from 'commander';

/**
 * Loads the TUI with `fetch` hidden: Ink's layout engine (yoga, emscripten) probes `typeof fetch`
 * to load its WebAssembly, and in Node that first touch loads undici, http2 and tls (~50 ms of a
 * ~250 ms start) only to decode the wasm it carries inline. Without fetch it decodes it directly.
 */
async function loadTui(): Promise<typeof import('../../tui/main.js')> {
  const fetchDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
  if (fetchDescriptor?.configurable !== true) return import('../../tui/main.js');
  Object.defineProperty(globalThis, 'fetch', { value: undefined, configurable: true, writable: true });
  try {
    return await import('../../tui/main.js');
  } finally {
    Object.defineProperty(globalThis, 'fetch', fetchDescriptor);
  }
}

export function register(program: Command): void {
  program
    .command('tui')
    .description('interactive TUI: providers, servers, active namespaces; launch apps through the VPN')
    .option('--socket <path>', "the daemon's socket (default: $VOPONO_SOCKET or /run/vopono.sock)")
    .action(async (opts: { socket?: string }) => {
      const { startTui } = await loadTui();
      const code = await startTui({ socketPath: opts.socket });
      process.exit(code);
    });
}
