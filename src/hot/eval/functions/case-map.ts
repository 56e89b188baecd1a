/**
 * lower() and upper() as DuckDB computes them: each code point on its own by the Unicode simple
 * case mapping (UnicodeData.txt, one code point to one code point; no context, so no final
 * sigma), with DuckDB's tables (utf8proc, Unicode 15) where they differ from JavaScript's.
 *
 * JavaScript's toLowerCase/toUpperCase apply the full mappings (ß → SS, İ → i̇, ΐ → three code
 * points) and the final-sigma rule. Here a code point is mapped alone, and a full mapping that
 * yields more than one code point leaves it unchanged, as a simple mapping does; then the
 * exceptions below, found by comparing every code point with DuckDB
 * (test/hot/eval/functions-string.test.ts keeps the comparison exhaustive):
 * - simple mappings that the full ones hide: İ (U+0130) → i, and upper ß → ẞ (U+1E9E), the
 *   Greek letters with ypogegrammeni (ᾀ → ᾈ, …) to their title-case forms;
 * - letters given case pairs after Unicode 15 (Node's ICU knows them, DuckDB does not): unchanged.
 */

type Table = ReadonlyMap<number, number>;

/** Code points in [from, to] each mapped to itself (pairs DuckDB does not know). */
function unchanged(table: Map<number, number>, ranges: readonly (readonly [number, number])[]): void {
  for (const [from, to] of ranges) for (let c = from; c <= to; c++) table.set(c, c);
}

const LOWER_EXCEPTIONS: Table = (() => {
  const t = new Map<number, number>([[0x130, 0x69]]);
  unchanged(t, [[0x1c89, 0x1c89], [0xa7cb, 0xa7cc], [0xa7ce, 0xa7ce], [0xa7d2, 0xa7d2], [0xa7d4, 0xa7d4], [0xa7da, 0xa7da], [0xa7dc, 0xa7dc],
    [0x10d50, 0x10d65], [0x16ea0, 0x16eb8]]);
  return t;
})();

const UPPER_EXCEPTIONS: Table = (() => {
  const t = new Map<number, number>([[0xdf, 0x1e9e], [0x1fb3, 0x1fbc], [0x1fc3, 0x1fcc], [0x1ff3, 0x1ffc]]);
  for (const base of [0x1f80, 0x1f90, 0x1fa0]) for (let c = base; c < base + 8; c++) t.set(c, c + 8);
  unchanged(t, [[0x19b, 0x19b], [0x264, 0x264], [0x1c8a, 0x1c8a], [0xa7cd, 0xa7cd], [0xa7cf, 0xa7cf], [0xa7d3, 0xa7d3], [0xa7d5, 0xa7d5], [0xa7db, 0xa7db],
    [0x10d70, 0x10d85], [0x16ebb, 0x16ed3]]);
  return t;
})();

/** Nothing above U+007F: JavaScript maps such text as DuckDB does (A–Z ↔ a–z only). */
const ASCII = /^[^\u0080-\uffff]*$/;

function caseMapper(full: (s: string) => string, exceptions: Table): (s: string) => string {
  const cache = new Map<string, string>();
  const one = (ch: string): string => {
    let m = cache.get(ch);
    if (m === undefined) {
      const cp = ch.codePointAt(0) as number;
      const ex = exceptions.get(cp);
      if (ex !== undefined) m = String.fromCodePoint(ex);
      else {
        const f = full(ch);
        // One code point (one or two UTF-16 units, never more): a simple mapping; else none.
        m = f.length === 1 || (f.length === 2 && f.codePointAt(0) as number > 0xffff) ? f : ch;
      }
      cache.set(ch, m);
    }
    return m;
  };
  return (s) => {
    if (ASCII.test(s)) return full(s);
    let out = '';
    for (const ch of s) out += one(ch);
    return out;
  };
}

/** DuckDB's lower(): per code point, simple lower-case mapping. */
export const lowerText = caseMapper((s) => s.toLowerCase(), LOWER_EXCEPTIONS);
/** DuckDB's upper(): per code point, simple upper-case mapping (ß → ẞ). */
export const upperText = caseMapper((s) => s.toUpperCase(), UPPER_EXCEPTIONS);
