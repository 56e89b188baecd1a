/**
 * JSON functions on the hot path, value for value as cold/functions/json.ts. The first argument
 * is the parsed event payload itself (plan/functions/types.ts PAYLOAD_FIELD); DuckDB reads the
 * same event's JSON text from the archive, so the rule is written for what both can see:
 *
 * - a key that appears twice in an object: the last one (JSON.parse's; DuckDB's own functions
 *   would take the first, so the DuckDB side looks the key up from the end);
 * - an unpaired UTF-16 surrogate escape (`"\ud800"`, which JSON.parse reads and DuckDB refuses)
 *   reads as U+FFFD, in keys and strings (String.prototype.toWellFormed);
 * - the value found: a string as is; `true`/`false`; a number by its value as a double
 *   (JSON.parse's, correctly rounded): integral within ±(2^53 − 1) as BIGINT digits (`1.0` →
 *   `1`, `-0` → `0`), any other finite non-integral as DOUBLE text (value-text.ts doubleToText:
 *   `1.5`, `1e-07`), integral beyond the range or out of the double range NULL (JSON.parse
 *   reads such numbers rounded); JSON null, objects, arrays and a missing path NULL.
 */
import { MAX_EXACT_INT, unpairedSurrogate } from '../../../catalog/index.js';
import { callJsonPath, type JsonStep } from '../../../plan/functions/json.js';
import { doubleToText } from '../value-text.js';
import type { HotFunction } from './types.js';

/** Unpaired UTF-16 surrogates (from `"\ud800"` escapes, which JSON.parse reads). */
const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `s` with each unpaired surrogate replaced by U+FFFD (String.prototype.toWellFormed). */
const wellFormed = (s: string): string => (unpairedSurrogate(s) === undefined ? s : s.replace(LONE_SURROGATES, '\ufffd'));

/** Objects whose keys are all well-formed (most), cached per parsed object. */
const plainKeys = new WeakMap<object, boolean>();

/**
 * The member `key` (well-formed: a path key) of `obj` as DuckDB finds it in the cleaned text:
 * with every key made well-formed, the last member so named. JSON.parse keeps the last value of
 * a repeated key at the key's first place; keys that differ only in their unpaired surrogates
 * could still be ordered otherwise (a documented limit).
 */
function member(obj: Record<string, unknown>, key: string): unknown {
  let plain = plainKeys.get(obj);
  if (plain === undefined) {
    plain = Object.keys(obj).every((k) => unpairedSurrogate(k) === undefined);
    plainKeys.set(obj, plain);
  }
  if (plain) return Object.hasOwn(obj, key) ? obj[key] : undefined;
  let found: unknown;
  for (const k of Object.keys(obj)) if (wellFormed(k) === key) found = obj[k];
  return found;
}

function step(cur: unknown, s: JsonStep): unknown {
  if ('key' in s) return cur !== null && typeof cur === 'object' && !Array.isArray(cur) ? member(cur as Record<string, unknown>, s.key) : undefined;
  return Array.isArray(cur) && s.index < cur.length ? cur[s.index] as unknown : undefined;
}

/** The text of a JSON scalar by the rule above; NULL for anything else. */
export function jsonScalarText(v: unknown): string | null {
  switch (typeof v) {
    case 'string': return wellFormed(v);
    case 'boolean': return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) return null;
      if (Number.isInteger(v)) return Math.abs(v) <= MAX_EXACT_INT ? String(v) : null; // String(-0) is '0'
      return doubleToText(v);
    default: return null;
  }
}

export const HOT_JSON: Readonly<Record<string, HotFunction>> = {
  json_extract_string: (call) => {
    const steps = callJsonPath(call);
    return (a) => {
      let cur: unknown = a[0];
      for (const s of steps) {
        cur = step(cur, s);
        if (cur === undefined) return null;
      }
      return jsonScalarText(cur);
    };
  },
};
