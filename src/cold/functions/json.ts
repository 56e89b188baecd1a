/**
 * JSON functions in DuckDB SQL, value for value as hot/eval/functions/json.ts (whose docstring
 * states the rule): the event's archived JSON text, its unpaired surrogate escapes made U+FFFD
 * (DuckDB refuses them), walked step by step — a key looked up from the end of
 * the object's members, so a duplicate key gives its last value as JSON.parse does — and the
 * value written by type, numbers through their DOUBLE value.
 */
import { MAX_EXACT_INT } from '../../catalog/index.js';
import { callJsonPath, type JsonStep } from '../../plan/functions/json.js';
import { letIn, type Parameters } from '../compile-expr.js';
import { withLiteralArg } from './literal-arg.js';
import type { ColdFunction } from './types.js';

function stepSql(cur: string, s: JsonStep, params: Parameters): string {
  if ('key' in s) {
    const key = params.add(s.key);
    return letIn(cur, (c) => `CASE WHEN json_type(${c}) = 'OBJECT' THEN json_extract(${c}, '$.*')[len(json_keys(${c})) + 1 - list_position(list_reverse(json_keys(${c})), ${key})] END`, params);
  }
  return letIn(cur, (c) => `CASE WHEN json_type(${c}) = 'ARRAY' THEN json_extract(${c}, '$[${s.index}]') END`, params);
}

/** A JSON number's text by its DOUBLE value: BIGINT digits when integral within ±(2^53 − 1), DOUBLE text when not integral. */
function numberSql(json: string, params: Parameters): string {
  return letIn(`TRY_CAST(${json} AS DOUBLE)`, (x) => `CASE WHEN NOT isfinite(${x}) THEN NULL WHEN ${x} = trunc(${x}) `
    + `THEN CASE WHEN abs(${x}) <= ${MAX_EXACT_INT} THEN CAST(CAST(${x} AS BIGINT) AS VARCHAR) END ELSE CAST(${x} AS VARCHAR) END`, params);
}

const HEX = '[0-9a-fA-F]';
/** Escapes that stay: any but \\u, a surrogate pair, a \\u escape outside the surrogates. */
const KEEP = `\\\\[^u]|\\\\u[dD][89abAB]${HEX}{2}\\\\u[dD][c-fC-F]${HEX}{2}|\\\\u(?:[0-9a-cA-Ce-fE-F]${HEX}{3}|[dD][0-7]${HEX}{2})`;
const LONE = `\\\\u[dD][89a-fA-F]${HEX}{2}`;

/**
 * The JSON text with each unpaired surrogate escape (`\\ud800` alone) written as `\\ufffd`,
 * as the hot path reads it (DuckDB refuses such text as JSON). Every escape is matched from its
 * backslash: the first pass marks the kept ones with U+0001 after them and turns the unpaired
 * ones into U+0001 (a raw control character, which valid JSON never holds), the second unmarks
 * the kept ones, the third writes U+FFFD's escape for the rest.
 */
function wellFormedSql(text: string, params: Parameters): string {
  return letIn(text, (t) => `CASE WHEN contains(${t}, '\\u') THEN replace(regexp_replace(regexp_replace(${t}, '(${KEEP})|${LONE}', '\\1' || chr(1), 'g'), `
    + `'(\\\\[^u]|\\\\u${HEX}{4}(?:\\\\u${HEX}{4})?)\\x01', '\\1', 'g'), chr(1), '\\ufffd') ELSE ${t} END`, params);
}

export const COLD_JSON: Readonly<Record<string, ColdFunction>> = {
  json_extract_string: (call, [payload, path], params) => {
    let cur = letIn(wellFormedSql(payload ?? 'NULL', params), (t) => `CASE WHEN json_valid(${t}) THEN CAST(${t} AS JSON) END`, params);
    for (const s of callJsonPath(call)) cur = stepSql(cur, s, params);
    return withLiteralArg(path, letIn(cur, (v) => `CASE json_type(${v}) WHEN 'VARCHAR' THEN json_extract_string(${v}, '$') WHEN 'BOOLEAN' THEN json_extract_string(${v}, '$') `
      + `WHEN 'BIGINT' THEN ${numberSql(v, params)} WHEN 'UBIGINT' THEN ${numberSql(v, params)} WHEN 'DOUBLE' THEN ${numberSql(v, params)} END`, params));
  },
};
