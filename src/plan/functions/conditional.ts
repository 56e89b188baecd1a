/**
 * Conditional scalar functions (signatures; semantics in hot/eval/functions/conditional.ts):
 * greatest, least and nullif, as PostgreSQL's "Conditional Expressions" and DuckDB define them, and
 * the NULL-safe comparisons `a IS [NOT] DISTINCT FROM b` (PostgreSQL's "Comparison Predicates").
 * Their arguments take one common type, as CASE and COALESCE do: all of one type, or numbers
 * (an int among doubles widens to double); a NULL literal takes the others' type.
 */
import type { Expr, SqlType } from '../expr.js';
import type { ArgProblem, ScalarFunction } from './types.js';

/** The common type of `args` (`null` when every one is NULL). */
export function commonType(args: readonly Expr[]): SqlType {
  const real = args.map((a) => a.type).filter((t) => t !== 'null');
  if (real.length === 0) return 'null';
  if (real.every((t) => t === real[0])) return real[0] as SqlType;
  return 'double';
}

/** A problem at the first argument whose type does not meet the first typed one's. */
function oneType(args: readonly Expr[]): ArgProblem | undefined {
  const first = args.find((a) => a.type !== 'null')?.type;
  const numeric = (t: SqlType): boolean => t === 'int' || t === 'double';
  const k = args.findIndex((a) => a.type !== 'null' && a.type !== first && !(numeric(a.type) && first !== undefined && numeric(first)));
  return k < 0 ? undefined : { message: `argument ${k + 1} is ${String(args[k]?.type)}, the arguments before it ${String(first)}: CAST them to one type`, arg: k };
}

export const CONDITIONAL_FUNCTIONS: readonly ScalarFunction[] = [
  {
    name: 'greatest', family: 'conditional', params: ['any'], variadic: true, result: commonType, strict: false, check: oneType,
    doc: {
      signature: 'greatest(a, b, …) → common type (numbers, text, timestamps, booleans)',
      nulls: 'NULLs are skipped; all NULL → NULL',
      example: "greatest(1, NULL, 2.5) = 2.5, greatest('a', 'B') = 'a' (code point order)",
    },
  },
  {
    name: 'least', family: 'conditional', params: ['any'], variadic: true, result: commonType, strict: false, check: oneType,
    doc: { signature: 'least(a, b, …) → common type', nulls: 'NULLs are skipped; all NULL → NULL', example: 'least(3, NULL, 1) = 1; on ties the first: least(0.0, -0.0) = 0.0' },
  },
  {
    name: 'is_distinct_from', family: 'conditional', params: ['any', 'any'], result: 'boolean', strict: false, check: oneType,
    doc: { signature: 'a IS DISTINCT FROM b → boolean (also is_distinct_from(a, b))', nulls: 'NULL-safe: two NULLs are not distinct, NULL and a value are', example: 'NULL IS DISTINCT FROM 1 = true, -0.0 IS DISTINCT FROM 0.0 = false' },
  },
  {
    name: 'is_not_distinct_from', family: 'conditional', params: ['any', 'any'], result: 'boolean', strict: false, check: oneType,
    doc: { signature: 'a IS NOT DISTINCT FROM b → boolean (also is_not_distinct_from(a, b))', nulls: 'NULL-safe: NULL IS NOT DISTINCT FROM NULL is true', example: "kind IS NOT DISTINCT FROM NULL = kind IS NULL" },
  },
  {
    name: 'nullif', family: 'conditional', params: ['any', 'any'], result: commonType, strict: false, check: oneType,
    doc: { signature: 'nullif(a, b) → common type', nulls: 'NULL when a = b or a is NULL; b NULL → a', example: "nullif(kind, '') is NULL for ''" },
  },
];
