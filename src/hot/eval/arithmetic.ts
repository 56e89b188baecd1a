/**
 * Arithmetic of the hot path, one rule per operator and result type, kept identical to the
 * DuckDB SQL of cold/compile-expr.ts:
 *
 * - `int` values are integers in ±(2^53 − 1), the catalog's value domain for `int`. `+ - * %` on
 *   two ints is exact; a result outside that range is NULL (PostgreSQL raises "bigint out of
 *   range" there; pitwall's rule for run-time errors is NULL, as for division by zero).
 * - `double` values are finite IEEE-754 doubles. `+ - * / %` round as IEEE-754 does (underflow
 *   goes gradually to ±0, as in DuckDB); a result that is not finite (overflow) is NULL
 *   (PostgreSQL raises "value out of range: overflow").
 * - `/` is always double division; `/` and `%` by zero (or −0) are NULL. `%` truncates: the
 *   result has the dividend's sign (C `fmod` and integer `%`, as PostgreSQL and DuckDB).
 * - Unary minus never overflows (the int range is symmetric); an int result is never −0.
 *
 * Why ±(2^53 − 1): hot values are JavaScript numbers, exact up to there. Inside the range a
 * double operation on two ints returns the exact result, and when the exact result is outside
 * it, the rounded one is too (rounding is monotonic and ±2^53 are doubles), so the range test
 * on the rounded result is exact.
 */
import { InternalError } from '../../errors.js';
import type { ArithmeticOp, SqlType } from '../../plan/expr.js';

export type Val = string | number | boolean | null;

/** Largest magnitude of an `int` value: 2^53 − 1 (the catalog's `MAX_EXACT_INT`). */
export const MAX_INT = Number.MAX_SAFE_INTEGER;

/** `x` as an int result: itself inside ±(2^53 − 1) (−0 as 0), otherwise NULL. */
export function intOrNull(x: number): number | null {
  return x >= -MAX_INT && x <= MAX_INT ? x + 0 : null;
}

/** `x` as a double result: itself when finite, otherwise (±Infinity, NaN) NULL. */
export function finiteOrNull(x: number): number | null {
  return x - x === 0 ? x : null; // Infinity - Infinity and NaN - NaN are NaN
}

type Binary = (a: number, b: number) => Val;

const INT_OPS: Record<ArithmeticOp, Binary> = {
  '+': (a, b) => intOrNull(a + b),
  '-': (a, b) => intOrNull(a - b),
  '*': (a, b) => intOrNull(a * b),
  '/': (a, b) => (b === 0 ? null : finiteOrNull(a / b)),
  '%': (a, b) => (b === 0 ? null : (a % b) + 0),
};

const DOUBLE_OPS: Record<ArithmeticOp, Binary> = {
  '+': (a, b) => finiteOrNull(a + b),
  '-': (a, b) => finiteOrNull(a - b),
  '*': (a, b) => finiteOrNull(a * b),
  '/': (a, b) => (b === 0 ? null : finiteOrNull(a / b)),
  '%': (a, b) => (b === 0 ? null : finiteOrNull(a % b)),
};

/**
 * The operation `op` whose result has type `type` (the binder's: `int` when both operands are
 * ints, `double` otherwise, always `double` for `/`), on non-NULL operands.
 */
export function arithmetic(op: ArithmeticOp, type: SqlType): Binary {
  if (type === 'int') return INT_OPS[op];
  if (type === 'double') return DOUBLE_OPS[op];
  if (type === 'null') return () => null;
  throw new InternalError(`arithmetic ${op} with result type ${type}`);
}

/**
 * `l op r` as one closure over the operands' evaluators, NULL when either is NULL. The common
 * operations get their own closure (no call through {@link arithmetic}), since they run per event.
 */
export function compileArithmetic<C>(op: ArithmeticOp, type: SqlType, l: (c: C) => Val, r: (c: C) => Val): (c: C) => Val {
  if (type === 'int') {
    if (op === '+') return (c) => { const a = l(c); const b = r(c); if (a === null || b === null) return null; const v = (a as number) + (b as number); return v >= -MAX_INT && v <= MAX_INT ? v + 0 : null; };
    if (op === '-') return (c) => { const a = l(c); const b = r(c); if (a === null || b === null) return null; const v = (a as number) - (b as number); return v >= -MAX_INT && v <= MAX_INT ? v + 0 : null; };
    if (op === '*') return (c) => { const a = l(c); const b = r(c); if (a === null || b === null) return null; const v = (a as number) * (b as number); return v >= -MAX_INT && v <= MAX_INT ? v + 0 : null; };
  } else if (type === 'double') {
    if (op === '+') return (c) => { const a = l(c); const b = r(c); if (a === null || b === null) return null; const v = (a as number) + (b as number); return v - v === 0 ? v : null; };
    if (op === '-') return (c) => { const a = l(c); const b = r(c); if (a === null || b === null) return null; const v = (a as number) - (b as number); return v - v === 0 ? v : null; };
    if (op === '*') return (c) => { const a = l(c); const b = r(c); if (a === null || b === null) return null; const v = (a as number) * (b as number); return v - v === 0 ? v : null; };
  }
  const f = arithmetic(op, type);
  return (c) => { const a = l(c); const b = r(c); return a === null || b === null ? null : f(a as number, b as number); };
}

/** Unary minus with result type `type`: ints never give −0 (DuckDB BIGINT has none), doubles do. */
export function negate(type: SqlType): (v: number) => number {
  return type === 'int' ? (v) => 0 - v : (v) => -v;
}
