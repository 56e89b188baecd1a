/**
 * SUM of ints is exact on the hot path — object accumulator (with merges and a checkpoint round
 * trip) and the group table's columns alike — and equals the cold path's HUGEINT `sum` with the
 * same range rule: the exact sum when it lies in ±(2^53 − 1), NULL otherwise, whatever the
 * order and however far the partial sums stray past 2^53.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { intInRange, Parameters } from '../../../src/cold/compile-expr.js';
import { accumulatorFor } from '../../../src/hot/accumulators/index.js';
import { GroupFolder } from '../../../src/hot/group-folder.js';
import { newTable } from '../../../src/hot/group-table.js';
import type { AggregateCall, AggregateNode } from '../../../src/plan/index.js';
import { catalogOf } from '../../support/cold-harness.js';

const MAX = Number.MAX_SAFE_INTEGER;
const RUNS = Number(process.env.PITWALL_FUZZ_RUNS ?? 40);

const stream = catalogOf('name: ev\nevent_id: id\nevent_time: ts\nfields:\n  id: { type: string, required: true }\n  ts: { type: timestamp, required: true }\n  v: { type: int }\n').streams.get('ev');
if (!stream) throw new Error('test catalog has no stream ev');
const call: AggregateCall = { fn: 'sum', arg: { kind: 'FieldExpr', path: 'v', type: 'int' }, filter: undefined, quantile: undefined, type: 'int', name: 'total' };
const node: AggregateNode = { kind: 'AggregateNode', input: { kind: 'ScanNode', stream }, keys: [], aggregates: [call] };

/** The rule: the exact sum inside ±(2^53 − 1), otherwise NULL; NULL for no values. */
function expected(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const exact = values.reduce((s, v) => s + BigInt(v), 0n);
  return exact >= BigInt(-MAX) && exact <= BigInt(MAX) ? Number(exact) : null;
}

/** The object accumulator over `parts`, each folded alone, merged, with a snapshot round trip. */
function objectSum(parts: readonly (readonly number[])[]): unknown {
  const acc = accumulatorFor(call);
  const states = parts.map((p) => p.reduce((s, v) => acc.add(s, v), acc.create()));
  const merged = states.reduce((s, o) => acc.merge(s, acc.restore(JSON.parse(JSON.stringify(acc.snapshot(o))))), acc.create());
  return acc.result(merged);
}

/** The group table's columnar form. */
function columnSum(values: readonly number[]): unknown {
  const table = newTable(new GroupFolder(node));
  const slot = table.add('', []);
  for (const v of values) table.fold(slot, { v });
  return table.results(slot)[0];
}

const ints = fc.oneof(
  fc.constantFrom(MAX, -MAX, MAX - 1, 2 ** 52, -(2 ** 52), 2 ** 52 + 1, 1, -1, 0),
  fc.maxSafeInteger(),
  fc.integer({ min: -1000, max: 1000 }),
);
const lists = fc.array(fc.array(ints, { maxLength: 60 }), { minLength: 1, maxLength: 4 });

describe('SUM(int)', () => {
  it('is exact, or NULL outside ±(2^53 − 1), identically on both paths', async () => {
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    const params = new Parameters();
    const sql = `SELECT g, ${intInRange('sum(v)', params)} FROM pw_sums GROUP BY g ORDER BY g`;
    await fc.assert(fc.asyncProperty(fc.array(lists, { minLength: 1, maxLength: 40 }), async (groups) => {
      await conn.run('CREATE OR REPLACE TABLE pw_sums (g BIGINT, v BIGINT)');
      const app = await conn.createAppender('pw_sums');
      groups.forEach((parts, g) => { for (const v of parts.flat()) { app.appendBigInt(BigInt(g)); app.appendBigInt(BigInt(v)); app.endRow(); } });
      app.flushSync();
      app.closeSync();
      const cold = new Map((await conn.runAndReadAll(sql)).getRows().map(([g, s]) => [Number(g), s === null ? null : Number(s)]));
      groups.forEach((parts, g) => {
        const values = parts.flat();
        const want = expected(values);
        expect(objectSum(parts), `object form of ${JSON.stringify(parts)}`).toBe(want);
        expect(columnSum(values), `columnar form of ${JSON.stringify(values)}`).toBe(want);
        if (values.length > 0) expect(cold.get(g), `DuckDB sum of ${JSON.stringify(values)}`).toBe(want);
      });
    }), { numRuns: RUNS });
  }, Math.max(60_000, RUNS * 300));

  it('stays exact when partial sums leave the range and come back', () => {
    const values = [...Array<number>(1000).fill(MAX), ...Array<number>(1000).fill(-MAX), 7, -3];
    expect(objectSum([values])).toBe(4);
    expect(columnSum(values)).toBe(4);
    expect(objectSum([values.slice(0, 1500), values.slice(1500)])).toBe(4);
    // 1,100 × (2^53 − 1) = 9907919180215090100: past the int range, NULL (not 9907919180215090000).
    expect(columnSum(Array<number>(1100).fill(MAX))).toBeNull();
    expect(columnSum([MAX - 1, 1])).toBe(MAX);
    expect(columnSum([MAX, 1])).toBeNull();
  });
});
