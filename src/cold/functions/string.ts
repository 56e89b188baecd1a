/**
 * String functions in DuckDB SQL, value for value as hot/eval/functions/string.ts. Most are
 * DuckDB's own functions, the reference the hot path reproduces; substring computes its range
 * itself, since DuckDB's refuses offsets and lengths past ±2^32 with a run-time error.
 */
import { letIn, textSql, type Parameters } from '../compile-expr.js';
import type { ColdFunction } from './types.js';

const arg = (args: readonly string[], i: number): string => args[i] ?? 'NULL';

/**
 * DuckDB's substring range computed in BIGINT (|start|, |len| ≤ 2^53 − 1, so no overflow) and
 * clamped to [0, length(s)], then taken by DuckDB's substring with small, valid numbers: the
 * same places as substringRange of the hot path.
 */
function substringSql(args: readonly string[], params: Parameters): string {
  const hasLen = args.length > 2;
  const struct = `{'s': ${arg(args, 0)}, 'o': ${arg(args, 1)}, 'l': ${hasLen ? arg(args, 2) : 'CAST(0 AS BIGINT)'}}`;
  return letIn(struct, (v) => {
    const n = `length(${v}.s)`;
    const at = `(CASE WHEN ${v}.o > 0 THEN ${v}.o - 1 WHEN ${v}.o < 0 THEN ${n} + ${v}.o ELSE -1 END)`;
    // s is NULL when any argument is (greatest() and least() would skip a NULL bound).
    const s = `CASE WHEN ${v}.o IS NULL OR ${v}.l IS NULL THEN NULL ELSE ${v}.s END`;
    return letIn(`{'s': ${s}, 'n': ${n}, 'at': ${at}, 'l': ${v}.l}`, (w) => {
      const lo = hasLen ? `CASE WHEN ${w}.l >= 0 THEN ${w}.at ELSE ${w}.at + ${w}.l END` : `${w}.at`;
      const hi = hasLen ? `CASE WHEN ${w}.l >= 0 THEN ${w}.at + ${w}.l ELSE ${w}.at END` : `${w}.n`;
      return letIn(`{'s': ${w}.s, 'a': greatest(${lo}, 0), 'b': least(${hi}, ${w}.n)}`,
        (r) => `CASE WHEN ${r}.s IS NULL THEN NULL WHEN ${r}.b > ${r}.a THEN substring(${r}.s, ${r}.a + 1, ${r}.b - ${r}.a) ELSE '' END`, params);
    }, params);
  }, params);
}

const native = (name: string): ColdFunction => (_call, args) => `${name}(${args.join(', ')})`;

export const COLD_STRING: Readonly<Record<string, ColdFunction>> = {
  // DuckDB's length counts Unicode code points (length_grapheme counts graphemes).
  length: (_call, [s]) => `length(${s ?? 'NULL'})`,
  lower: native('lower'),
  upper: native('upper'),
  substring: (_call, args, params) => `CAST(${substringSql(args, params)} AS VARCHAR)`,
  trim: native('trim'),
  ltrim: native('ltrim'),
  rtrim: native('rtrim'),
  replace: native('replace'),
  // DuckDB's concat skips NULL arguments (all NULL gives ''); each argument in its text form, as ||.
  concat: (call, args, params) => `concat(${args.map((a, i) => textSql(a, call.args[i]?.type ?? 'null', params)).join(', ')})`,
  starts_with: native('starts_with'),
  contains: native('contains'),
  split_part: native('split_part'),
};
