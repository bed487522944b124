// Reads the files of a provider's zip archive (fflate), with a clear error for a corrupt one.
import { unzipSync } from 'fflate';

export interface ZipEntry {
  /** Path inside the archive, '/'-separated. */
  path: string;
  /** Base name. */
  name: string;
  data: Uint8Array;
}

export function readZip(bytes: Uint8Array, what: string): ZipEntry[] {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (err) {
    throw new Error(
      `${what}: the downloaded zip is corrupt or not a zip (${err instanceof Error ? err.message : String(err)}); try again later`,
    );
  }
  const out: ZipEntry[] = [];
  for (const [path, data] of Object.entries(files)) {
    if (path.endsWith('/')) continue;
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) continue; // never trust archive paths
    const name = parts[parts.length - 1];
    if (name === undefined) continue;
    out.push({ path: parts.join('/'), name, data });
  }
  if (out.length === 0) throw new Error(`${what}: the downloaded zip holds no files`);
  return out;
}

export const utf8 = (d: Uint8Array): string => Buffer.from(d).toString('utf8');
