/**
 * regexp_matches and regexp_extract: the subset's parser (what it refuses, and where), the
 * values on the edges written out (DuckDB's, checked on both paths), and hot == cold for random
 * patterns of the subset over random text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsRegexpSource, parseRegexp, re2Source } from '../../../src/plan/functions/regexp-subset.js';
import type { Expr } from '../../../src/plan/index.js';
import { displayExpr } from '../../../src/plan/index.js';
import { orNull, pick } from '../../support/scalar-arbitraries.js';
import { call, field, lit, parityDiffs, type ScalarRow } from '../../support/scalar-parity.js';
import { edgeValues, nastyText, type Edges } from '../../support/string-arbitraries.js';

const RUNS = Number(process.env.PITWALL_FUZZ_RUNS ?? 30);
const s = (v: string): Expr => lit(v, 'string');
const matches = (text: string, pattern: string): Expr => call('regexp_matches', [s(text), s(pattern)]);
const extract = (text: string, pattern: string, group?: number): Expr => call('regexp_extract', group === undefined ? [s(text), s(pattern)] : [s(text), s(pattern), lit(group, 'int')]);

/** [expression, DuckDB's value]. */
const EDGES: Edges = [
  [matches('order-42', '\\d+$'), true],
  [matches('a\n', 'a$'), false], // $ is the end of the text, not of a line
  [matches('\n', '.'), false], // . is anything but \n
  [matches('\u{1f600}', '^.$'), true], // one code point
  [matches('é', '^\\w$'), false], // \w is ASCII
  [matches('\u0663', '\\d'), false], // \d is ASCII
  [matches('\u00a0', '\\s'), false], // \s is ASCII: \t \n \v \f \r space
  [matches('\u000b', '\\s'), true],
  [matches('aé', 'a\\b'), true],
  [matches('ab', 'a\\b'), false],
  [matches('xyz', ''), true],
  [matches('a', '$a'), false],
  [matches('a', 'a^'), false],
  [matches('a]b', '[\\]]'), true],
  [matches('a-b', '^a[-]b$'), true],
  [matches('😀', '^[😀-😂]$'), true],
  [matches('Ab', '^[^a-z]b'), true],
  [call('regexp_matches', [lit(null, 'null'), s('a')]), null],
  [extract('abc', 'x'), ''],
  [extract('abc', '(x)?b', 1), ''],
  [extract('abc', 'b'), 'b'],
  [extract('order-42', '([a-z]+)-(\\d+)', 2), '42'],
  [extract('aaa', 'a*?'), ''],
  [extract('aaa', 'a+?'), 'a'],
  [extract('xaaaa', 'a{2,3}'), 'aaa'],
  [extract('xaaaa', 'a{2,}?'), 'aa'],
  [extract('abcd', '(?:ab|abc)(d?)', 0), 'ab'], // leftmost-first, not longest
  [extract('h😀llo', '(.)(l+)', 1), '😀'],
];

describe('the regexp subset', () => {
  it.each([
    ['(a)\\1', 'the backreference \\1 at character 4 of the pattern'],
    ['a(?=b)', 'the group (?=… (lookaround, named groups and flags are not in the subset; (?:…) is) at character 2 of the pattern'],
    ['(?P<n>a)', 'the group (?P…'],
    ['(?i)a', 'the group (?i…'],
    ['\\p{L}', 'the escape \\p at character 1'],
    ['\\x41', 'the escape \\x'],
    ['[[:alpha:]]', 'a [ inside [...] (POSIX classes'],
    ['a{1001}', 'a repetition count above 1000'],
    ['(?:a{100}){11}', 'nested repetitions that repeat more than 1000 times'],
    ['a{3,2}', 'maximum is below its minimum'],
    ['a{,2}', 'a { that is not a repetition'],
    ['a}', 'a lone }'],
    ['*a', 'nothing to repeat before * at character 1'],
    ['a**', 'a repetition of a repetition'],
    ['a*+', 'a repetition of a repetition'],
    ['^*', 'a repetition of an anchor'],
    ['(a*)*', 'a repetition of something that can match the empty string at character 5'],
    ['(|a)+', 'can match the empty string'],
    ['[]a]', 'an empty [] or a ] first'],
    ['[a', 'a [ without its ]'],
    ['(a', 'a ( without its )'],
    ['a)', 'an unmatched )'],
    ['a\\', 'ends with \\'],
    ['[\\D]', '\\D inside [...]'],
    ['[a-\\d]', 'a range with a class'],
    ['[z-a]', 'end comes before its start'],
    ['a\\B', 'the escape \\B'],
  ])('refuses %s', (pattern, message) => {
    expect(() => parseRegexp(pattern)).toThrow(message);
  });

  it('writes one explicit pattern per engine', () => {
    const p = parseRegexp('^.\\d[^a-c\\s]é+?|(x){2}$');
    expect(jsRegexpSource(p)).toBe('^[^\\u{a}][0-9][^a-c\\u{9}-\\u{d}\\u{20}]\\u{e9}+?|(x){2}$');
    expect(re2Source(p)).toBe('^[^\\x{a}][0-9][^a-c\\x{9}-\\x{d}\\x{20}]\\x{e9}+?|(x){2}$');
    expect(p.groups).toBe(1);
    expect(p.captureInRepeat).toBe(17);
    expect(parseRegexp('(x)?y').captureInRepeat).toBeUndefined();
  });
});

describe('regexp functions', () => {
  it('give DuckDB\'s values on the edges, on both paths', async () => {
    const { want, hot, cold } = await edgeValues(EDGES);
    expect(hot).toEqual(want);
    expect(cold).toEqual(want);
  });

  // Patterns built from the subset's pieces, kept when the parser accepts them.
  const piece = pick('a', 'b', 'ab', '.', '\\d', '\\w', '\\s', '\\D', '\\W', '\\S', '[a-c]', '[^a\\n]', '[\\d_]', '[😀-😂é]', '^', '$', '\\b', 'é', '😀', '\\.', '\\n', ' ', '-', '0');
  const quant = pick('', '', '', '*', '+', '?', '*?', '+?', '??', '{2}', '{1,3}', '{0,2}?', '{2,}');
  const atom: fc.Arbitrary<string> = fc.letrec<{ atom: string }>((tie) => ({
    atom: fc.oneof({ depthSize: 'small', withCrossShrink: true },
      fc.tuple(piece, quant).map(([p, q]) => p + q),
      fc.tuple(pick('(', '(?:'), fc.array(tie('atom'), { minLength: 1, maxLength: 3 }), fc.option(fc.array(tie('atom'), { minLength: 1, maxLength: 2 })), pick(')', ')', ')*', ')+', ')?', '){1,2}'))
        .map(([open, a, b, close]) => `${open}${a.join('')}${b ? `|${b.join('')}` : ''}${close}`)),
  })).atom;
  const accepted = (p: string): boolean => { try { parseRegexp(p); return true; } catch { return false; } };
  const patterns = fc.array(atom, { minLength: 1, maxLength: 4 }).map((a) => a.join('')).filter(accepted);
  const subject = fc.oneof(nastyText, fc.string({ unit: pick('a', 'b', 'c', '0', '1', '_', ' ', '\n', 'é', '😀', '.', '-'), maxLength: 12 }));
  const batch = fc.array(fc.record({ s: orNull(subject), s2: orNull(subject) }), { minLength: 1, maxLength: 40 });

  it(`agree hot and cold for random patterns over random text (${RUNS} batches)`, async () => {
    await fc.assert(fc.asyncProperty(fc.array(patterns, { minLength: 1, maxLength: 6 }), batch, async (ps, rows: ScalarRow[]) => {
      const exprs = ps.flatMap((p) => {
        const groups = parseRegexp(p).groups;
        const extracts = [0, 1, groups].filter((g, i, all) => g <= groups && all.indexOf(g) === i)
          .filter((g) => g === 0 || parseRegexp(p).captureInRepeat === undefined)
          .map((g) => call('regexp_extract', [field('s'), s(p), lit(g, 'int')]));
        return [call('regexp_matches', [field('s'), s(p)]), call('regexp_matches', [field('s2'), s(p)]), ...extracts];
      });
      expect(await parityDiffs(exprs, rows, displayExpr)).toEqual([]);
    }), { numRuns: RUNS });
  }, 120_000);
});
