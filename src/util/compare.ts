/**
 * Value ordering shared by result sorting and top-N tie-breaks: NULLs last, numbers and
 * timestamps numerically, booleans false < true, strings by UTF-16 code units (equal to
 * DuckDB's byte order for text without characters above U+FFFF… mixed with U+E000–U+FFFF).
 */
export type Comparable = string | number | boolean | null;

export function compareValues(a: Comparable, b: Comparable): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}
