/**
 * The numeric functions (round, floor, ceil, sign, sqrt, power, mod): their values on the edges
 * written out, checked on both paths, and hot == cold over random rows.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { displayExpr, type Expr } from '../../../src/plan/index.js';
import { rows } from '../../support/scalar-arbitraries.js';
import { call, evalCold, evalHot, field, lit, parityDiffs } from '../../support/scalar-parity.js';

const RUNS = Number(process.env.PITWALL_FUZZ_RUNS ?? 30);
const MAX = Number.MAX_SAFE_INTEGER;
const neg = (e: Expr): Expr => ({ kind: 'NegateExpr', operand: e, type: e.type });
const d = (v: number): Expr => lit(v, 'double');
const i = (v: number): Expr => lit(v, 'int');

/** [expression, expected value] pairs, each evaluated on both paths. */
const EDGES: readonly (readonly [Expr, number | null])[] = [
  [call('round', [d(2.5)]), 3], [call('round', [d(-2.5)]), -3], [call('round', [d(0.49999999999999994)]), 0],
  [call('round', [d(-0.4)]), -0], [call('round', [d(1.7976931348623157e308)]), 1.7976931348623157e308],
  [call('round', [d(1.005), i(2)]), 1], [call('round', [d(1.015), i(2)]), 1.01], [call('round', [d(1e308), i(30)]), 1e308],
  [call('round', [d(1.7976931348623157e308), neg(i(1))]), 1.7976931348623157e308], [call('round', [d(1234.5), neg(i(2))]), 1200],
  [call('round', [i(1250), neg(i(2))]), 1300], [call('round', [i(-1250), neg(i(2))]), -1300], [call('round', [i(1249), neg(i(2))]), 1200],
  [call('round', [i(MAX), neg(i(1))]), MAX - 1], [call('round', [i(MAX), neg(i(16))]), null], [call('round', [i(MAX), neg(i(30))]), 0], [call('round', [i(7), i(3)]), 7],
  [call('round', [i(4_999_999_999_999_999), neg(i(16))]), 0], [call('round', [i(5), lit(null, 'null')]), null],
  [call('floor', [d(-0.5)]), -1], [call('floor', [i(-3)]), -3], [call('ceil', [d(-0.5)]), -0], [call('ceiling', [d(2.1)]), 3],
  [call('sign', [d(-2.5)]), -1], [call('sign', [d(-0)]), 0], [call('sign', [i(MAX)]), 1],
  [call('sqrt', [d(-1)]), null], [call('sqrt', [d(-0)]), -0], [call('sqrt', [i(2)]), 1.4142135623730951], [call('sqrt', [d(-5e-324)]), null],
  [call('power', [i(2), i(10)]), 1024], [call('power', [d(0), i(0)]), 1], [call('power', [d(2), neg(i(1))]), 0.5], [call('pow', [d(1.5), i(2)]), 2.25],
  [call('power', [d(0), neg(i(1))]), null], [call('power', [d(-0), neg(i(3))]), null], [call('power', [d(10), i(309)]), null], [call('power', [d(-2), i(3)]), -8],
  [call('power', [d(-0), i(3)]), -0], [call('power', [d(1e-200), i(2)]), 0], [call('power', [i(3), i(33)]), 5559060566555523], [call('power', [d(7), lit(null, 'null')]), null],
  [call('mod', [i(-7), i(3)]), -1], [call('mod', [i(7), i(0)]), null], [call('mod', [d(-7.5), i(2)]), -1.5], [call('mod', [d(1), d(-0)]), null],
];

const PROPS: readonly Expr[] = [
  call('round', [field('d')]), call('round', [field('i')]), call('round', [field('d'), i(2)]), call('round', [field('d'), neg(i(3))]),
  call('round', [field('d'), i(30)]), call('round', [field('d'), neg(i(30))]), call('round', [field('i'), neg(i(1))]), call('round', [field('i'), neg(i(15))]),
  call('round', [field('i'), neg(i(16))]), call('round', [field('i'), i(4)]),
  call('floor', [field('d')]), call('ceil', [field('d')]), call('ceiling', [field('i')]), call('sign', [field('d')]), call('sign', [field('i')]),
  call('sqrt', [field('d')]), call('sqrt', [field('i')]), call('mod', [field('i'), field('i2')]), call('mod', [field('d'), field('i')]),
  call('mod', [field('d'), field('d2')]),
  call('power', [field('d'), i(2)]), call('power', [field('d'), i(3)]), call('power', [field('i'), i(7)]), call('pow', [field('d'), neg(i(5))]),
  call('power', [field('d'), i(1024)]), call('power', [field('d'), neg(i(1023))]), call('power', [field('i'), i(0)]),
];

describe('numeric functions', () => {
  it('give the written values on the edges, on both paths', async () => {
    const exprs = EDGES.map(([e]) => e);
    const want = EDGES.map(([, v]) => v);
    const [hot] = evalHot(exprs, [{}]);
    const [cold] = await evalCold(exprs, [{}]);
    expect(hot?.map((v, k) => [displayExpr(exprs[k] as Expr), v])).toEqual(want.map((v, k) => [displayExpr(exprs[k] as Expr), v]));
    expect(cold?.map((v, k) => [displayExpr(exprs[k] as Expr), v])).toEqual(want.map((v, k) => [displayExpr(exprs[k] as Expr), v]));
    // toEqual takes −0 for 0: the signs on their own.
    const signs = (row: readonly unknown[] | undefined): boolean[] => want.map((v, k) => Object.is(v, -0) === Object.is(row?.[k], -0));
    expect(signs(hot)).not.toContain(false);
    expect(signs(cold)).not.toContain(false);
  });
  it('take int results to int and others to double', () => {
    expect(call('round', [field('i'), i(2)]).type).toBe('int');
    expect(call('round', [field('d')]).type).toBe('double');
    expect(call('floor', [field('i')]).type).toBe('double');
    expect(call('sign', [field('d')]).type).toBe('int');
    expect(call('mod', [field('i'), field('d')]).type).toBe('double');
    expect(() => call('round', [field('d'), field('i')])).toThrow(/constant/);
    expect(() => call('round', [field('d'), i(31)])).toThrow(/-30 to 30/);
    expect(() => call('power', [field('d'), d(0.5)])).toThrow(/integer from -1024 to 1024/);
    expect(() => call('power', [field('d'), field('i')])).toThrow(/constant integer/);
  });
  it(`agree hot and cold over random rows (${RUNS} batches)`, async () => {
    await fc.assert(fc.asyncProperty(rows, async (batch) => {
      expect(await parityDiffs(PROPS, batch, displayExpr)).toEqual([]);
    }), { numRuns: RUNS });
  }, 120_000);
});
