/**
 * greatest, least, nullif and IS [NOT] DISTINCT FROM: their values on the edges written out (NULLs skipped, ties keep
 * the first, −0 = 0, text by code point), checked on both paths, and hot == cold on random rows.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { displayExpr, type Expr } from '../../../src/plan/index.js';
import { rows } from '../../support/scalar-arbitraries.js';
import { call, evalCold, evalHot, field, lit, parityDiffs } from '../../support/scalar-parity.js';

const RUNS = Number(process.env.PITWALL_FUZZ_RUNS ?? 30);
const d = (v: number): Expr => lit(v, 'double');
const i = (v: number): Expr => lit(v, 'int');
const s = (v: string): Expr => lit(v, 'string');
const NULL = lit(null, 'null');

const EDGES: readonly (readonly [Expr, string | number | boolean | null])[] = [
  [call('greatest', [i(1), NULL, d(2.5)]), 2.5], [call('greatest', [NULL, NULL]), null], [call('least', [i(3), NULL, i(1)]), 1],
  [call('greatest', [d(-0), d(0)]), -0], [call('greatest', [d(0), d(-0)]), 0], [call('least', [d(-0), d(0)]), -0],
  [call('greatest', [s('a'), s('B'), s('\u00e9')]), '\u00e9'], [call('least', [s('\uffff'), s('\u{1f600}')]), '\uffff'],
  [call('greatest', [lit(true, 'boolean'), lit(false, 'boolean')]), true], [call('least', [lit(5, 'timestamp'), lit(-5, 'timestamp')]), -5],
  [call('nullif', [i(1), i(1)]), null], [call('nullif', [i(1), d(1)]), null], [call('nullif', [d(-0), d(0)]), null], [call('nullif', [i(1), NULL]), 1],
  [call('is_distinct_from', [NULL, NULL]), false], [call('is_distinct_from', [NULL, i(1)]), true], [call('is_distinct_from', [d(-0), d(0)]), false],
  [call('is_distinct_from', [i(1), d(1)]), false], [call('is_distinct_from', [s('a'), s('A')]), true], [call('is_not_distinct_from', [NULL, NULL]), true],
  [call('is_not_distinct_from', [s('x'), NULL]), false], [call('is_not_distinct_from', [lit(false, 'boolean'), lit(false, 'boolean')]), true],
  [call('nullif', [NULL, i(1)]), null], [call('nullif', [s(''), s('')]), null], [call('nullif', [s('a'), s('A')]), 'a'],
];

const PROPS: readonly Expr[] = [
  call('greatest', [field('i'), field('i2')]), call('least', [field('d'), field('i'), field('d2')]), call('greatest', [field('s'), field('s2')]),
  call('least', [field('t'), field('t2')]), call('greatest', [field('b'), field('b2'), NULL]), call('least', [field('s'), NULL, field('s2')]),
  call('nullif', [field('i'), field('i2')]), call('nullif', [field('d'), field('i')]), call('nullif', [field('s'), field('s2')]),
  call('is_distinct_from', [field('i'), field('d')]), call('is_distinct_from', [field('s'), field('s2')]), call('is_not_distinct_from', [field('t'), field('t2')]),
  call('is_not_distinct_from', [field('b'), field('b2')]), call('is_distinct_from', [field('d'), field('d2')]), call('is_not_distinct_from', [field('i'), field('i2')]),
  call('nullif', [field('t'), field('t2')]), call('nullif', [field('b'), field('b2')]), call('nullif', [field('d'), d(0)]),
];

describe('conditional functions and NULL-safe comparisons', () => {
  it('give the written values on the edges, on both paths', async () => {
    const exprs = EDGES.map(([e]) => e);
    const want = EDGES.map(([e, v]) => [displayExpr(e), v]);
    for (const got of [evalHot(exprs, [{}])[0], (await evalCold(exprs, [{}]))[0]]) {
      expect(got?.map((v, k) => [displayExpr(exprs[k] as Expr), v])).toEqual(want);
      expect(EDGES.map(([, v], k) => Object.is(v, -0) === Object.is(got?.[k], -0))).not.toContain(false);
    }
  });
  it('type the result as the arguments\' common type and refuse mixed ones', () => {
    expect(call('greatest', [i(1), d(2)]).type).toBe('double');
    expect(call('least', [NULL, s('a')]).type).toBe('string');
    expect(call('nullif', [i(1), NULL]).type).toBe('int');
    expect(() => call('greatest', [i(1), s('a')])).toThrow(/argument 2 is string/);
    expect(() => call('nullif', [field('t'), field('i')])).toThrow(/CAST them to one type/);
  });
  it(`agree hot and cold over random rows (${RUNS} batches)`, async () => {
    await fc.assert(fc.asyncProperty(rows, async (batch) => {
      expect(await parityDiffs(PROPS, batch, displayExpr)).toEqual([]);
    }), { numRuns: RUNS });
  }, 120_000);
});
