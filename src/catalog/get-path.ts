/** Reads the value at a dot path's `segments` inside a parsed payload; undefined when any step is missing or not an object. */
export function getPath(obj: unknown, segments: readonly string[]): unknown {
  let cur = obj;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}
