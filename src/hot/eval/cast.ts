/**
 * CAST on the hot path: one rule per (source type, target type), identical to the DuckDB SQL of
 * cold/compile-expr.ts. CAST never fails: a value that does not convert is NULL.
 *
 * | from \ to | BIGINT | DOUBLE | BOOLEAN | VARCHAR | TIMESTAMP |
 * |---|---|---|---|---|---|
 * | text | {@link textToInt} | {@link textToDouble} | {@link textToBoolean} | itself | {@link textToTimestamp} |
 * | int | itself | exact | ≠ 0 | decimal digits | — |
 * | double | round half to even, NULL past ±(2^53 − 1) | itself | ≠ 0 | {@link doubleToText} | — |
 * | boolean | 1 / 0 | 1.0 / 0.0 | itself | `true` / `false` | — |
 * | timestamp | — | — | — | {@link timestampToText} | itself |
 *
 * NULL casts to NULL. The pairs marked — are rejected by the binder (plan/bind-expr.ts) and are
 * an internal error here; so is `CAST(double AS VARCHAR)`, whose text form serves `||` only.
 * Text forms follow PostgreSQL's input functions (`int8in`, `float8in`, `boolin`) narrowed to
 * what DuckDB can be made to read identically; see text-forms.ts.
 */
import { InternalError } from '../../errors.js';
import type { SqlType } from '../../plan/index.js';
import { intOrNull, type Val } from './arithmetic.js';
import { doubleToText, textToBoolean, textToDouble, textToInt, textToTimestamp, timestampToText } from './value-text.js';

export type { Val } from './arithmetic.js';

/**
 * Round half to even, as PostgreSQL (`rint`) and DuckDB (`nearbyint`) cast DOUBLE to BIGINT.
 * `Math.round` rounds halves up; an odd result from a half is one too high.
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

type Cast = (v: never) => Val;

const identity = (v: Val): Val => v;

/** The conversion of a non-NULL value of type `from` to type `to`, or undefined when unsupported. */
function conversion(from: SqlType, to: SqlType): Cast | undefined {
  if (from === to) return identity;
  switch (to) {
    case 'int':
      if (from === 'string') return textToInt;
      if (from === 'double') return (v: number) => intOrNull(roundHalfEven(v));
      if (from === 'boolean') return (v: boolean) => (v ? 1 : 0);
      return undefined;
    case 'double':
      if (from === 'string') return textToDouble;
      if (from === 'int') return identity;
      if (from === 'boolean') return (v: boolean) => (v ? 1 : 0);
      return undefined;
    case 'boolean':
      if (from === 'string') return textToBoolean;
      if (from === 'int' || from === 'double') return (v: number) => v !== 0;
      return undefined;
    case 'string':
      if (from === 'int') return (v: number) => String(v + 0);
      if (from === 'double') return doubleToText;
      if (from === 'boolean') return (v: boolean) => (v ? 'true' : 'false');
      if (from === 'timestamp') return timestampToText;
      return undefined;
    case 'timestamp':
      return from === 'string' ? textToTimestamp : undefined;
    case 'null':
      return () => null;
  }
}

/** Compiles `CAST(x AS to)` for `x` of type `from`: NULL stays NULL, other values convert. */
export function compileCast(from: SqlType, to: SqlType): (v: Val) => Val {
  if (from === 'null') return () => null;
  const f = conversion(from, to) as ((v: Val) => Val) | undefined;
  if (!f) throw new InternalError(`CAST from ${from} to ${to} reached the evaluator (the binder rejects it)`);
  return (v) => (v === null ? null : f(v));
}
