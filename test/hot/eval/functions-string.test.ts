/**
 * The string functions: their values on the edges written out (DuckDB's, checked on both
 * paths), lower/upper compared with DuckDB on every code point, substring against DuckDB's own
 * substring on a grid, and hot == cold over random rows of nasty text and huge indexes.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lowerText, upperText } from '../../../src/hot/eval/functions/case-map.js';
import type { Expr } from '../../../src/plan/index.js';
import { displayExpr } from '../../../src/plan/index.js';
import { rows } from '../../support/scalar-arbitraries.js';
import { call, evalCold, evalHot, field, lit, parityDiffs } from '../../support/scalar-parity.js';
import { edgeValues, stringRows, type Edges } from '../../support/string-arbitraries.js';

const RUNS = Number(process.env.PITWALL_FUZZ_RUNS ?? 30);
const s = (v: string): Expr => lit(v, 'string');
const n = (v: number): Expr => lit(v, 'int');
const NULL = lit(null, 'null');

/** [expression, DuckDB's value] pairs, each checked on both paths. */
const EDGES: Edges = [
  [call('lower', [s('ÀÉ İ ΣΑΣ ǅ 𐐀 K')]), 'àé i σασ ǆ 𐐨 k'],
  [call('upper', [s('straße ǆ ŉ ﬀ ΐ ı ſ ᾳ 𐐨')]), 'STRAẞE Ǆ ŉ ﬀ ΐ I S ᾼ 𐐀'],
  [call('lower', [NULL]), null],
  [call('substring', [s('hello'), n(0), n(2)]), 'h'],
  [call('substring', [s('hello'), n(-1), n(3)]), 'o'],
  [call('substring', [s('hello'), n(-2)]), 'lo'],
  [call('substring', [s('hello'), n(2), n(-1)]), 'h'],
  [call('substring', [s('hello'), n(5), n(-3)]), 'ell'],
  [call('substring', [s('hello'), n(-6), n(2)]), 'h'],
  [call('substring', [s('hello'), n(0)]), 'hello'],
  [call('substring', [s('hello'), n(10)]), ''],
  [call('substring', [s('héllo😀x'), n(6), n(1)]), '😀'],
  [call('substring', [s('hello'), n(Number.MAX_SAFE_INTEGER), n(2)]), ''],
  [call('substring', [s('hello'), n(Number.MAX_SAFE_INTEGER), n(-Number.MAX_SAFE_INTEGER + 3)]), 'llo'],
  [call('substring', [s('hello'), n(-Number.MAX_SAFE_INTEGER), n(Number.MAX_SAFE_INTEGER)]), 'hello'],
  [call('substring', [s('hello'), n(1), NULL]), null],
  [call('substring', [s('hello'), NULL]), null],
  [call('trim', [s('\u00a0\u3000 a \t')]), 'a \t'],
  [call('trim', [s('xxaxx'), s('x')]), 'a'],
  [call('trim', [s('abcba'), s('ab')]), 'c'],
  [call('trim', [s('😀a😀'), s('😀')]), 'a'],
  [call('trim', [s('a'), s('')]), 'a'],
  [call('ltrim', [s('  a ')]), 'a '],
  [call('rtrim', [s(' a  ')]), ' a'],
  [call('rtrim', [s('e\u0301\u0301'), s('\u0301')]), 'e'],
  [call('replace', [s('aaa'), s(''), s('x')]), 'aaa'],
  [call('replace', [s('aaa'), s('aa'), s('b')]), 'ba'],
  [call('replace', [s('a😀b'), s('😀'), s('')]), 'ab'],
  [call('concat', [s('a'), NULL, n(1), lit(2.5, 'double'), lit(true, 'boolean'), lit(0, 'timestamp')]), 'a12.5true1970-01-01T00:00:00.000Z'],
  [call('concat', [NULL, NULL]), ''],
  [call('concat', [lit(1e16, 'double'), lit(-0, 'double')]), '1e+16-0.0'],
  [call('starts_with', [s('abc'), s('')]), true],
  [call('starts_with', [s('😀a'), s('😀')]), true],
  [call('contains', [s('abc'), s('')]), true],
  [call('contains', [s('abc'), s('ac')]), false],
  [call('split_part', [s('a,b,c'), s(','), n(0)]), ''],
  [call('split_part', [s('a,b,c'), s(','), n(-1)]), 'c'],
  [call('split_part', [s('a,b,c'), s(','), n(4)]), ''],
  [call('split_part', [s('a,b,c'), s(','), n(-4)]), ''],
  [call('split_part', [s('a😀c'), s(''), n(2)]), '😀'],
  [call('split_part', [s(''), s(''), n(1)]), ''],
  [call('split_part', [s('aaa'), s('aa'), n(2)]), 'a'],
  [call('split_part', [s('a,b'), s(','), n(Number.MAX_SAFE_INTEGER)]), ''],
  [call('split_part', [s('a,b'), NULL, n(1)]), null],
];

const f = field;
const PROPERTY_EXPRS: Expr[] = [
  call('lower', [f('s')]), call('upper', [f('s')]), call('lower', [f('s2')]), call('upper', [f('s2')]),
  call('substring', [f('s'), f('i')]), call('substring', [f('s'), f('i'), f('i2')]), call('substring', [f('s2'), f('i2'), f('i')]),
  call('trim', [f('s')]), call('ltrim', [f('s')]), call('rtrim', [f('s')]), call('trim', [f('s'), f('s2')]), call('ltrim', [f('s'), f('s2')]), call('rtrim', [f('s2'), f('s')]),
  call('replace', [f('s'), f('s2'), s('<>')]), call('replace', [f('s'), call('substring', [f('s'), f('i'), n(2)]), f('s2')]),
  call('concat', [f('s'), f('i'), f('d'), f('b'), f('t'), NULL, f('s2')]), call('concat', [f('d')]),
  call('starts_with', [f('s'), f('s2')]), call('starts_with', [f('s'), call('substring', [f('s'), n(1), f('i')])]),
  call('contains', [f('s'), f('s2')]), call('contains', [f('s'), call('substring', [f('s'), f('i'), f('i2')])]),
  call('split_part', [f('s'), f('s2'), f('i')]), call('split_part', [f('s'), call('substring', [f('s2'), n(1), n(1)]), f('i2')]),
  call('split_part', [f('s'), s(''), f('i')]),
];

describe('string functions', () => {
  it('give DuckDB\'s values on the edges, on both paths', async () => {
    const { want, hot, cold } = await edgeValues(EDGES);
    expect(hot).toEqual(want);
    expect(cold).toEqual(want);
  });

  it('lower and upper map every code point as DuckDB does (all cased letters lie below U+1F000)', async () => {
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    // '|' in front: the client strips a leading U+FEFF from results.
    const reader = await conn.runAndReadAll(`SELECT i, '|' || lower(chr(i::INTEGER)), '|' || upper(chr(i::INTEGER)) FROM range(1, 126976) t(i) WHERE i < 55296 OR i > 57343`);
    const diffs: string[] = [];
    for (const [i, l, u] of reader.getRows()) {
      const ch = String.fromCodePoint(Number(i));
      if (`|${lowerText(ch)}` !== l) diffs.push(`lower U+${Number(i).toString(16)}`);
      if (`|${upperText(ch)}` !== u) diffs.push(`upper U+${Number(i).toString(16)}`);
    }
    expect(diffs.slice(0, 20)).toEqual([]);
  }, 60_000);

  it('substring takes the places DuckDB\'s own substring takes', async () => {
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    const text = 'h😀llo';
    const cases: [number, number | undefined][] = [];
    for (let o = -8; o <= 8; o++) { cases.push([o, undefined]); for (let l = -7; l <= 7; l++) cases.push([o, l]); }
    const sql = cases.map(([o, l]) => `'|' || substring('${text}', ${o}${l === undefined ? '' : `, ${l}`})`).join(', ');
    const duck = (await conn.runAndReadAll(`SELECT ${sql}`)).getRows()[0]?.map((v) => String(v).slice(1));
    const exprs = cases.map(([o, l]) => call('substring', l === undefined ? [s(text), n(o)] : [s(text), n(o), n(l)]));
    expect(evalHot(exprs, [{}])[0]).toEqual(duck);
    expect((await evalCold(exprs, [{}]))[0]).toEqual(duck);
  });

  it(`agree hot and cold over random rows of nasty text (${RUNS} batches)`, async () => {
    await fc.assert(fc.asyncProperty(stringRows, async (batch) => {
      expect(await parityDiffs(PROPERTY_EXPRS, batch, displayExpr)).toEqual([]);
    }), { numRuns: RUNS });
  }, 120_000);

  it(`agree hot and cold over the scalar rows (${RUNS} batches)`, async () => {
    await fc.assert(fc.asyncProperty(rows, async (batch) => {
      expect(await parityDiffs(PROPERTY_EXPRS, batch, displayExpr)).toEqual([]);
    }), { numRuns: RUNS });
  }, 120_000);
});
