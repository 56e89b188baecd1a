/**
 * JSON functions (signatures and plan-time checks; semantics in hot/eval/functions/json.ts,
 * DuckDB SQL in cold/functions/json.ts). The JSON read is the whole event payload, named by the
 * stream or its FROM alias: the parsed payload object on the hot path, the archive's
 * `_pw_payload` text in DuckDB.
 */
import type { StreamDef } from '../../catalog/index.js';
import type { CallExpr, Expr } from '../expr.js';
import type { ArgProblem, ScalarFunction } from './types.js';

/** One step of a path: an object member by key, or an array element by 0-based index. */
export type JsonStep = { readonly key: string } | { readonly index: number };

const MAX_INDEX = 2 ** 31 - 1;

/**
 * Parses a path of the subset: `$` then one or more steps, `.name` (letters, digits, `_`, not
 * starting with a digit), `."any key"` (no `"` or `\` inside) or `[n]` (0 ≤ n ≤ 2^31 − 1).
 * @returns the steps, or what is wrong and at which character (1-based) of the path
 */
export function parseJsonPath(path: string): readonly JsonStep[] | { readonly detail: string; readonly at: number } {
  if (!path.startsWith('$')) return { detail: 'a path starts with $', at: 1 };
  const steps: JsonStep[] = [];
  let i = 1;
  while (i < path.length) {
    const rest = path.slice(i);
    const m = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(rest) ?? /^\."([^"\\]+)"/.exec(rest);
    if (m) { steps.push({ key: m[1] as string }); i += m[0].length; continue; }
    const n = /^\[(0|[1-9][0-9]{0,9})\]/.exec(rest);
    if (n && Number(n[1]) <= MAX_INDEX) { steps.push({ index: Number(n[1]) }); i += n[0].length; continue; }
    const what = rest.startsWith('[') ? 'an index other than [n] with 0 ≤ n ≤ 2147483647 (no negative indexes, wildcards or slices)'
      : rest.startsWith('.') ? 'a key that is neither a name (letters, digits, _) nor "quoted" (without " or \\)' : `unexpected '${rest[0] ?? ''}'`;
    return { detail: what, at: i + 1 };
  }
  if (steps.length === 0) return { detail: 'a path to the whole payload (name a field: $.field)', at: 1 };
  return steps;
}

/** The steps of a bound call's path (argument 2, checked by the binder). */
export function callJsonPath(call: CallExpr): readonly JsonStep[] {
  const a = call.args[1];
  const steps = parseJsonPath(a?.kind === 'LiteralExpr' && typeof a.value === 'string' ? a.value : '');
  return Array.isArray(steps) ? steps : [];
}

/** A PII field of `stream` that the path reads, reads inside, or contains, if any. */
function piiOverlap(steps: readonly JsonStep[], stream: StreamDef | undefined): string | undefined {
  const keys: string[] = [];
  for (const s of steps) { if (!('key' in s)) break; keys.push(s.key); }
  for (const f of stream?.fields.values() ?? []) {
    if (f.pii === undefined) continue;
    const n = Math.min(keys.length, f.segments.length);
    if (keys.length > 0 && f.segments.slice(0, n).every((seg, i) => seg === keys[i])) return f.path;
  }
  return undefined;
}

function checkPath(args: readonly Expr[], stream?: StreamDef): ArgProblem | undefined {
  const a = args[1];
  if (a?.kind !== 'LiteralExpr' || typeof a.value !== 'string') return { message: "the path must be a text literal such as '$.data.page'", arg: 1 };
  const steps = parseJsonPath(a.value);
  if (!Array.isArray(steps)) {
    const bad = steps as { detail: string; at: number };
    return { message: `the path '${a.value}' is outside the supported subset: ${bad.detail} at character ${bad.at} ($.name, $."any key", $.list[0])`, arg: 1, code: 'PW_PLAN_JSON_PATH' };
  }
  const pii = piiOverlap(steps, stream);
  if (pii !== undefined) {
    return {
      message: `the path '${a.value}' reads PII field '${pii}', which the archive keeps hashed or dropped while live events hold it as sent: read the declared field instead`,
      arg: 1, code: 'PW_PLAN_JSON_PATH',
    };
  }
  return undefined;
}

export const JSON_FUNCTIONS: readonly ScalarFunction[] = [
  {
    name: 'json_extract_string', family: 'json', params: ['any', 'string'], result: 'string', strict: true, payloadArg: 0, check: checkPath,
    doc: {
      signature: 'json_extract_string(stream, path literal) → varchar', nulls: 'missing, JSON null, object or array → NULL',
      example: "json_extract_string(orders, '$.data.items[0].sku') = 'A-1'; strings as is, true/false, numbers as BIGINT (integral, within ±(2^53 − 1)) or DOUBLE text (1.5, 1e-07), other integral numbers NULL",
    },
  },
];
