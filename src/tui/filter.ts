// Incremental server filter. Each row gets one lower-case haystack when the list is loaded; a
// query is split into words that must all occur. When the new query only extends the previous
// one (the usual case while typing), only the previous matches are searched again.
import type { ServerRow } from './catalogue.js';

export interface FilterIndex {
  readonly haystacks: readonly string[];
}

export function buildIndex(rows: readonly ServerRow[]): FilterIndex {
  return {
    haystacks: rows.map((r) =>
      [r.name, r.country ?? '', r.city ?? '', r.host ?? '', r.protocol].join(' ').toLowerCase(),
    ),
  };
}

export function queryTerms(query: string): string[] {
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter((t) => t !== '');
}

/** Every row index when the query is empty; a fresh array each time. */
export function allIndices(index: FilterIndex): number[] {
  return index.haystacks.map((_, i) => i);
}

/**
 * Indices of the rows matching `query`. `previous` (with the matches it produced) lets an
 * extended query search only those matches again.
 */
export function filterRows(
  index: FilterIndex,
  query: string,
  previous?: { query: string; matches: readonly number[] },
): number[] {
  const terms = queryTerms(query);
  if (terms.length === 0) return allIndices(index);
  const narrowing =
    previous !== undefined &&
    queryTerms(previous.query).length > 0 &&
    isRefinement(queryTerms(previous.query), terms);
  const candidates = narrowing ? previous.matches : undefined;
  const out: number[] = [];
  const hs = index.haystacks;
  if (candidates) {
    for (const i of candidates) if (matches(hs[i] ?? '', terms)) out.push(i);
  } else {
    for (let i = 0; i < hs.length; i++) if (matches(hs[i] ?? '', terms)) out.push(i);
  }
  return out;
}

function matches(haystack: string, terms: string[]): boolean {
  for (const t of terms) if (!haystack.includes(t)) return false;
  return true;
}

/** True when every match of `next` is sure to be a match of `prev`. */
function isRefinement(prev: string[], next: string[]): boolean {
  // each previous term must be contained in some next term (then a row matching all next terms
  // contains every previous term too)
  return prev.every((p) => next.some((n) => n.includes(p)));
}
