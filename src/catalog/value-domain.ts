/**
 * The value domain: the values the hot path (JavaScript), the Arrow/Parquet archive and DuckDB
 * all represent identically. A payload holding anything outside it is quarantined at
 * validation with a precise reason, never changed silently downstream. Per catalog type:
 *
 * | type | domain |
 * |---|---|
 * | `int` | integers with \|v\| ≤ 2^53 − 1 (JSON numbers beyond that are not read exactly by JSON.parse) |
 * | `double` | finite IEEE-754 doubles (JSON 1e400 parses to Infinity: rejected) |
 * | `timestamp` | 0001-01-01T00:00:00.000Z … 9999-12-31T23:59:59.999Z (util/timestamp.ts) |
 * | `string` | well-formed Unicode: no unpaired UTF-16 surrogates (`"\ud800"` escapes) |
 * | `boolean` | true / false |
 *
 * Every payload: valid UTF-8 bytes (RFC 8259 §8.1; util/utf8.ts finds the first bad byte), a JSON object nested at most
 * {@link MAX_PAYLOAD_DEPTH} levels deep (undeclared fields included: they are archived).
 * Event ids are strings or ints of that domain, so two different ids never read as one.
 */

/** Largest magnitude of an `int` value: 2^53 − 1, the last integer every path holds exactly. */
export const MAX_EXACT_INT = Number.MAX_SAFE_INTEGER;

/** Deepest nesting of objects and arrays in a payload (the payload object itself is level 1). */
export const MAX_PAYLOAD_DEPTH = 64;

/**
 * Whether a JSON text nests objects/arrays deeper than `limit`. A scan of the text that skips
 * string contents (brackets inside strings do not nest); texts too short to reach the limit
 * return at once. Runs before JSON.parse, so a 1,000,000-level payload costs one linear scan.
 */
export function nestsDeeperThan(text: string, limit = MAX_PAYLOAD_DEPTH): boolean {
  if (text.length <= limit * 2) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--;
    }
  }
  return false;
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** UTF-16 index of the first unpaired surrogate of `s` (outside the domain), or undefined. */
export function unpairedSurrogate(s: string): number | undefined {
  return LONE_SURROGATE.exec(s)?.index;
}
