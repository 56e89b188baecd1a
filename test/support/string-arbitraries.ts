/**
 * Generators for the string, regexp and JSON function properties: text full of what breaks
 * string code — astral characters (two UTF-16 units), combining marks, letters whose case maps
 * oddly (ß, İ, ı, ſ, Σ, ǅ, ﬀ, ᾳ), Unicode spaces next to tabs and newlines, empty strings — and
 * indexes small, negative and huge; and the edge-value check the function tests share.
 */
import fc from 'fast-check';
import { doubles, ints, orNull, pick, texts, timestamps } from './scalar-arbitraries.js';
import type { Val } from '../../src/hot/eval/compile-expr.js';
import type { Expr } from '../../src/plan/index.js';
import { evalCold, evalHot, type ScalarRow } from './scalar-parity.js';

/** Single code points (or short runs) that string functions get wrong. */
export const nastyChar = pick(
  'a', 'b', 'A', 'Z', 'x', ',', '.', '-', ' ', '\t', '\n', '\r', '\u000b', '\u00a0', '\u1680', '\u2003', '\u202f', '\u3000', '\u2028', '\u0085', '\ufeff',
  '\u00df', '\u1e9e', '\u0130', '\u0131', '\u017f', '\u03a3', '\u03c3', '\u03c2', '\u01c5', '\u01c4', '\ufb00', '\u1f80', '\u1fb3', '\u0149', '\u0390',
  '\u00e9', 'e\u0301', '\u0301', '\u200d', '\u{1f600}', '\u{1f469}\u200d\u{1f4bb}', '\u{10400}', '\u{10428}', '\u{1d11e}', '\u{10ffff}', '\uffff',
  '\u4e2d', '\u0663', '_', '(', '[', '\\', '$', '^', '*', '|', '0', '9', '"', "'",
);

/** Text of nasty characters, mostly short, sometimes empty. */
export const nastyText = fc.array(nastyChar, { maxLength: 10 }).map((a) => a.join(''));

/** Indexes and counts: small (both signs, 0), around lengths, and huge. */
export const indexes = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -12, max: 12 }) },
  { weight: 2, arbitrary: ints },
  { weight: 1, arbitrary: pick(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 32, -(2 ** 32), 2 ** 31, -(2 ** 31) - 1, 4294967296, -4294967297) },
);

const text = fc.oneof({ weight: 3, arbitrary: nastyText }, { weight: 1, arbitrary: texts });

/** Rows whose s, s2 are nasty text and i, i2 indexes (other fields from the scalar rows). */
export const stringRows: fc.Arbitrary<ScalarRow[]> = fc.array(fc.record({
  s: orNull(text), s2: orNull(text), i: orNull(indexes), i2: orNull(indexes), d: orNull(doubles),
  b: orNull(fc.boolean()), t: orNull(timestamps),
}), { minLength: 1, maxLength: 80 });

/** Expressions with the value DuckDB gives them (on a row of NULLs): written-out expectations. */
export type Edges = readonly (readonly [Expr, string | number | boolean | null])[];

/** Both paths' values of each edge expression, for one `toEqual` against the written values. */
export async function edgeValues(edges: Edges): Promise<{ want: Val[]; hot: Val[]; cold: Val[] }> {
  const exprs = edges.map(([e]) => e);
  return { want: edges.map(([, v]) => v), hot: evalHot(exprs, [{}])[0] ?? [], cold: (await evalCold(exprs, [{}]))[0] ?? [] };
}
