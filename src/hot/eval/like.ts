/** SQL LIKE as a RegExp: `%` any run, `_` one character, no escape character, case-sensitive. */
const cache = new Map<string, RegExp>();

export function likeRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    const body = [...pattern].map((ch) => (ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))).join('');
    re = new RegExp(`^${body}$`, 'su');
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}
