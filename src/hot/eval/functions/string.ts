/** String functions on the hot path, value for value as cold/functions/string.ts. */
import type { HotFunction } from './types.js';

/** Unicode code points in `s` (a JavaScript string counts UTF-16 units; DuckDB counts code points). */
function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

export const HOT_STRING: Readonly<Record<string, HotFunction>> = {
  length: () => (a) => codePoints(a[0] as string),
};
