// list and stop: one request each to the daemon, printed as a table or JSON.
import type { NamespaceInfo } from '../protocol/messages.js';
import { DaemonClient } from './client.js';
import { reportError } from './report.js';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

function age(since: number): string {
  const s = Math.max(0, Math.round((Date.now() - since) / 1000));
  return s < 60
    ? `${s}s`
    : s < 3600
      ? `${Math.floor(s / 60)}m`
      : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

export async function runList(what: string, flags: { json?: boolean; socket?: string }): Promise<void> {
  if (!['namespaces', 'applications', 'ns', 'apps'].includes(what)) {
    process.stderr.write(`vopono: list what? '${what}' is neither namespaces nor applications\n`);
    process.exit(2);
  }
  let namespaces: NamespaceInfo[];
  try {
    namespaces = await (await DaemonClient.connect({ socketPath: flags.socket, client: 'cli' })).list();
  } catch (err) {
    reportError(err);
    process.exit(1);
  }
  const apps = namespaces.flatMap((n) =>
    n.apps.map((a) => ({ namespace: n.name, provider: n.provider, ...a })),
  );
  if (what === 'namespaces' || what === 'ns') {
    if (flags.json) return void process.stdout.write(JSON.stringify(namespaces, null, 2) + '\n');
    if (namespaces.length === 0) return void process.stdout.write('no namespaces\n');
    process.stdout.write(
      table([
        ['NAMESPACE', 'PROVIDER', 'SERVER', 'PROTOCOL', 'ADDRESS', 'APPS', 'AGE'],
        ...namespaces.map((n) => [
          n.name,
          n.provider,
          n.server ?? '-',
          n.protocol,
          n.nsIp,
          String(n.apps.length),
          age(n.createdAt),
        ]),
      ]),
    );
  } else {
    if (flags.json) return void process.stdout.write(JSON.stringify(apps, null, 2) + '\n');
    if (apps.length === 0) return void process.stdout.write('no applications\n');
    process.stdout.write(
      table([
        ['PID', 'NAMESPACE', 'PROVIDER', 'UPTIME', 'COMMAND'],
        ...apps.map((a) => [String(a.pid), a.namespace, a.provider, age(a.startedAt), a.command.join(' ')]),
      ]),
    );
  }
}

export async function runStop(target: string, flags: { json?: boolean; socket?: string }): Promise<void> {
  try {
    const client = await DaemonClient.connect({ socketPath: flags.socket, client: 'cli' });
    const r = await client.stop(target);
    if (flags.json) process.stdout.write(JSON.stringify(r) + '\n');
    else if (r.namespaces.length > 0)
      process.stdout.write(
        `stopped namespace ${r.namespaces.join(', ')}${r.pids.length ? ` (apps ${r.pids.join(', ')})` : ''}\n`,
      );
    else process.stdout.write(`stopped app ${r.pids.join(', ')}\n`);
  } catch (err) {
    reportError(err);
    process.exit(1);
  }
}
