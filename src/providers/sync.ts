// `vopono sync`: runs a provider's sync into a staging directory beside `<alias>/<protocol>`, then
// swaps it in. Any failure leaves the previous configs exactly as they were. Files are written by
// the user's own process: configs and secrets 0600, directories 0700.
import { chmodSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOwnedDir, ensureDirs, voponoDir } from './paths.js';
import { chooseProtocol, requireProvider } from './registry.js';
import { CONFIG_EXT, INDEX_FILE } from './servers.js';
import type { Prompter, ServerIndexEntry, SyncContext, VpnProtocol } from './types.js';

/** A file name we are willing to write: no path parts, no dot files, upstream's characters. */
export function safeName(name: string): string {
  const n = name
    .toLowerCase()
    .replace(/ /g, '_')
    .replace(/[^a-z0-9_.+-]/g, '_');
  if (n === '' || n.startsWith('.') || n.includes('/'))
    throw new Error(`refusing to write a file named '${name}'`);
  return n;
}

/** Writes `content` to `path` via a temp file and rename, mode 0600. */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export interface SyncResult {
  provider: string;
  protocol: string;
  dir: string;
  count: number;
}

export async function syncProvider(
  providerName: string,
  protocolName: string | undefined,
  prompt: Prompter,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SyncResult> {
  const def = requireProvider(providerName);
  if (def.load === undefined)
    throw new Error(`'${def.name}' has nothing to sync (use --custom FILE for your own configs)`);
  const protocol = chooseProtocol(def, protocolName) as VpnProtocol;
  const providerDir = ensureDirs(voponoDir(env), def.dir);
  const live = join(providerDir, protocol);
  if (existsSync(live)) checkOwnedDir(live);
  recoverLeftovers(providerDir, protocol);
  const staging = mkdtempSync(join(providerDir, `.${protocol}.staging-${process.pid}-`));
  chmodSync(staging, 0o700);
  const index: ServerIndexEntry[] = [];
  const providerFiles: { name: string; content: string; secret: boolean }[] = [];
  const ctx: SyncContext = {
    providerDir,
    out: staging,
    previous: live,
    prompt,
    write(name, content) {
      const n = safeName(name);
      writeFileSync(join(staging, n), content, { mode: 0o600 });
      return n;
    },
    index(entry) {
      index.push(entry);
    },
    writeProviderFile(name, content, secret) {
      providerFiles.push({ name: safeName(name), content, secret });
    },
  };
  let old: string | undefined;
  try {
    prompt.info(`Syncing ${def.name} ${protocol} configs...`);
    const mod = await def.load();
    await mod.sync(protocol, ctx);
    const count = readdirSync(staging).filter((f) => CONFIG_EXT.test(f)).length;
    if (count === 0) throw new Error(`${def.name}: the provider returned no servers; previous configs kept`);
    if (index.length > 0)
      writeFileSync(join(staging, INDEX_FILE), JSON.stringify(index, null, 1) + '\n', { mode: 0o600 });
    // swap: live → old, staging → live, then drop old (put old back if the second rename fails)
    if (existsSync(live)) {
      old = join(providerDir, `.${protocol}.old-${process.pid}-${Date.now()}`);
      renameSync(live, old);
    }
    try {
      renameSync(staging, live);
    } catch (err) {
      if (old !== undefined) renameSync(old, live);
      old = undefined;
      throw err;
    }
    for (const f of providerFiles) writeFileAtomic(join(providerDir, f.name), f.content);
    if (old !== undefined) rmSync(old, { recursive: true, force: true });
    prompt.info(`${def.name} ${protocol}: ${count} configs written to ${live}`);
    return { provider: def.name, protocol, dir: live, count };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Cleans what an interrupted sync (killed, power cut) left: staging dirs of dead syncs are removed;
 * if it died between the two renames of the swap, the previous configs are put back.
 */
export function recoverLeftovers(providerDir: string, protocol: string): void {
  const live = join(providerDir, protocol);
  const re = new RegExp(`^\\.${protocol}\\.(staging|old)-(\\d+)-`);
  const olds: string[] = [];
  for (const name of readdirSync(providerDir)) {
    const m = re.exec(name);
    if (m === null || (alive(Number(m[2])) && Number(m[2]) !== process.pid)) continue;
    if (m[1] === 'old') olds.push(name);
    else rmSync(join(providerDir, name), { recursive: true, force: true });
  }
  const ts = (n: string): number => Number(/-(\d+)$/.exec(n)?.[1] ?? 0);
  olds.sort((a, b) => ts(a) - ts(b));
  const newest = olds.pop();
  if (newest !== undefined && !existsSync(live)) renameSync(join(providerDir, newest), live);
  else if (newest !== undefined) olds.push(newest);
  for (const o of olds) rmSync(join(providerDir, o), { recursive: true, force: true });
}

/** Reads the first two lines (user, password) of an auth file, as upstream stores them. */
export function parseAuthFile(text: string): { username: string; password: string } | undefined {
  const [u, p] = text.split('\n');
  const username = (u ?? '').trim();
  const password = (p ?? '').trim();
  return username !== '' && password !== '' ? { username, password } : undefined;
}
