/**
 * COUNT, SUM, AVG, MIN and MAX. SUM of doubles uses Neumaier's compensated summation so the
 * result does not depend on arrival order beyond the last bits, matching DuckDB's `fsum`
 * (Kahan-Babuska) closely; a non-finite double SUM or AVG (overflow) is NULL. SUM of ints is
 * exact whatever the order and the partial sums ({@link intSumAcc}), and NULL when the exact sum
 * lies outside the int range ±(2^53 − 1), as the cold path's HUGEINT `sum` checked against the
 * same range. MIN and MAX order text by code point, as DuckDB.
 */
import { finiteOrNull, intOrNull } from '../eval/arithmetic.js';
import { compareText } from '../eval/value-text.js';
import type { Accumulator, AccValue } from './accumulator.js';

export interface CountState { n: number }

export const countAcc: Accumulator<CountState> = {
  create: () => ({ n: 0 }),
  add: (s) => { s.n++; return s; },
  merge: (s, o) => { s.n += o.n; return s; },
  result: (s) => s.n,
  snapshot: (s) => s.n,
  restore: (j) => ({ n: Number(j) }),
  bytes: () => 32,
};

/** Neumaier-compensated running sum; `n` counts values (SUM of nothing is NULL). */
export interface SumState { sum: number; c: number; n: number }

function addCompensated(s: SumState, x: number): void {
  const t = s.sum + x;
  if (Math.abs(s.sum) >= Math.abs(x)) s.c += (s.sum - t) + x; else s.c += (x - t) + s.sum;
  s.sum = t;
}

export const sumAcc: Accumulator<SumState> = {
  create: () => ({ sum: 0, c: 0, n: 0 }),
  add: (s, v) => { addCompensated(s, v as number); s.n++; return s; },
  merge: (s, o) => { addCompensated(s, o.sum); addCompensated(s, o.c); s.n += o.n; return s; },
  result: (s) => (s.n === 0 ? null : finiteOrNull(s.sum + s.c)),
  snapshot: (s) => [s.sum, s.c, s.n],
  restore: (j) => { const [sum, c, n] = j as [number, number, number]; return { sum, c, n }; },
  bytes: () => 48,
};

export const avgAcc: Accumulator<SumState> = {
  ...sumAcc,
  result: (s) => (s.n === 0 ? null : finiteOrNull((s.sum + s.c) / s.n)),
};

/** Above this magnitude the low part of an exact int sum moves its high bits to the high part. */
const LOW_LIMIT = 2 ** 52;
/** The high part of an exact int sum is a multiple of this. */
const HIGH_UNIT = 2 ** 32;

/**
 * Exact integer summation in two doubles, `hi + lo`: `lo` is an integer with |lo| < 2^52 and
 * `hi` a multiple of 2^32, exact while |hi| < 2^85 (2^32 values of ±2^53, far past any window).
 * Adding an integer x with |x| ≤ 2^53 is `hi += exactCarry(lo, x)`, then
 * `lo = exactRest(lo, x, carry)`. The common case (|lo + x| < 2^52) is one addition; past it,
 * the rounding error of `lo + x` is recovered exactly (Neumaier's two-sum) and the high bits of
 * the rounded sum move to `hi`. This returns the amount moved to `hi` (0 in the common case).
 */
export function exactCarry(lo: number, x: number): number {
  const t = lo + x;
  return t > -LOW_LIMIT && t < LOW_LIMIT ? 0 : Math.trunc(t / HIGH_UNIT) * HIGH_UNIT;
}

/** The new low part after adding `x` with `carry` moved to the high part (see {@link exactCarry}). */
export function exactRest(lo: number, x: number, carry: number): number {
  const t = lo + x;
  if (carry === 0) return t;
  const err = Math.abs(lo) >= Math.abs(x) ? (lo - t) + x : (x - t) + lo;
  return (t - carry) + err; // |t - carry| < 2^32 and |err| ≤ 1: exact
}

/**
 * The int SUM result of an exact sum `hi + lo` over `n` values: NULL for no values or outside
 * ±(2^53 − 1). `hi + lo` rounds the exact sum once, so it is exact inside the range and outside
 * it whenever the exact sum is.
 */
export function exactIntResult(hi: number, lo: number, n: number): number | null {
  return n === 0 ? null : intOrNull(hi + lo);
}

/** An exact int sum: `hi + lo` (see {@link exactCarry}); `n` counts values (SUM of nothing is NULL). */
export interface IntSumState { hi: number; lo: number; n: number }

function addExact(s: IntSumState, x: number): void {
  const carry = exactCarry(s.lo, x);
  s.hi += carry;
  s.lo = exactRest(s.lo, x, carry);
}

/**
 * SUM of ints. The snapshot `[hi, lo, n]` has the shape and meaning (sum = first + second) of
 * the double SUM's `[sum, c, n]`, so checkpoints taken before exact int sums restore unchanged.
 */
export const intSumAcc: Accumulator<IntSumState> = {
  create: () => ({ hi: 0, lo: 0, n: 0 }),
  add: (s, v) => { addExact(s, v as number); s.n++; return s; },
  merge: (s, o) => { s.hi += o.hi; addExact(s, o.lo); s.n += o.n; return s; },
  result: (s) => exactIntResult(s.hi, s.lo, s.n),
  snapshot: (s) => [s.hi, s.lo, s.n],
  restore: (j) => { const [hi, lo, n] = j as [number, number, number]; return { hi, lo, n }; },
  bytes: () => 48,
};

export interface ExtremeState { v: AccValue | null }

function extreme(pick: (a: AccValue, b: AccValue) => boolean): Accumulator<ExtremeState> {
  return {
    create: () => ({ v: null }),
    add: (s, v) => { if (s.v === null || pick(v, s.v)) s.v = v; return s; },
    merge: (s, o) => { if (o.v !== null && (s.v === null || pick(o.v, s.v))) s.v = o.v; return s; },
    result: (s) => s.v,
    snapshot: (s) => s.v,
    restore: (j) => ({ v: j as AccValue | null }),
    bytes: (s) => 32 + (typeof s.v === 'string' ? 2 * s.v.length : 0),
  };
}

/** Whether `a` sorts before `b` (same type): text by code point, numbers and booleans natively. */
function before(a: AccValue, b: AccValue): boolean {
  return typeof a === 'string' ? compareText(a, b as string) < 0 : a < b;
}

export const minAcc = extreme(before);
export const maxAcc = extreme((a, b) => before(b, a));

/** Exact COUNT(DISTINCT x): the distinct values of the group (freed at window close). */
export interface DistinctState { set: Set<AccValue> }

export const countDistinctAcc: Accumulator<DistinctState> = {
  create: () => ({ set: new Set() }),
  add: (s, v) => { s.set.add(v); return s; },
  merge: (s, o) => { for (const v of o.set) s.set.add(v); return s; },
  result: (s) => s.set.size,
  snapshot: (s) => [...s.set],
  restore: (j) => ({ set: new Set(j as AccValue[]) }),
  bytes: (s) => 64 + s.set.size * 40,
};
