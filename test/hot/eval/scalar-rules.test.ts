/**
 * The documented CAST and arithmetic rules (README "Writing metrics"), value by value, on both
 * paths: each case runs through the hot evaluator and the DuckDB SQL of the cold compiler and
 * must give the stated result on each.
 */
import { describe, expect, it } from 'vitest';
import type { Val } from '../../../src/hot/eval/compile-expr.js';
import type { Expr, SqlType } from '../../../src/plan/index.js';
import { evalCold, evalHot, field, type ScalarField, type ScalarRow } from '../../support/scalar-parity.js';

const MAX = Number.MAX_SAFE_INTEGER;
const ts = (iso: string): number => Date.parse(iso);
const cast = (name: ScalarField, type: SqlType): Expr => ({ kind: 'CastExpr', operand: field(name), type });
const bin = (op: '+' | '-' | '*' | '/' | '%' | '<' | '||', l: ScalarField, r: ScalarField, type: SqlType): Expr =>
  ({ kind: 'BinaryExpr', op, left: field(l), right: field(r), type });

/** Runs `expr` over one row per input on both paths; returns `[hot, cold]` value lists. */
async function both(expr: Expr, rows: readonly ScalarRow[]): Promise<[Val[], Val[]]> {
  const hot = evalHot([expr], rows).map((r) => r[0] as Val);
  const cold = (await evalCold([expr], rows)).map((r) => r[0] as Val);
  return [hot, cold];
}

/** Asserts `expr` gives `expected[k]` for the k-th input on both paths (−0 and 0 told apart). */
async function expectRule(expr: Expr, cases: readonly (readonly [ScalarRow, Val])[]): Promise<void> {
  const [hot, cold] = await both(expr, cases.map(([row]) => row));
  const want = cases.map(([, v]) => v);
  const show = (vals: Val[]): unknown[] => vals.map((v, k) => [cases[k]?.[0], Object.is(v, -0) ? '-0' : v]);
  expect(show(hot), 'hot').toEqual(show(want));
  expect(show(cold), 'cold').toEqual(show(want));
}

describe('CAST(text AS BIGINT): optional sign and ASCII digits, whitespace around, inside ±(2^53 − 1)', () => {
  it('reads the documented forms and nothing else', async () => {
    await expectRule(cast('s', 'int'), [
      [{ s: '42' }, 42], [{ s: ' -7 ' }, -7], [{ s: '+5' }, 5], [{ s: '007' }, 7], [{ s: '-0' }, 0],
      [{ s: '\t\n\u000b\f\r5\r\n' }, 5], [{ s: `${'0'.repeat(40)}42` }, 42],
      [{ s: '9007199254740991' }, MAX], [{ s: '-9007199254740991' }, -MAX],
      [{ s: '9007199254740992' }, null], [{ s: '-9007199254740992' }, null], [{ s: '9'.repeat(40) }, null],
      // DuckDB's own TRY_CAST reads these (12.5 → 13); PostgreSQL rejects them.
      [{ s: '12.5' }, null], [{ s: '1e3' }, null], [{ s: '0x1F' }, null], [{ s: '1_000' }, null],
      [{ s: '' }, null], [{ s: ' ' }, null], [{ s: '+' }, null], [{ s: '--5' }, null], [{ s: '5 5' }, null],
      [{ s: '\u0663' }, null], [{ s: '\uff11' }, null], [{ s: '\u00a05' }, null], [{ s: '5\u2003' }, null], [{}, null],
    ]);
  });
});

describe('CAST(text AS DOUBLE): decimal with fraction and exponent, nearest double, finite only', () => {
  it('reads the documented forms and nothing else', async () => {
    await expectRule(cast('s', 'double'), [
      [{ s: '12.5' }, 12.5], [{ s: '.5' }, 0.5], [{ s: '5.' }, 5], [{ s: '-1.5e3' }, -1500], [{ s: '1E-3' }, 0.001],
      [{ s: '+2.5E+2' }, 250], [{ s: ' 3.25\n' }, 3.25], [{ s: '0.1' }, 0.1], [{ s: '-0' }, -0], [{ s: '4.9e-324' }, 5e-324],
      [{ s: '1e-400' }, 0], [{ s: '-1e-400' }, -0], [{ s: `0.${'0'.repeat(400)}1` }, 0], [{ s: `1${'0'.repeat(300)}` }, 1e300],
      [{ s: '1e400' }, null], [{ s: `1${'0'.repeat(400)}` }, null],
      [{ s: 'inf' }, null], [{ s: 'Infinity' }, null], [{ s: '-inf' }, null], [{ s: 'nan' }, null], [{ s: 'NaN' }, null],
      [{ s: '0x10' }, null], [{ s: '1_0' }, null], [{ s: '1e' }, null], [{ s: 'e5' }, null], [{ s: '.' }, null], [{ s: '1.5.' }, null],
      [{ s: '\u0661.5' }, null],
    ]);
  });
});

describe('CAST(text AS BOOLEAN): PostgreSQL boolin words and prefixes, ASCII case-insensitive', () => {
  it('reads the documented forms and nothing else', async () => {
    await expectRule(cast('s', 'boolean'), [
      [{ s: 'true' }, true], [{ s: 'TRUE' }, true], [{ s: ' t ' }, true], [{ s: 'tR' }, true], [{ s: 'yes' }, true], [{ s: 'Y' }, true],
      [{ s: 'on' }, true], [{ s: 'oN\n' }, true], [{ s: '1' }, true],
      [{ s: 'false' }, false], [{ s: 'F' }, false], [{ s: 'fal' }, false], [{ s: 'no' }, false], [{ s: 'n' }, false],
      [{ s: 'off' }, false], [{ s: 'of' }, false], [{ s: '0' }, false],
      [{ s: 'o' }, null], [{ s: 'yess' }, null], [{ s: 'truee' }, null], [{ s: '2' }, null], [{ s: '' }, null],
      [{ s: 'fal\u017fe' }, null], [{ s: '01' }, null], [{ s: 't r' }, null],
    ]);
  });
});

describe('CAST(text AS TIMESTAMP): ISO date, optional time and UTC offset, offset applied', () => {
  it('reads the documented forms and nothing else', async () => {
    await expectRule(cast('s', 'timestamp'), [
      [{ s: '2026-06-01 10:00:00+02' }, ts('2026-06-01T08:00:00Z')],
      [{ s: '2026-06-01T10:00:00Z' }, ts('2026-06-01T10:00:00Z')],
      [{ s: ' 2026-06-01T10:00:00z ' }, ts('2026-06-01T10:00:00Z')],
      [{ s: '2026-06-01' }, ts('2026-06-01T00:00:00Z')],
      [{ s: '2026-06-01T10:00' }, ts('2026-06-01T10:00:00Z')],
      [{ s: '2026-06-01T10:00:00.1239' }, ts('2026-06-01T10:00:00.123Z')],
      [{ s: '2026-06-01T10:00:00.5' }, ts('2026-06-01T10:00:00.500Z')],
      [{ s: '2026-06-01T10:00:00-0530' }, ts('2026-06-01T15:30:00Z')],
      [{ s: '2026-06-01T10:00:00 +05:30' }, ts('2026-06-01T04:30:00Z')],
      [{ s: '2026-06-01+02' }, ts('2026-05-31T22:00:00Z')],
      [{ s: '2024-02-29' }, ts('2024-02-29T00:00:00Z')],
      [{ s: '0001-01-01' }, ts('0001-01-01T00:00:00Z')],
      [{ s: '9999-12-31T23:59:59.999Z' }, ts('9999-12-31T23:59:59.999Z')],
      [{ s: '2023-02-29' }, null], [{ s: '2100-02-29' }, null], [{ s: '2026-13-01' }, null], [{ s: '2026-04-31' }, null],
      [{ s: '2026-06-01T24:00:00' }, null], [{ s: '2026-06-01T10:60' }, null], [{ s: '2026-06-01T10:00:60' }, null],
      [{ s: '2026-06-01T10:00:00+24' }, null], [{ s: '2026-06-01T10:00:00+02:60' }, null],
      [{ s: '0000-01-01' }, null], [{ s: '0001-01-01T00:00:00+01' }, null], [{ s: '9999-12-31T23:59:59-01' }, null],
      [{ s: '20260601' }, null], [{ s: '2026-6-1' }, null], [{ s: '1717171717000' }, null], [{ s: '2026-06-01T10' }, null],
      [{ s: '2026-06-01T10:00:00.Z' }, null], [{ s: '2026-06-01t10:00' }, null], [{ s: '2026-06-01T10:00:00+2' }, null],
      [{ s: '2026-06-01T10:00:00 UTC' }, null], [{ s: '\u0662026-06-01' }, null],
    ]);
  });
});

describe('CAST between non-text types', () => {
  it('DOUBLE → BIGINT rounds half to even; outside ±(2^53 − 1) is NULL', async () => {
    await expectRule(cast('d', 'int'), [
      [{ d: 2.5 }, 2], [{ d: 3.5 }, 4], [{ d: -2.5 }, -2], [{ d: -0.5 }, 0], [{ d: 0.49999999999999994 }, 0], [{ d: 1.5 }, 2],
      [{ d: MAX }, MAX], [{ d: -MAX }, -MAX], [{ d: 2 ** 53 }, null], [{ d: -(2 ** 53) }, null], [{ d: 1e300 }, null],
    ]);
  });
  it('numbers → BOOLEAN are "≠ 0"; BOOLEAN → numbers are 1 / 0', async () => {
    await expectRule(cast('d', 'boolean'), [[{ d: 0 }, false], [{ d: -0 }, false], [{ d: 1e-300 }, true]]);
    await expectRule(cast('i', 'boolean'), [[{ i: 0 }, false], [{ i: -3 }, true]]);
    await expectRule(cast('b', 'int'), [[{ b: true }, 1], [{ b: false }, 0]]);
    await expectRule(cast('b', 'double'), [[{ b: true }, 1], [{ b: false }, 0]]);
    await expectRule(cast('i', 'double'), [[{ i: MAX }, MAX], [{ i: -1 }, -1]]);
  });
  it('→ VARCHAR: int digits, true/false, ISO timestamps, DuckDB-style doubles', async () => {
    await expectRule(cast('i', 'string'), [[{ i: -42 }, '-42'], [{ i: MAX }, '9007199254740991']]);
    await expectRule(cast('b', 'string'), [[{ b: true }, 'true'], [{ b: false }, 'false']]);
    await expectRule(cast('t', 'string'), [
      [{ t: ts('2026-06-01T08:00:00.5Z') }, '2026-06-01T08:00:00.500Z'], [{ t: ts('0021-01-02T03:04:05.678Z') }, '0021-01-02T03:04:05.678Z'],
    ]);
    await expectRule(cast('d', 'string'), [
      [{ d: 1 }, '1.0'], [{ d: 0.1 }, '0.1'], [{ d: -0 }, '-0.0'], [{ d: 1e15 }, '1000000000000000.0'], [{ d: 1e16 }, '1e+16'],
      [{ d: 0.0001 }, '0.0001'], [{ d: 1.5e-5 }, '1.5e-05'], [{ d: 123.456 }, '123.456'], [{ d: 5e-324 }, '5e-324'],
      [{ d: -1.7976931348623157e308 }, '-1.7976931348623157e+308'],
    ]);
  });
});

describe('arithmetic', () => {
  it('int + - * are exact; a result outside ±(2^53 − 1) is NULL, never a rounded double or an error', async () => {
    await expectRule(bin('+', 'i', 'i2', 'int'), [[{ i: MAX, i2: 1 }, null], [{ i: MAX, i2: 0 }, MAX], [{ i: -MAX, i2: -1 }, null], [{ i: MAX, i2: -MAX }, 0]]);
    await expectRule(bin('-', 'i', 'i2', 'int'), [[{ i: -MAX, i2: 1 }, null], [{ i: -MAX, i2: -MAX }, 0]]);
    await expectRule(bin('*', 'i', 'i2', 'int'), [
      [{ i: MAX, i2: 1_000_000 }, null], [{ i: 94_906_265, i2: 94_906_265 }, 9_007_199_136_250_225], [{ i: 94_906_266, i2: 94_906_266 }, null],
      [{ i: -1, i2: 0 }, 0], [{ i: MAX, i2: -1 }, -MAX],
    ]);
  });
  it('% truncates (sign of the dividend); / is double division; both NULL by zero', async () => {
    await expectRule(bin('%', 'i', 'i2', 'int'), [[{ i: -7, i2: 3 }, -1], [{ i: 7, i2: -3 }, 1], [{ i: 5, i2: 0 }, null], [{ i: -4, i2: 2 }, 0]]);
    await expectRule(bin('%', 'd', 'd2', 'double'), [[{ d: -5.5, d2: 2 }, -1.5], [{ d: 5.5, d2: -0 }, null], [{ d: -4, d2: 2 }, -0]]);
    await expectRule(bin('/', 'i', 'i2', 'double'), [[{ i: 7, i2: 2 }, 3.5], [{ i: 1, i2: 0 }, null], [{ i: MAX, i2: 3 }, MAX / 3]]);
    await expectRule(bin('/', 'd', 'd2', 'double'), [[{ d: 1, d2: -0 }, null], [{ d: 1e308, d2: 1e-308 }, null], [{ d: -0, d2: 5 }, -0]]);
  });
  it('double overflow is NULL; underflow goes to zero; signs of zero as IEEE-754', async () => {
    await expectRule(bin('*', 'd', 'd2', 'double'), [[{ d: 1e308, d2: 10 }, null], [{ d: 1e-308, d2: 1e-308 }, 0], [{ d: -1, d2: 0 }, -0]]);
    await expectRule(bin('+', 'd', 'd2', 'double'), [[{ d: 1.7976931348623157e308, d2: 1e292 }, null], [{ d: 0.1, d2: 0.2 }, 0.30000000000000004]]);
    await expectRule(bin('+', 'i', 'd', 'double'), [[{ i: MAX, d: 1 }, 2 ** 53]]);
    await expectRule({ kind: 'NegateExpr', operand: field('i'), type: 'int' }, [[{ i: 0 }, 0], [{ i: -MAX }, MAX]]);
    await expectRule({ kind: 'NegateExpr', operand: field('d'), type: 'double' }, [[{ d: 0 }, -0], [{ d: -1.5 }, 1.5]]);
  });
  it('text compares by code point (UTF-8 byte order), not by UTF-16 unit', async () => {
    await expectRule(bin('<', 's', 's2', 'boolean'), [
      [{ s: '\uffff', s2: '\u{1f600}' }, true], [{ s: '\u{1f600}', s2: '\uffff' }, false], [{ s: 'a', s2: 'ab' }, true], [{ s: 'B', s2: 'a' }, true],
    ]);
  });
  it('|| joins the VARCHAR forms of its operands', async () => {
    await expectRule(bin('||', 's', 'd', 'string'), [[{ s: 'x=', d: 2 }, 'x=2.0'], [{ s: 'x=', d: 1e21 }, 'x=1e+21']]);
    await expectRule(bin('||', 's', 't', 'string'), [[{ s: 'at ', t: ts('2026-06-01T08:00:00Z') }, 'at 2026-06-01T08:00:00.000Z']]);
    await expectRule(bin('||', 's', 'b', 'string'), [[{ s: '', b: false }, 'false']]);
  });
  it('literals outside the value domain read as NULL', async () => {
    const big: Expr = { kind: 'BinaryExpr', op: '*', left: field('i'), right: { kind: 'LiteralExpr', value: 1e19, type: 'int' }, type: 'int' };
    await expectRule(big, [[{ i: 0 }, null], [{ i: 2 }, null]]);
  });
});
