// Hand-written checks for JSON from provider APIs: each throws a message naming what was wrong,
// so a changed API gives "Mullvad relay list: field 'pubkey' missing" instead of a crash.

export class FormatError extends Error {}

export type Obj = Record<string, unknown>;

export function fail(what: string, detail: string): never {
  throw new FormatError(
    `${what}: unexpected answer from the provider (${detail}); try again later or report it`,
  );
}

export function obj(v: unknown, what: string, path = 'answer'): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(what, `${path} is not an object`);
  return v as Obj;
}

export function arr(v: unknown, what: string, path = 'answer'): unknown[] {
  if (!Array.isArray(v)) fail(what, `${path} is not a list`);
  return v;
}

export function str(o: Obj, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') fail(what, `field '${key}' missing or not text`);
  return v;
}

export function optStr(o: Obj, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

export function num(o: Obj, key: string, what: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(what, `field '${key}' missing or not a number`);
  return v;
}

export function bool(o: Obj, key: string, what: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') fail(what, `field '${key}' missing or not true/false`);
  return v;
}

export function optBool(o: Obj, key: string): boolean | undefined {
  const v = o[key];
  return typeof v === 'boolean' ? v : undefined;
}
