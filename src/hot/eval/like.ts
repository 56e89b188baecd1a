/**
 * SQL LIKE as a RegExp: `%` any run, `_` one character, case-sensitive. With `escape` (one
 * character, from `ESCAPE '!'`), the character after it is literal (`'x!%'` matches "x%" only);
 * without it no character escapes, `\` included (as in DuckDB). A trailing unpaired escape cannot
 * reach here (the binder rejects it); it would match itself.
 */
const caches = new Map<string, Map<string, RegExp>>();

const literal = (ch: string): string => ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export function likeRegExp(pattern: string, escape?: string): RegExp {
  let cache = caches.get(escape ?? '');
  if (!cache) {
    cache = new Map();
    caches.set(escape ?? '', cache);
  }
  let re = cache.get(pattern);
  if (!re) {
    const chars = [...pattern];
    let body = '';
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i] as string;
      if (escape !== undefined && ch === escape && i + 1 < chars.length) body += literal(chars[++i] as string);
      else body += ch === '%' ? '.*' : ch === '_' ? '.' : literal(ch);
    }
    re = new RegExp(`^${body}$`, 'su');
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}
