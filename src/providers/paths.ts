// The config directory: ~/.config/vopono (XDG_CONFIG_HOME honoured), upstream's layout
// `<alias>/<protocol>/<files>`. Every directory on the way is checked: a symlink or a directory owned
// by another user is refused, so a sync never writes through someone else's link.
import { lstatSync, mkdirSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

export function configBase(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg !== undefined && xdg !== '' && isAbsolute(xdg)) return xdg;
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir();
  return join(home, '.config');
}

export function voponoDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(configBase(env), 'vopono');
}

export class ConfigDirError extends Error {}

function uid(): number {
  return typeof process.geteuid === 'function' ? process.geteuid() : -1;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Checks one directory we read or write: not a symlink, a directory, owned by us. */
export function checkOwnedDir(path: string): boolean {
  const st = lstatOrUndefined(path);
  if (st === undefined) return false;
  if (st.isSymbolicLink()) {
    throw new ConfigDirError(
      `refusing to use ${path}: it is a symbolic link (vopono's config directories must be real directories owned by you)`,
    );
  }
  if (!st.isDirectory()) throw new ConfigDirError(`refusing to use ${path}: it is not a directory`);
  const me = uid();
  if (me >= 0 && st.uid !== me) {
    throw new ConfigDirError(
      `refusing to use ${path}: it is owned by uid ${st.uid}, not by you (uid ${me}); fix with: sudo chown -R ${me} ${path}`,
    );
  }
  return true;
}

/** Creates (0700) or checks each directory of `parts` below the vopono dir; returns the last. */
export function ensureDirs(root: string, ...parts: string[]): string {
  let path = root;
  for (const part of ['', ...parts]) {
    if (part !== '') path = join(path, part);
    if (!checkOwnedDir(path)) {
      mkdirSync(path, { mode: 0o700, recursive: part === '' });
      checkOwnedDir(path);
    }
  }
  return path;
}

/** For readers: the directory `<vopono>/<parts...>` if it exists (checked), else undefined. */
export function existingDir(root: string, ...parts: string[]): string | undefined {
  let path = root;
  for (const part of ['', ...parts]) {
    if (part !== '') path = join(path, part);
    if (!checkOwnedDir(path)) return undefined;
  }
  return path;
}
