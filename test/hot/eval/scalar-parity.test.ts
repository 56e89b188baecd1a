/**
 * Property: every CAST the dialect has and every arithmetic, comparison and `||` operator give
 * the same value on the hot path and in DuckDB, for random rows mixing ordinary values with the
 * hard ones — numbers past the int range, −0, subnormals, 1e308, halves; text that is almost a
 * number, boolean or timestamp (signs, exponents, `inf`/`nan`, hex, underscores, Unicode digits
 * and spaces, 400-digit numbers, impossible dates, offsets) and arbitrary Unicode.
 *
 * Each run evaluates all expressions over a batch of rows in one DuckDB query. Runs: 40, or
 * `PITWALL_FUZZ_RUNS` (e.g. PITWALL_FUZZ_RUNS=2000 for a long soak).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Val } from '../../../src/hot/eval/compile-expr.js';
import type { Expr, SqlType } from '../../../src/plan/index.js';
import { displayExpr, fieldsOf } from '../../../src/plan/index.js';
import type { BinaryOp } from '../../../src/plan/expr.js';
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from '../../../src/util/timestamp.js';
import { evalCold, evalHot, field, sameVal, SCALAR_FIELDS, type ScalarField, type ScalarRow } from '../../support/scalar-parity.js';
import { rows } from '../../support/scalar-arbitraries.js';

const RUNS = Number(process.env.PITWALL_FUZZ_RUNS ?? 40);
const MAX = Number.MAX_SAFE_INTEGER;

// ---- expressions ----------------------------------------------------------------------------

const cast = (operand: Expr, type: SqlType): Expr => ({ kind: 'CastExpr', operand, type });
const bin = (op: BinaryOp, left: Expr, right: Expr, type: SqlType): Expr => ({ kind: 'BinaryExpr', op, left, right, type });
const f = field;
const numericType = (a: Expr, b: Expr): SqlType => (a.type === 'int' && b.type === 'int' ? 'int' : 'double');

const CASTS: Record<SqlType, SqlType[]> = {
  string: ['int', 'double', 'boolean', 'string', 'timestamp'],
  int: ['int', 'double', 'boolean', 'string'],
  double: ['int', 'double', 'boolean', 'string'],
  boolean: ['int', 'double', 'boolean', 'string'],
  timestamp: ['string', 'timestamp'],
  null: [],
};

function expressions(): Expr[] {
  const out: Expr[] = [];
  for (const name of ['s', 'i', 'd', 'b', 't'] as ScalarField[]) {
    for (const to of CASTS[SCALAR_FIELDS[name]]) out.push(cast(f(name), to));
  }
  out.push(
    cast(cast(f('s'), 'double'), 'int'), cast(cast(f('s'), 'timestamp'), 'string'), cast(cast(f('s'), 'int'), 'string'),
    cast(cast(f('s'), 'boolean'), 'string'), cast(cast(f('s'), 'double'), 'string'), cast(cast(f('d'), 'int'), 'double'),
  );
  const pairs: [Expr, Expr][] = [[f('i'), f('i2')], [f('d'), f('d2')], [f('i'), f('d')], [f('d'), f('i')], [cast(f('s'), 'int'), f('i')], [cast(f('s'), 'double'), f('d')]];
  for (const [l, r] of pairs) {
    for (const op of ['+', '-', '*', '%'] as const) out.push(bin(op, l, r, numericType(l, r)));
    out.push(bin('/', l, r, 'double'));
  }
  out.push(
    { kind: 'NegateExpr', operand: f('i'), type: 'int' }, { kind: 'NegateExpr', operand: f('d'), type: 'double' },
    bin('+', bin('*', f('i'), f('i2'), 'int'), f('i'), 'int'),
    bin('/', bin('*', f('d'), f('d2'), 'double'), f('d'), 'double'),
    bin('-', bin('%', f('i'), f('i2'), 'int'), bin('*', f('i2'), f('i2'), 'int'), 'int'),
    bin('*', bin('+', f('d'), f('i'), 'double'), bin('-', f('d2'), f('i2'), 'double'), 'double'),
  );
  const comparable: [Expr, Expr][] = [[f('i'), f('i2')], [f('d'), f('d2')], [f('i'), f('d')], [f('s'), f('s2')], [f('b'), f('b2')], [f('t'), f('t2')],
    [cast(f('s'), 'timestamp'), f('t')], [cast(f('s'), 'double'), f('i')]];
  for (const [l, r] of comparable) {
    for (const op of ['=', '<>', '<', '<=', '>', '>='] as const) out.push(bin(op, l, r, 'boolean'));
  }
  for (const r of ['s2', 'i', 'd', 'b', 't'] as ScalarField[]) out.push(bin('||', f('s'), f(r), 'string'));
  out.push(bin('||', f('i'), f('d'), 'string'));
  return out;
}

const EXPRS = expressions();

const show = (v: unknown): string => (Object.is(v, -0) ? '-0' : JSON.stringify(v) ?? String(v));

/**
 * Expressions whose inputs must, over the whole run, give both a value and NULL where the operand
 * is not NULL — so text that converts, text that does not, and int overflow were all exercised.
 */
const MUST_SPLIT = EXPRS.filter((e) => e.kind === 'CastExpr' && e.operand.kind === 'FieldExpr' && e.operand.type === 'string' && e.type !== 'string')
  .concat(EXPRS.filter((e) => e.kind === 'BinaryExpr' && e.op === '*' && e.type === 'int' && e.left.kind === 'FieldExpr' && e.right.kind === 'FieldExpr'));

describe('hot and cold scalar semantics agree', () => {
  it(`on ${EXPRS.length} CAST / arithmetic / comparison / || expressions over random rows (${RUNS} batches)`, async () => {
    const seen = new Map(MUST_SPLIT.map((e) => [e, { value: 0, null: 0 }]));
    await fc.assert(fc.asyncProperty(rows, async (batch: ScalarRow[]) => {
      const hot = evalHot(EXPRS, batch);
      const cold = await evalCold(EXPRS, batch);
      const diffs: string[] = [];
      batch.forEach((row, r) => {
        EXPRS.forEach((e, k) => {
          const a = hot[r]?.[k] as Val;
          const b = cold[r]?.[k] as Val;
          if (!sameVal(a, b) && diffs.length < 5) diffs.push(`${displayExpr(e)} over ${show(row)}: hot ${show(a)}, cold ${show(b)}`);
          const count = seen.get(e);
          if (count && fieldsOf(e).every((name) => row[name as ScalarField] !== null)) {
            if (a === null) count.null++; else count.value++;
          }
        });
      });
      expect(diffs).toEqual([]);
    }), {
      numRuns: RUNS,
      // One batch of each kind always runs, so every conversion gives both a value and NULL.
      examples: [[[
        { s: ' 42 ', s2: 'x', i: MAX, i2: 2, d: 2.5, d2: 0, b: true, b2: false, t: 0, t2: MAX_TIMESTAMP_MS },
        { s: '2026-06-01 10:00:00+02', s2: '2026-06-01', i: 3, i2: 7, d: -0, d2: 1e308, b: false, b2: null, t: MIN_TIMESTAMP_MS, t2: null },
        { s: 'yes', s2: '\u{1f600}', i: -4, i2: 0, d: 1e-5, d2: -1.5, b: null, b2: true, t: null, t2: 1 },
        { s: 'nope', s2: '', i: 0, i2: -MAX, d: 1e16, d2: 1e-300, b: true, b2: true, t: 1, t2: 0 },
      ]]],
    });
    for (const [e, count] of seen) {
      expect(count.value, `${displayExpr(e)} gave a value`).toBeGreaterThan(0);
      expect(count.null, `${displayExpr(e)} gave NULL`).toBeGreaterThan(0);
    }
  }, Math.max(120_000, RUNS * 300));
});
