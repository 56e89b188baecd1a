/**
 * approx_count_distinct(x): exact for small groups, HyperLogLog past a threshold.
 *
 * A group starts in exact mode (a `Set` of its values) and stays exact up to
 * {@link HLL_EXACT_LIMIT} distinct values. The next distinct value switches it to a
 * HyperLogLog sketch of precision p = 12: 4,096 one-byte registers (4 KB per group, fixed),
 * fed by the 64-bit two-lane hash of `hash.ts` (register index from the top 12 bits of lane A,
 * rank from lane B then the remaining 20 bits of lane A, so index and rank are independent).
 * The estimate uses Ertl's improved estimator, which is the classic α·m²/Σ2^-M[j] in the mid
 * range with the small-range (linear-counting) correction built in and without the classic
 * estimator's bias bump where it switches from linear counting (measured: +1.5% bias, 3% RMS
 * at 10k with the classic switch; ~0% bias, 1.4% RMS with Ertl's). No large-range correction
 * is needed with 64 bits of hash. Standard error 1.04/√4096 ≈ 1.6% (so about 5% at 3σ);
 * test/hot/accumulators/hll.test.ts measures it.
 * The result differs from DuckDB's approx_count_distinct (a different sketch), within that error.
 */
import type { Accumulator, AccValue } from './accumulator.js';
import { hash64 } from './hash.js';

/** Groups with at most this many distinct values are counted exactly. */
export const HLL_EXACT_LIMIT = 1024;
/** HyperLogLog precision: 2^12 registers. */
export const HLL_PRECISION = 12;
const M = 1 << HLL_PRECISION;
/** Hash bits left for the rank: register values run 0..Q+1. */
const Q = 64 - HLL_PRECISION;

/** Exactly one of `set` (exact mode) and `regs` (HyperLogLog registers) is non-null. */
export interface HllState { set: Set<AccValue> | null; regs: Uint8Array | null }

const scratch = new Uint32Array(2);

/** Inserts one value into the registers (no allocation). */
function insert(regs: Uint8Array, v: AccValue): void {
  hash64(v, scratch);
  const h1 = scratch[0] as number;
  const h2 = scratch[1] as number;
  const idx = h1 >>> (32 - HLL_PRECISION);
  // rank = 1 + leading zeros of the 52-bit word (lane B ‖ low 20 bits of lane A); max 53.
  const rank = h2 !== 0 ? Math.clz32(h2) + 1 : 33 + Math.clz32((h1 << HLL_PRECISION) | (1 << (HLL_PRECISION - 1)));
  if (rank > (regs[idx] as number)) regs[idx] = rank;
}

function toRegisters(set: Set<AccValue>, regs: Uint8Array = new Uint8Array(M)): Uint8Array {
  for (const v of set) insert(regs, v);
  return regs;
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  for (;;) {
    x *= x;
    const prev = z;
    z += x * y;
    y += y;
    if (z === prev) return z;
  }
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (;;) {
    x = Math.sqrt(x);
    const prev = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
    if (z === prev) return z / 3;
  }
}

const hist = new Float64Array(Q + 2);

/**
 * The cardinality estimate of `regs`: Ertl's improved estimator (2017, "New cardinality
 * estimation algorithms for HyperLogLog sketches", Algorithm 6). It equals the classic
 * α·m²/Σ2^-M[j] in the mid range but folds the small-range (linear-counting-like) and
 * saturation corrections into one formula, so it has no bias bump at the classic
 * linear-counting switch-over (≈2.5m ≈ 10k here).
 */
export function hllEstimate(regs: Uint8Array): number {
  hist.fill(0);
  for (let j = 0; j < M; j++) { const r = regs[j] as number; hist[r] = (hist[r] as number) + 1; }
  let z = M * tau(1 - (hist[Q + 1] as number) / M);
  for (let k = Q; k >= 1; k--) z = 0.5 * (z + (hist[k] as number));
  z += M * sigma((hist[0] as number) / M);
  return (M * M) / (2 * Math.LN2 * z);
}

/**
 * approx_count_distinct(x). Exact (a `Set`, ~40 bytes per value) up to 1,024 distinct
 * values; beyond, HyperLogLog p=12: 4 KB per group, relative standard error ≈ 1.6%
 * (≤ 5% at 3σ). 1, '1' and true are distinct values. `merge` of two sketches is a
 * register-wise max, so merging partial states gives exactly the sketch of the union.
 */
export const approxCountDistinctAcc: Accumulator<HllState> = {
  create: () => ({ set: new Set(), regs: null }),
  add: (s, v) => {
    if (s.regs !== null) { insert(s.regs, v); return s; }
    const set = s.set as Set<AccValue>;
    set.add(v);
    if (set.size > HLL_EXACT_LIMIT) { s.regs = toRegisters(set); s.set = null; }
    return s;
  },
  merge: (s, o) => {
    if (s.regs === null) {
      const set = s.set as Set<AccValue>;
      if (o.regs === null) {
        for (const v of o.set as Set<AccValue>) set.add(v);
        if (set.size <= HLL_EXACT_LIMIT) return s;
        s.regs = toRegisters(set);
      } else {
        s.regs = toRegisters(set, new Uint8Array(o.regs));
      }
      s.set = null;
      return s;
    }
    if (o.regs === null) { toRegisters(o.set as Set<AccValue>, s.regs); return s; }
    const a = s.regs;
    const b = o.regs;
    for (let j = 0; j < M; j++) if ((b[j] as number) > (a[j] as number)) a[j] = b[j] as number;
    return s;
  },
  result: (s) => (s.regs === null ? (s.set as Set<AccValue>).size : Math.round(hllEstimate(s.regs))),
  snapshot: (s) => {
    if (s.regs !== null) return { r: Buffer.from(s.regs).toString('base64') };
    // JSON has no NaN/±Infinity: those go by name in `x`.
    const v: AccValue[] = [];
    const x: string[] = [];
    for (const e of s.set as Set<AccValue>) if (typeof e === 'number' && !Number.isFinite(e)) x.push(String(e)); else v.push(e);
    return x.length === 0 ? { v } : { v, x };
  },
  restore: (j) => {
    const o = j as { v?: AccValue[]; x?: string[]; r?: string };
    if (typeof o.r === 'string') {
      const regs = new Uint8Array(Buffer.from(o.r, 'base64'));
      if (regs.length !== M) throw new Error(`approx_count_distinct snapshot: ${regs.length} registers, expected ${M}`);
      return { set: null, regs };
    }
    const set = new Set<AccValue>(o.v ?? []);
    for (const e of o.x ?? []) set.add(Number(e));
    return { set, regs: null };
  },
  bytes: (s) => {
    if (s.regs !== null) return 96 + M;
    let b = 64;
    for (const v of s.set as Set<AccValue>) b += typeof v === 'string' ? 40 + 2 * v.length : 40;
    return b;
  },
};
