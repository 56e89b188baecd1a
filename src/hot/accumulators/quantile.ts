/**
 * quantile_cont(x, q) and approx_quantile(x, q): exact for small groups, DDSketch past a
 * threshold.
 *
 * Exact mode keeps the group's values (up to {@link QUANTILE_EXACT_LIMIT}) and computes
 * DuckDB's quantile_cont bit for bit: sort ascending (NaN last), pos = q·(n−1),
 * lo = ⌊pos⌋, hi = ⌈pos⌉, d = pos − lo, result v[lo]·(1 − d) + v[hi]·d (v[lo] if lo = hi).
 * (DuckDB 1.5 interpolates doubles in that form; v[lo] + (v[hi] − v[lo])·d differs in the last
 * bit about a third of the time.)
 *
 * Past the threshold the group switches to a DDSketch (Masson, Rim & Lee, VLDB 2019) with
 * relative accuracy α = 0.01: logarithmic mapping with γ = (1+α)/(1−α), bin i holding the
 * magnitudes in (γ^(i−1), γ^i] and represented by 2γ^i/(γ+1), so every value is represented
 * within relative error α. Positive and negative magnitudes have separate stores; 0, ±∞ and
 * NaN are counted apart. The order statistics v[lo] and v[hi] are read from the sketch and
 * interpolated as above, so a result is within relative error α (1%) of the exact
 * quantile_cont whenever v[lo] and v[hi] have the same sign (a sign change inside the
 * interpolation step gives an absolute error ≤ α·max(|v[lo]|, |v[hi]|)). Each store keeps at
 * most {@link DDSKETCH_MAX_BINS} contiguous bins (a value range of γ^2048 ≈ 6·10^17); beyond
 * that the positive store folds its lowest bins and the negative store its most negative
 * bins into the edge bin, so only the lowest quantiles lose the guarantee. Merging sketches
 * adds bin counts, so the merge of partial sketches is exactly the sketch of the union
 * (while nothing collapses). Memory: 8 bytes per bin between the smallest and largest
 * occupied bin of each store — about 50 bins per factor e of value range (e.g. ~4 KB for
 * values spanning 1 ms..10 s), at most 2 × 16 KB.
 */
import type { Accumulator, AccValue } from './accumulator.js';

/** Groups with at most this many values are computed exactly. */
export const QUANTILE_EXACT_LIMIT = 4096;
/** DDSketch relative accuracy. */
export const DDSKETCH_ALPHA = 0.01;
/** The bin bound of each DDSketch store. */
export const DDSKETCH_MAX_BINS = 2048;

const GAMMA = (1 + DDSKETCH_ALPHA) / (1 - DDSKETCH_ALPHA);
const LN_GAMMA = Math.log(GAMMA);
const INV_LN_GAMMA = 1 / LN_GAMMA;
const REP = 2 / (1 + GAMMA);
const INITIAL_BINS = 64;

/** Dense bin counts: key k at counts[k − base]; occupied keys lie in [min, max]. */
interface Store { base: number; counts: Float64Array; min: number; max: number; total: number }

/** DDSketch: `neg` holds the magnitudes of negative values. */
export interface Sketch { pos: Store; neg: Store; zero: number; negInf: number; posInf: number; nan: number }

/** Exactly one of `vals` (exact mode) and `sk` (sketch) is non-null. */
export interface QuantileState { vals: number[] | null; sk: Sketch | null }

const newStore = (): Store => ({ base: 0, counts: new Float64Array(0), min: 0, max: -1, total: 0 });

/** Makes room for `key` (collapsing if the span would exceed the bound); returns where it goes. */
function fit(s: Store, key: number, collapseHigh: boolean): number {
  let lo = s.total === 0 ? key : Math.min(s.min, key);
  let hi = s.total === 0 ? key : Math.max(s.max, key);
  if (hi - lo + 1 > DDSKETCH_MAX_BINS) {
    if (collapseHigh) hi = lo + DDSKETCH_MAX_BINS - 1; else lo = hi - DDSKETCH_MAX_BINS + 1;
  }
  const span = hi - lo + 1;
  const old = s.counts;
  const len = span <= old.length ? old.length : Math.min(DDSKETCH_MAX_BINS, Math.max(span + 16, 2 * old.length, INITIAL_BINS));
  const base = lo - ((len - span) >> 1);
  const counts = new Float64Array(len);
  if (s.total !== 0) {
    for (let k = s.min; k <= s.max; k++) {
      const c = old[k - s.base] as number;
      if (c === 0) continue;
      const i = (k < lo ? lo : k > hi ? hi : k) - base;
      counts[i] = (counts[i] as number) + c;
    }
    s.min = Math.max(s.min, lo);
    s.max = Math.min(s.max, hi);
  }
  s.base = base;
  s.counts = counts;
  return key < lo ? lo : key > hi ? hi : key;
}

function storeAdd(s: Store, key: number, c: number, collapseHigh: boolean): void {
  if (key < s.base || key >= s.base + s.counts.length) key = fit(s, key, collapseHigh);
  const i = key - s.base;
  s.counts[i] = (s.counts[i] as number) + c;
  if (s.total === 0) { s.min = key; s.max = key; } else if (key < s.min) s.min = key; else if (key > s.max) s.max = key;
  s.total += c;
}

const keyOf = (m: number): number => Math.ceil(Math.log(m) * INV_LN_GAMMA);
const valueOf = (k: number): number => Math.exp(k * LN_GAMMA) * REP;

function sketchAdd(sk: Sketch, x: number): void {
  if (x > 0) { if (x === Infinity) sk.posInf++; else storeAdd(sk.pos, keyOf(x), 1, false); }
  else if (x < 0) { if (x === -Infinity) sk.negInf++; else storeAdd(sk.neg, keyOf(-x), 1, true); }
  else if (x === 0) sk.zero++;
  else sk.nan++;
}

function toSketch(vals: readonly number[]): Sketch {
  const sk: Sketch = { pos: newStore(), neg: newStore(), zero: 0, negInf: 0, posInf: 0, nan: 0 };
  for (const x of vals) sketchAdd(sk, x);
  return sk;
}

function storeMerge(s: Store, o: Store, collapseHigh: boolean): void {
  if (o.total === 0) return;
  storeAdd(s, o.min, 0, collapseHigh);
  storeAdd(s, o.max, 0, collapseHigh);
  for (let k = o.min; k <= o.max; k++) {
    const c = o.counts[k - o.base] as number;
    if (c !== 0) storeAdd(s, k, c, collapseHigh);
  }
}

const sketchCount = (sk: Sketch): number => sk.negInf + sk.neg.total + sk.zero + sk.pos.total + sk.posInf + sk.nan;

/** The sketch's estimate of the r-th smallest value (0-based), in DuckDB order (NaN last). */
function valueAt(sk: Sketch, r: number): number {
  if (r < sk.negInf) return -Infinity;
  r -= sk.negInf;
  const { neg, pos } = sk;
  if (r < neg.total) {
    for (let k = neg.max; k >= neg.min; k--) if ((r -= neg.counts[k - neg.base] as number) < 0) return -valueOf(k);
  }
  r -= neg.total;
  if (r < sk.zero) return 0;
  r -= sk.zero;
  if (r < pos.total) {
    for (let k = pos.min; k <= pos.max; k++) if ((r -= pos.counts[k - pos.base] as number) < 0) return valueOf(k);
  }
  r -= pos.total;
  return r < sk.posInf ? Infinity : NaN;
}

/** quantile_cont interpolation over order statistics `at(0..n−1)`. */
function interpolate(q: number, n: number, at: (i: number) => number): number {
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  if (lo === hi) return at(lo);
  const d = pos - lo;
  return at(lo) * (1 - d) + at(hi) * d; // DuckDB's double interpolation, operation for operation
}

function b64(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function unb64(s: string): Float64Array {
  const buf = Buffer.from(s, 'base64');
  const bytes = new Uint8Array(buf.length);
  bytes.set(buf);
  return new Float64Array(bytes.buffer);
}

type StoreJson = [number, string] | null;
const storeJson = (s: Store): StoreJson => (s.total === 0 ? null : [s.min, b64(s.counts.subarray(s.min - s.base, s.max - s.base + 1))]);

function storeRestore(j: StoreJson): Store {
  if (j === null) return newStore();
  const counts = unb64(j[1]);
  let total = 0;
  for (const c of counts) total += c;
  return { base: j[0], counts, min: j[0], max: j[0] + counts.length - 1, total };
}

interface QuantileJson { v?: string; p?: StoreJson; n?: StoreJson; c?: [number, number, number, number] }

function quantileAccumulator(q: number, name: string): Accumulator<QuantileState> {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`${name}: quantile ${q} is not in [0, 1]`);
  return {
    create: () => ({ vals: [], sk: null }),
    add: (s, v: AccValue) => {
      const x = v as number;
      if (s.sk !== null) { sketchAdd(s.sk, x); return s; }
      const vals = s.vals as number[];
      vals.push(x);
      if (vals.length > QUANTILE_EXACT_LIMIT) { s.sk = toSketch(vals); s.vals = null; }
      return s;
    },
    merge: (s, o) => {
      if (s.sk === null) {
        const vals = s.vals as number[];
        if (o.sk === null) {
          for (const x of o.vals as number[]) vals.push(x);
          if (vals.length <= QUANTILE_EXACT_LIMIT) return s;
          s.sk = toSketch(vals);
          s.vals = null;
          return s;
        }
        s.sk = toSketch(vals);
        s.vals = null;
      } else if (o.sk === null) {
        for (const x of o.vals as number[]) sketchAdd(s.sk, x);
        return s;
      }
      const sk = s.sk;
      const ok = o.sk as Sketch;
      storeMerge(sk.pos, ok.pos, false);
      storeMerge(sk.neg, ok.neg, true);
      sk.zero += ok.zero; sk.negInf += ok.negInf; sk.posInf += ok.posInf; sk.nan += ok.nan;
      return s;
    },
    result: (s) => {
      if (s.sk !== null) { const sk = s.sk; return interpolate(q, sketchCount(sk), (r) => valueAt(sk, r)); }
      const vals = s.vals as number[];
      if (vals.length === 0) return null;
      const sorted = Float64Array.from(vals).sort();
      return interpolate(q, sorted.length, (i) => sorted[i] as number);
    },
    snapshot: (s): QuantileJson => {
      if (s.sk === null) return { v: b64(Float64Array.from(s.vals as number[])) };
      const sk = s.sk;
      return { p: storeJson(sk.pos), n: storeJson(sk.neg), c: [sk.zero, sk.negInf, sk.posInf, sk.nan] };
    },
    restore: (j) => {
      const o = j as QuantileJson;
      if (o.c === undefined) return { vals: o.v === undefined ? [] : Array.from(unb64(o.v)), sk: null };
      const [zero, negInf, posInf, nan] = o.c;
      return { vals: null, sk: { pos: storeRestore(o.p ?? null), neg: storeRestore(o.n ?? null), zero, negInf, posInf, nan } };
    },
    bytes: (s) => (s.sk === null
      ? 64 + 10 * (s.vals as number[]).length
      : 256 + 8 * (s.sk.pos.counts.length + s.sk.neg.counts.length)),
  };
}

/**
 * quantile_cont(x, q): exact (DuckDB's quantile_cont bit for bit) for groups of up to 4,096
 * values (~10 bytes per value); beyond, a DDSketch with relative error ≤ 1% (see module doc),
 * typically a few KB per group. NULL for an empty group.
 */
export function quantileContAcc(q: number): Accumulator<QuantileState> {
  return quantileAccumulator(q, 'quantile_cont');
}

/**
 * approx_quantile(x, q): the same state and results as {@link quantileContAcc} (exact up to
 * 4,096 values, DDSketch with relative error ≤ 1% beyond). DuckDB's approx_quantile uses a
 * t-digest instead, so the cold path's answer may differ from this one by both sketches' errors.
 */
export function approxQuantileAcc(q: number): Accumulator<QuantileState> {
  return quantileAccumulator(q, 'approx_quantile');
}
