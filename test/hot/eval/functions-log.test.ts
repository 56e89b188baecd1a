/**
 * ln, log10 and exp: written-out values on both paths, the distance in ulps to the true value
 * (a BigInt reference) and to V8's Math.log / Math.exp, the exactness of DuckDB's pow(2, k)
 * that the SQL relies on, and hot == cold over random and fixed batches of doubles, subnormals
 * and the neighbours of every power of two included.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exp, ln, log10, pow2 } from '../../../src/hot/eval/functions/log-exp.js';
import { displayExpr, type Expr } from '../../../src/plan/index.js';
import { doubles, orNull } from '../../support/scalar-arbitraries.js';
import { call, evalCold, evalHot, field, lit, parityDiffs, type ScalarRow } from '../../support/scalar-parity.js';

const RUNS = Number(process.env.PITWALL_FUZZ_RUNS ?? 40);
const d = (v: number): Expr => lit(v, 'double');
const i = (v: number): Expr => lit(v, 'int');
const neg = (e: Expr): Expr => ({ kind: 'NegateExpr', operand: e, type: e.type });

const view = new DataView(new ArrayBuffer(8));
/** The double's bits as an integer ordered as the doubles are (−0 and 0 both 0). */
function ordered(x: number): bigint {
  view.setFloat64(0, x);
  const b = view.getBigInt64(0);
  return b < 0n ? -(b & 0x7fff_ffff_ffff_ffffn) : b;
}
const ulps = (a: number, b: number): number => Math.abs(Number(ordered(a) - ordered(b)));
function fromBits(b: bigint): number {
  view.setBigUint64(0, b);
  return view.getFloat64(0);
}
const next = (x: number, by: bigint): number => fromBits(BigInt.asUintN(64, ordered(x) + by));

/** A seeded generator (mulberry32): the fixed batches are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
/** A positive finite double with random bits: every binade, subnormals included, equally likely. */
const anyPositive = (rand: () => number): number => fromBits((BigInt(Math.floor(rand() * 0x7ff)) << 52n) | BigInt(Math.floor(rand() * 2 ** 52)));

// The true logarithms in 128-bit fixed point: ln m = 2 atanh((m − 1) / (m + 1)).
const P = 128n;
const ONE = 1n << P;
function atanh2(num: bigint, den: bigint): bigint {
  const s = (num << P) / den;
  const s2 = (s * s) >> P;
  let term = s;
  let sum = 0n;
  for (let n = 1n; term !== 0n; n += 2n) {
    sum += term / n;
    term = (term * s2) >> P;
  }
  return 2n * sum;
}
const LN2 = atanh2(1n, 3n);
const LN10 = 3n * LN2 + atanh2(1n, 9n); // 10 = 2^3 · 1.25
/** ln x in fixed point, for finite x > 0 (x = M · 2^E exactly, from its bits). */
function bigLn(x: number): bigint {
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const be = (bits >> 52n) & 0x7ffn;
  const mant = be === 0n ? bits & 0xf_ffff_ffff_ffffn : (bits & 0xf_ffff_ffff_ffffn) | (1n << 52n);
  const width = BigInt(mant.toString(2).length);
  const k = (be === 0n ? -1074n : be - 1075n) + width - 1n; // x = (mant / 2^(width−1)) · 2^k
  const m = (mant << P) >> (width - 1n); // in [1, 2), exact
  return atanh2(m - ONE, m + ONE) + k * LN2;
}
/** y exactly in fixed point, for |y| ≥ 2^−70 (its bits then all lie above 2^−128). */
function fixed(y: number): bigint {
  view.setFloat64(0, Math.abs(y));
  const bits = view.getBigUint64(0);
  const be = (bits >> 52n) & 0x7ffn;
  const v = ((bits & 0xf_ffff_ffff_ffffn) | (1n << 52n)) << (be - 1075n + P);
  return y < 0 ? -v : v;
}
/** e^y for a normal result (−708 < y < 709.78): 2^k · e^r, r = y − k · ln 2, by its Taylor series. */
function trueExp(y: number): number {
  const fy = fixed(y);
  const k = (fy + LN2 / 2n) / LN2 - (fy < -LN2 / 2n ? 1n : 0n); // near y / ln 2; |r| ≤ ln 2 then
  const r = fy - k * LN2;
  let term = ONE;
  let sum = 0n;
  for (let n = 1n; term !== 0n; n++) {
    sum += term;
    term = (term * r >> P) / n;
  }
  return Number(sum) * 2 ** -127 * 2 ** Number(k - 1n); // one rounding (Number), then exact powers of two
}
const toDouble = (fixed: bigint): number => Number(fixed) / 2 ** 128;
const trueLn = (x: number): number => toDouble(bigLn(x));
const trueLog10 = (x: number): number => toDouble((bigLn(x) << P) / LN10);

/** [expression, expected value] pairs, each evaluated on both paths. */
const EDGES: readonly (readonly [Expr, number | null])[] = [
  [call('ln', [d(1)]), 0], [call('ln', [d(Math.E)]), 1], [call('ln', [d(2)]), 0.6931471805599453], [call('ln', [i(10)]), 2.302585092994046],
  [call('ln', [d(0)]), null], [call('ln', [d(-0)]), null], [call('ln', [d(-1)]), null], [call('ln', [d(-5e-324)]), null], [call('ln', [lit(null, 'null')]), null],
  [call('ln', [d(5e-324)]), -744.4400719213812], [call('ln', [d(2.2250738585072014e-308)]), -708.3964185322641],
  [call('ln', [d(1.7976931348623157e308)]), 709.782712893384], [call('ln', [d(0.5)]), -0.6931471805599453], [call('ln', [d(1 + 2 ** -52)]), 2.2204460492503128e-16],
  [call('log10', [d(1000)]), 3], [call('log10', [i(1)]), 0], [call('log10', [d(0.001)]), -3], [call('log10', [d(1e308)]), 308], [call('log10', [d(1e-307)]), -307],
  [call('log10', [d(2)]), 0.3010299956639812], [call('log10', [d(5e-324)]), -323.3062153431158], [call('log10', [d(1.7976931348623157e308)]), 308.25471555991675],
  [call('log10', [d(0)]), null], [call('log10', [neg(d(100))]), null], [call('log10', [lit(null, 'null')]), null],
  [call('exp', [d(0)]), 1], [call('exp', [d(-0)]), 1], [call('exp', [d(1)]), 2.718281828459045], [call('exp', [d(-1)]), 0.36787944117144233],
  [call('exp', [i(10)]), 22026.465794806718], [call('exp', [d(709.78)]), 1.7928227943945155e308], [call('exp', [d(709.782712893384)]), 1.7976931348622732e308],
  [call('exp', [d(710)]), null], [call('exp', [d(1e308)]), null], [call('exp', [d(-745)]), 5e-324], [call('exp', [d(-746)]), 0], [call('exp', [d(-1e308)]), 0],
  [call('exp', [d(-708.5)]), 2.006132305331306e-308], [call('exp', [lit(null, 'null')]), null],
];

describe('ln, log10 and exp', () => {
  it('give the written values on the edges, on both paths', async () => {
    const exprs = EDGES.map(([e]) => e);
    const want = EDGES.map(([e, v]) => [displayExpr(e), v]);
    const [hot] = evalHot(exprs, [{}]);
    const [cold] = await evalCold(exprs, [{}]);
    expect(hot?.map((v, k) => [displayExpr(exprs[k] as Expr), v])).toEqual(want);
    expect(cold?.map((v, k) => [displayExpr(exprs[k] as Expr), v])).toEqual(want);
    for (const row of [hot, cold]) expect(row?.filter((v) => Object.is(v, -0))).toEqual([]);
  });

  it('are within 1 ulp of the true value (normal results), and of Math.log / Math.exp, on 100,000 inputs each', () => {
    const rand = seeded(20261130);
    const tally = (): number[] => [0, 0, 0];
    const off = { ln: tally(), lnV8: tally(), log10: tally(), log10V8: tally(), exp: tally(), expV8: tally() };
    const count = (t: number[], a: number, b: number): void => { const u = Math.min(ulps(a, b), 2); t[u] = (t[u] ?? 0) + 1; };
    for (let n = 0; n < 100_000; n++) {
      // Half over every binade, half over [0.5, 2), where the reduction does not help.
      const x = n % 2 === 0 ? anyPositive(rand) : 0.5 + 1.5 * rand();
      count(off.ln, ln(x) as number, trueLn(x));
      count(off.lnV8, ln(x) as number, Math.log(x));
      count(off.log10, log10(x) as number, trueLog10(x));
      count(off.log10V8, log10(x) as number, Math.log10(x));
      const y = n % 2 === 0 ? -745 + 1454.78 * rand() : 2 * rand() - 1;
      if (y > -708 && Math.abs(y) > 2 ** -70) count(off.exp, exp(y) as number, trueExp(y));
      count(off.expV8, exp(y) as number, Math.exp(y));
    }
    // [same, 1 ulp, 2 or more] per check. Measured (seed above): ln 96.2 % the true value's
    // nearest double, 3.8 % 1 ulp off; log10 99.1 / 0.9 %; exp 90.4 / 9.6 %, and equal to
    // V8's fdlibm exp on all. V8's Math.log10 is itself up to 2 ulps off (15 % 1 ulp, 0.1 % 2
    // from ours), so log10 is held to the true value only.
    for (const [name, [same = 0, one = 0, more = 0]] of Object.entries(off)) {
      if (name === 'log10V8') continue;
      expect([name, more]).toEqual([name, 0]);
      expect([name, one < same / 5]).toEqual([name, true]);
    }
  });

  it('give log10(10^n) = n for every normal power of ten, and ln(2^k) = k · ln 2', () => {
    for (let n = -307; n <= 308; n++) expect([n, log10(Number(`1e${n}`))]).toEqual([n, n]);
    for (let k = -1074; k <= 1023; k++) expect([k, ulps(ln(pow2(k)) as number, trueLn(pow2(k)))]).toEqual([k, 0]);
  });

  it('use a DuckDB pow(2, k) that is exact for every k in -1074…1023', async () => {
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    const rows = (await conn.runAndReadAll('SELECT k, pow(2, CAST(k AS DOUBLE)) FROM range(-1074, 1024) t(k)')).getRows();
    expect(rows.filter(([k, p]) => p !== pow2(Number(k)))).toEqual([]);
    expect(rows).toHaveLength(2098);
  });

  const PROPS: readonly Expr[] = [call('ln', [field('d')]), call('log10', [field('d')]), call('exp', [field('d2')]), call('ln', [field('i')]),
    call('log10', [field('i')]), call('exp', [field('d')])];
  const show = (e: Expr): string => displayExpr(e);

  it('agree hot and cold on a fixed batch: 5,000 random doubles and every power of two and ten with neighbours', async () => {
    const rand = seeded(7);
    const batch: ScalarRow[] = [];
    for (let n = 0; n < 5000; n++) batch.push({ d: anyPositive(rand), d2: n % 2 === 0 ? -746 + 1456 * rand() : 4 * rand() - 2, i: Math.floor(rand() * 2 ** 40) });
    for (let k = -1074; k <= 1023; k++) for (const by of [-1n, 0n, 1n]) batch.push({ d: next(pow2(k), by), d2: next(k * Math.LN2, by), i: k });
    for (let n = -323; n <= 308; n++) batch.push({ d: Number(`1e${n}`), d2: n, i: n });
    expect(await parityDiffs(PROPS, batch, show)).toEqual([]);
  }, 120_000);

  it(`agree hot and cold over random rows (${RUNS} batches)`, async () => {
    const wide = fc.oneof(doubles, fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), fc.double({ min: 0.5, max: 2, noNaN: true }));
    const expArg = fc.oneof(fc.double({ min: -760, max: 720, noNaN: true }), fc.double({ min: -2, max: 2, noNaN: true }), doubles);
    const rows = fc.array(fc.record({ d: orNull(wide), d2: orNull(expArg), i: orNull(fc.integer({ min: -10, max: 2 ** 40 })) }), { minLength: 1, maxLength: 120 });
    await fc.assert(fc.asyncProperty(rows, async (batch) => {
      expect(await parityDiffs(PROPS, batch, show)).toEqual([]);
    }), { numRuns: RUNS });
  }, 120_000);
});
