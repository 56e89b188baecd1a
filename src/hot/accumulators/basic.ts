/**
 * COUNT, SUM (compensated), AVG, MIN and MAX. SUM of doubles uses Neumaier's compensated
 * summation so the result does not depend on arrival order beyond the last bits, matching
 * DuckDB's `fsum` (Kahan-Babuska) closely; SUM of integers is exact while |sum| < 2^53.
 */
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
  result: (s) => (s.n === 0 ? null : s.sum + s.c),
  snapshot: (s) => [s.sum, s.c, s.n],
  restore: (j) => { const [sum, c, n] = j as [number, number, number]; return { sum, c, n }; },
  bytes: () => 48,
};

export const avgAcc: Accumulator<SumState> = {
  ...sumAcc,
  result: (s) => (s.n === 0 ? null : (s.sum + s.c) / s.n),
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

export const minAcc = extreme((a, b) => a < b);
export const maxAcc = extreme((a, b) => a > b);

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
