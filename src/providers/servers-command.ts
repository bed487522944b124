// The body of `vopono servers`: prints the table or JSON; returns the exit status.
import { join } from 'node:path';
import { listServers } from './index.js';
import { voponoDir } from './paths.js';
import { chooseProtocol, requireProvider } from './registry.js';
import { closestNames, filterByPrefix } from './servers.js';
import type { ServerEntry } from './types.js';

export function formatTable(rows: ServerEntry[]): string {
  const head = ['provider', 'protocol', 'config_file', 'country', 'city'];
  const cells = rows.map((r) => [
    r.provider,
    r.protocol,
    r.file.slice(r.file.lastIndexOf('/') + 1),
    r.country ?? '',
    r.city ?? '',
  ]);
  return [head, ...cells].map((c) => c.join('\t').replace(/\t+$/, '')).join('\n') + '\n';
}

export function runServers(
  provider: string,
  opts: { protocol?: string; prefix?: string; json?: boolean },
  out: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv,
): number {
  const def = requireProvider(provider);
  if (def.load === undefined) throw new Error(`config listing is not available for the ${def.name} provider`);
  const protocol = opts.protocol !== undefined ? chooseProtocol(def, opts.protocol) : undefined;
  const all = listServers(def.name, protocol, env);
  if (all.length === 0) {
    const proto = protocol ?? def.defaultProtocol;
    throw new Error(
      `no ${def.name} ${protocol ?? ''}${protocol !== undefined ? ' ' : ''}configs in ${join(voponoDir(env), def.dir)}; run: vopono sync ${def.name} -c ${proto}`,
    );
  }
  const rows = filterByPrefix(all, opts.prefix);
  if (rows.length === 0 && opts.prefix !== undefined) {
    throw new Error(
      `no ${def.name} server matches '${opts.prefix}'; closest: ${closestNames(all, opts.prefix).join(', ')}`,
    );
  }
  out.write(opts.json === true ? JSON.stringify(rows, null, 2) + '\n' : formatTable(rows));
  return 0;
}
