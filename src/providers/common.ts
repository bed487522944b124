// Helpers shared by the provider modules.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { countryName } from './country.js';
import type { Prompter, SyncContext } from './types.js';

/** Reads a file of the provider's directory (`rel` like `openvpn/auth.txt`); undefined if absent. */
export function readProviderFile(ctx: SyncContext, rel: string): string | undefined {
  try {
    return readFileSync(join(ctx.providerDir, rel), 'utf8');
  } catch {
    return undefined;
  }
}

/** Username/password: cached auth file (upstream's two-line format) unless given, else asked. */
export async function askCredentials(
  ctx: SyncContext,
  label: string,
  cachedFile?: string,
): Promise<{ username: string; password: string }> {
  const given = (k: string): boolean => ctx.prompt.hasAnswer?.(k) === true;
  if (cachedFile !== undefined && !given('username')) {
    const cached = readProviderFile(ctx, cachedFile);
    if (cached !== undefined) {
      const [u, p] = cached.split('\n');
      if ((u ?? '').trim() !== '' && (p ?? '').trim() !== '') {
        ctx.prompt.info(`Using cached ${label} credentials for ${(u ?? '').trim()} (from ${cachedFile})`);
        return { username: (u ?? '').trim(), password: (p ?? '').trim() };
      }
    }
  }
  const username = await ctx.prompt.text('username', `${label} username`);
  const password = await ctx.prompt.text('password', `${label} password`, { secret: true });
  return { username, password };
}

/** Port question with a validator. */
export async function askPort(
  p: Prompter,
  def: number,
  ok: (n: number) => boolean,
  rule: string,
): Promise<number> {
  const v = await p.text('port', `Port (${rule})`, {
    default: String(def),
    validate: (s) => {
      const n = Number(s);
      return Number.isInteger(n) && n > 0 && n < 65536 && ok(n) ? undefined : `port must be ${rule}`;
    },
  });
  return Number(v);
}

export function countryOrCode(code: string): string {
  return countryName(code) ?? code.toLowerCase();
}

/** Strips OpenVPN lines that would run programs (upstream drops up/down from provider configs). */
export function cleanOvpn(text: string, dropAuth = false): string {
  return text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .filter((l) => {
      const t = l.trim();
      if (/^(up|down|route-up|script-security)\s/.test(t)) return false;
      if (dropAuth && /^auth-user-pass(\s|$)/.test(t)) return false;
      return true;
    })
    .join('\n');
}

export function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
