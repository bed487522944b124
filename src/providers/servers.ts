// Listing a provider's synced configs and choosing one by prefix, with upstream's rule: a config
// matches PREFIX when its file name starts with it, or the part before the first '-' (country) or
// the part after it (host) does. Several matches → one at random; none → the closest names.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerEntry, ServerIndexEntry } from './types.js';

export const CONFIG_EXT = /\.(conf|ovpn)$/;
export const INDEX_FILE = 'servers.json';

function readIndex(dir: string): Map<string, ServerIndexEntry> {
  const map = new Map<string, ServerIndexEntry>();
  let raw: string;
  try {
    raw = readFileSync(join(dir, INDEX_FILE), 'utf8');
  } catch {
    return map;
  }
  try {
    const v: unknown = JSON.parse(raw);
    if (!Array.isArray(v)) return map;
    for (const e of v as unknown[]) {
      if (typeof e !== 'object' || e === null) continue;
      const o = e as Record<string, unknown>;
      if (typeof o.file !== 'string') continue;
      map.set(o.file, {
        file: o.file,
        country: typeof o.country === 'string' ? o.country : undefined,
        city: typeof o.city === 'string' ? o.city : undefined,
        host: typeof o.host === 'string' ? o.host : undefined,
      });
    }
  } catch {
    /* an unreadable index only loses country/city details */
  }
  return map;
}

/** The configs in one `<alias>/<protocol>` directory, sorted by file name. */
export function scanServers(provider: string, protocol: string, dir: string): ServerEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const index = readIndex(dir);
  const out: ServerEntry[] = [];
  for (const file of names.sort()) {
    if (!CONFIG_EXT.test(file) || file.startsWith('.')) continue;
    const name = file.replace(CONFIG_EXT, '');
    const meta = index.get(file);
    const dash = name.indexOf('-');
    const country = meta?.country ?? (dash > 0 ? name.slice(0, dash).replace(/_/g, ' ') : undefined);
    const e: ServerEntry = { provider, protocol, name, file: join(dir, file) };
    if (country !== undefined) e.country = country;
    if (meta?.city !== undefined) e.city = meta.city;
    const host = meta?.host ?? (dash > 0 ? name.slice(dash + 1) : undefined);
    if (host !== undefined && host !== '') e.host = host;
    out.push(e);
  }
  return out;
}

/** Upstream's rule (case-insensitive): file name, first '-' part or second '-' part starts with prefix. */
export function matchesPrefix(entry: Pick<ServerEntry, 'name'>, prefix: string): boolean {
  const p = prefix.toLowerCase();
  const name = entry.name.toLowerCase();
  const parts = name.split('-');
  return name.startsWith(p) || (parts[0] ?? '').startsWith(p) || (parts[1] ?? '').startsWith(p);
}

export function filterByPrefix<T extends Pick<ServerEntry, 'name'>>(
  entries: T[],
  prefix: string | undefined,
): T[] {
  if (prefix === undefined || prefix === '') return entries;
  const p = prefix.replace(CONFIG_EXT, '');
  return entries.filter((e) => matchesPrefix(e, p));
}

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The `n` names closest to `prefix` (by edit distance to the name and to its '-' parts). */
export function closestNames(entries: Pick<ServerEntry, 'name'>[], prefix: string, n = 5): string[] {
  const p = prefix.toLowerCase();
  const scored = entries.map((e) => {
    const name = e.name.toLowerCase();
    const cands = [name, ...name.split('-')].map(
      (c) => levenshtein(p, c.slice(0, Math.max(p.length, 1))) + Math.abs(c.length - p.length) * 0.01,
    );
    return { name: e.name, d: Math.min(...cands) };
  });
  scored.sort((a, b) => a.d - b.d || a.name.localeCompare(b.name));
  return scored.slice(0, n).map((s) => s.name);
}

export interface Choice {
  entry: ServerEntry;
  matches: number;
}

/** Chooses the config for `--server PREFIX`: an exact name wins; else one match at random. */
export function chooseServer(
  entries: ServerEntry[],
  prefix: string,
  random: () => number = Math.random,
): Choice | undefined {
  const p = prefix.replace(CONFIG_EXT, '').toLowerCase();
  const exact = entries.find((e) => e.name.toLowerCase() === p);
  if (exact !== undefined) return { entry: exact, matches: 1 };
  const m = filterByPrefix(entries, p);
  if (m.length === 0) return undefined;
  const entry = m[Math.min(m.length - 1, Math.floor(random() * m.length))]!;
  return { entry, matches: m.length };
}
