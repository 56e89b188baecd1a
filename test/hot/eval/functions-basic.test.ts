/**
 * The library's first functions, abs and length, over random rows on both paths, plus their
 * values on the edges written out (so the property does not only compare two implementations).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { displayExpr } from '../../../src/plan/index.js';
import { rows } from '../../support/scalar-arbitraries.js';
import { call, evalHot, field, lit, parityDiffs } from '../../support/scalar-parity.js';

const RUNS = Number(process.env.PITWALL_FUZZ_RUNS ?? 30);

const EXPRS = [call('abs', [field('i')]), call('abs', [field('d')]), call('length', [field('s')]), call('length', [field('s2')])];

describe('abs and length', () => {
  it('give the written values on the edges', () => {
    const hot = evalHot(EXPRS.slice(0, 3), [
      { i: -Number.MAX_SAFE_INTEGER, d: -0, s: 'h\u00e9llo' },
      { i: null, d: -1.5, s: '\u{1f600}a' },
      { i: 0, d: null, s: '' },
    ]);
    expect(hot).toEqual([[Number.MAX_SAFE_INTEGER, 0, 5], [null, 1.5, 2], [0, null, 0]]);
    expect(Object.is(hot[0]?.[1], 0)).toBe(true);
    expect(evalHot([call('length', [lit(null, 'null')])], [{}])).toEqual([[null]]);
  });
  it(`agree hot and cold over random rows (${RUNS} batches)`, async () => {
    await fc.assert(fc.asyncProperty(rows, async (batch) => {
      expect(await parityDiffs(EXPRS, batch, displayExpr)).toEqual([]);
    }), { numRuns: RUNS });
  }, 120_000);
});
