/**
 * RANK() and DENSE_RANK() in per-window top-N (issue: the analyst's SQL), next to ROW_NUMBER():
 * peers on the ORDER BY share a rank (RANK skips after them, DENSE_RANK does not), `rn <= N`
 * bounds the rank so ties can return more than N rows, and the hot path and DuckDB give the same
 * rows, on a fixed case with ties and NULLs and on generated windows full of ties.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import { buildPlan, explainPlan, findNode } from '../../src/plan/index.js';
import { parseQuery } from '../../src/sql/index.js';
import type { ResultRow } from '../../src/util/result-row.js';
import { diffRows, runColdExcludingLate, runHot } from '../support/parity.js';

const here = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'parity');
const catalog = loadCatalog(join(here, 'catalog'));
const sql = (fn: string, n: number, order = 'orders DESC'): string => `CREATE VIEW top AS
SELECT window_start, window_end, r, orders, rn FROM (
  SELECT *, ${fn}() OVER (PARTITION BY window_start ORDER BY ${order}) AS rn FROM (
    SELECT window_start, window_end, r, COUNT(*) AS orders
    FROM TUMBLE(ev, ts, INTERVAL '1 minute')
    GROUP BY window_start, window_end, r) AS c) AS ranked
WHERE rn <= ${n};`;

const ev = (i: number, ts: number, r: string): RawRecord => ({ partition: 0, offset: i, value: JSON.stringify({ id: String(i), ts: new Date(ts).toISOString(), r, amt: 1 }) });

async function both(query: string, records: readonly RawRecord[]): Promise<ResultRow[]> {
  const plan = buildPlan(parseQuery('top.sql', query), catalog);
  const hot = runHot(catalog, [plan], 'ev', records);
  const rows = hot.rows.get(plan.name) ?? [];
  expect(diffRows(plan, rows, await runColdExcludingLate(catalog, plan, records, hot.late.get(plan.name) ?? []))).toEqual([]);
  return rows;
}

// One window: a 3 orders, b 3, c 2, d 1, e 1.
const counts: [string, number][] = [['a', 3], ['b', 3], ['c', 2], ['d', 1], ['e', 1]];
const oneWindow: RawRecord[] = counts.flatMap(([r, n]) => Array.from({ length: n }, () => r)).map((r, i) => ev(i, 1000 + i, r));
const ranks = (rows: readonly ResultRow[]): [unknown, unknown][] => rows.map((x) => [x.r, x.rn] as [unknown, unknown]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));

describe('top-N with RANK and DENSE_RANK', () => {
  it('ranks peers alike: RANK 1, 1, 3, 4, 4; DENSE_RANK 1, 1, 2, 3, 3; ROW_NUMBER 1..5', async () => {
    expect(ranks(await both(sql('RANK', 10), oneWindow))).toEqual([['a', 1], ['b', 1], ['c', 3], ['d', 4], ['e', 4]]);
    expect(ranks(await both(sql('DENSE_RANK', 10), oneWindow))).toEqual([['a', 1], ['b', 1], ['c', 2], ['d', 3], ['e', 3]]);
    expect(ranks(await both(sql('ROW_NUMBER', 10), oneWindow)).map(([, n]) => n).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('bounds the rank, not the row count: ties at the boundary all come back', async () => {
    expect(ranks(await both(sql('RANK', 1), oneWindow))).toEqual([['a', 1], ['b', 1]]);
    expect(ranks(await both(sql('RANK', 2), oneWindow))).toEqual([['a', 1], ['b', 1]]); // the next rank is 3
    expect(ranks(await both(sql('DENSE_RANK', 2), oneWindow))).toEqual([['a', 1], ['b', 1], ['c', 2]]);
    expect(ranks(await both(sql('RANK', 4), oneWindow))).toHaveLength(5);
    expect(ranks(await both(sql('ROW_NUMBER', 2), oneWindow))).toHaveLength(2);
  });

  it('agrees with DuckDB over many windows full of ties, ascending and descending', async () => {
    let seed = 7;
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
    const records = Array.from({ length: 1500 }, (_, i) => ev(i, i * 400, `k${Math.floor(rnd() * 12)}`));
    for (const fn of ['RANK', 'DENSE_RANK', 'ROW_NUMBER']) {
      for (const order of ['orders DESC', 'orders ASC NULLS FIRST']) {
        const rows = await both(sql(fn, 3, order), records);
        expect(rows.length, `${fn} ${order}`).toBeGreaterThan(10);
      }
    }
  });

  it('names the function in the plan (ROW_NUMBER plans are unchanged)', () => {
    const plan = buildPlan(parseQuery('top.sql', sql('DENSE_RANK', 3)), catalog);
    expect(findNode(plan.root, 'TopNNode')?.rankFunction).toBe('dense_rank');
    expect(explainPlan(plan)).toContain('limit=3 (DENSE_RANK), rank=rn');
    expect(findNode(buildPlan(parseQuery('top.sql', sql('ROW_NUMBER', 3)), catalog).root, 'TopNNode')).not.toHaveProperty('rankFunction');
    // The aggregate query may hold the ranking itself, ordered by an aggregate.
    const inline = buildPlan(parseQuery('top.sql', `CREATE VIEW top AS
SELECT * FROM (
  SELECT window_start, r, COUNT(*) AS n, RANK() OVER (PARTITION BY window_start ORDER BY COUNT(*) DESC) AS rn
  FROM TUMBLE(ev, ts, INTERVAL '1 minute') GROUP BY window_start, r) AS ranked
WHERE rn <= 3;`), catalog);
    expect(findNode(inline.root, 'TopNNode')?.rankFunction).toBe('rank');
  });
});
