// Country codes ↔ the lower-case names upstream uses in file names (`united_kingdom`), from the
// ICU data built into Node. Names never contain '-' (the prefix rule splits file names on it).

let names: Intl.DisplayNames | undefined;
let reverse: Map<string, string> | undefined;

// Where Node's English names differ from the ones upstream's file names use.
const OVERRIDES: Record<string, string> = {
  us: 'usa',
  gb: 'uk',
  uk: 'uk',
  ba: 'bosnia_and_herzegovina',
  tl: 'east_timor',
  cz: 'czech_republic',
  kr: 'south_korea',
  mk: 'macedonia',
  ci: 'ivory_coast',
  mm: 'myanmar',
  hk: 'hong_kong',
  mo: 'macau',
};

export function slug(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/&/g, 'and')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** `se` → `sweden`; undefined for an unknown code. */
export function countryName(code: string): string | undefined {
  const c = code.trim().toLowerCase();
  // user-assigned codes (AA, QM-QZ, XA-XZ, ZZ) name no country
  if (!/^[a-z]{2}$/.test(c) || c === 'aa' || c === 'zz' || /^(q[m-z]|x[a-z])$/.test(c)) return undefined;
  const o = OVERRIDES[c];
  if (o !== undefined) return o;
  names ??= new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
  let n: string | undefined;
  try {
    n = names.of(c.toUpperCase());
  } catch {
    return undefined;
  }
  return n === undefined || n === c.toUpperCase() || n === 'Unknown Region' ? undefined : slug(n);
}

/** `sweden` / `Sweden` / `united kingdom` → `se` / `gb`; undefined when unknown. */
export function countryCode(name: string): string | undefined {
  if (reverse === undefined) {
    reverse = new Map();
    for (let a = 97; a <= 122; a++) {
      for (let b = 97; b <= 122; b++) {
        const code = String.fromCharCode(a, b);
        const n = countryName(code);
        if (n !== undefined && !reverse.has(n)) reverse.set(n, code);
        if (n !== undefined) {
          names ??= new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
          const plain = names.of(code.toUpperCase());
          if (plain !== undefined && !reverse.has(slug(plain))) reverse.set(slug(plain), code);
        }
      }
    }
    reverse.set('uk', 'gb');
    reverse.set('usa', 'us');
    reverse.set('united_states', 'us');
  }
  return reverse.get(slug(name));
}
