/**
 * Numeric functions on the hot path, value for value as cold/functions/numeric.ts (DuckDB's
 * names and result types; a domain error is NULL, never a failure). ln, log10 and exp are
 * computed in log-exp.ts, by the same operations as their SQL.
 */
import { constantNumber, powerSteps } from '../../../plan/functions/numeric.js';
import { arithmetic, finiteOrNull, intOrNull } from '../arithmetic.js';
import { exp, ln, log10 } from './log-exp.js';
import type { HotFunction } from './types.js';

/** C's `round` (DuckDB's): to the nearest integer, halves away from zero; keeps the sign of −0.4. */
export function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** 10^k as the double nearest to it (the same double DuckDB reads from the text `1e<k>`). */
export const powerOfTen = (k: number): number => Number(`1e${k}`);

/**
 * `round(x, d)` of a double: `round(x · 10^d) / 10^d` for d ≥ 0 (x itself when x · 10^d
 * overflows: it has no digits there to round), `round(x / 10^−d) · 10^−d` for d < 0 (NULL when
 * that overflows). Every step is one IEEE operation, as in the DuckDB SQL.
 */
function roundDouble(d: number): (x: number) => number | null {
  if (d >= 0) {
    const m = powerOfTen(d);
    return (x) => { const y = x * m; return Number.isFinite(y) ? roundHalfAway(y) / m : x; };
  }
  const m = powerOfTen(-d);
  return (x) => { const y = roundHalfAway(x / m) * m; return Number.isFinite(y) ? y : null; };
}

/**
 * `round(x, d)` of an int, exactly: x for d ≥ 0; for d < 0 the nearest multiple of 10^−d,
 * halves away from zero, NULL past ±(2^53 − 1). `x % m` and `x − x % m` are exact for ints in
 * range (and for m past them, where the remainder is x and the result 0 or ±m).
 */
function roundInt(d: number): (x: number) => number | null {
  if (d >= 0) return (x) => x;
  const m = powerOfTen(-d);
  return (x) => {
    const r = x % m;
    return intOrNull(x - r + (2 * Math.abs(r) >= m ? Math.sign(x) * m : 0));
  };
}

/** x^n by {@link powerSteps} (1 for n = 0, 1 / x^|n| for n < 0); NULL when not finite. */
function power(n: number): (x: number) => number | null {
  if (n === 0) return () => 1;
  const { squarings, factors } = powerSteps(n);
  const bases: number[] = new Array<number>(squarings + 1).fill(0);
  return (x) => {
    bases[0] = x;
    for (let k = 1; k <= squarings; k++) bases[k] = (bases[k - 1] as number) * (bases[k - 1] as number);
    let r = bases[factors[0] as number] as number;
    for (let k = 1; k < factors.length; k++) r *= bases[factors[k] as number] as number;
    return finiteOrNull(n < 0 ? 1 / r : r);
  };
}

const powerOf: HotFunction = (call) => {
  const f = power(constantNumber(call.args[1]) ?? 0);
  return (a) => f(a[0] as number);
};

export const HOT_NUMERIC: Readonly<Record<string, HotFunction>> = {
  // |x| of an int in ±(2^53 − 1) stays in range; of a double it is exact.
  abs: () => (a) => Math.abs(a[0] as number),
  round: (call) => {
    const d = constantNumber(call.args[1]) ?? 0;
    const f = call.type === 'int' ? roundInt(d) : roundDouble(d);
    return (a) => f(a[0] as number);
  },
  floor: () => (a) => Math.floor(a[0] as number),
  ceil: () => (a) => Math.ceil(a[0] as number),
  ceiling: () => (a) => Math.ceil(a[0] as number),
  sign: () => (a) => { const x = a[0] as number; return x > 0 ? 1 : x < 0 ? -1 : 0; },
  // IEEE square root is correctly rounded in both engines; sqrt(−0) is −0.
  sqrt: () => (a) => { const x = a[0] as number; return x >= 0 ? Math.sqrt(x) : null; },
  power: powerOf,
  pow: powerOf,
  ln: () => (a) => ln(a[0] as number),
  log10: () => (a) => log10(a[0] as number),
  exp: () => (a) => exp(a[0] as number),
  mod: (call) => { const f = arithmetic('%', call.type); return (a) => f(a[0] as number, a[1] as number); },
};
