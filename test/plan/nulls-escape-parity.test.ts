/**
 * `NULLS FIRST / LAST` in the top-N ordering and `LIKE … ESCAPE` are honoured, identically, by the
 * hot path (comparator, LIKE matcher) and the cold path (DuckDB SQL). Inputs are the two bug
 * reports' metrics and events (fixtures/parity, event times moved to 1970-01-01 so that no
 * far-future rule applies whatever clock the harness runs the hot path with), plus variants; each
 * case checks the exact rows and that hot and cold agree.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import { buildPlan, explainPlan, findNode, type MetricPlan } from '../../src/plan/index.js';
import { parseQuery } from '../../src/sql/index.js';
import type { ResultRow } from '../../src/util/result-row.js';
import { diffRows, runColdExcludingLate, runHot } from '../support/parity.js';

const here = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'parity');
const catalog = loadCatalog(join(here, 'catalog'));
const read = (name: string): string => readFileSync(join(here, name), 'utf8');
const records = (name: string): RawRecord[] => read(name).split('\n').filter((l) => l.trim() !== '')
  .map((value, offset) => ({ partition: 0, offset, value }));

/** Runs `sql` over `input` on both paths; returns the hot rows after checking cold equals them. */
async function bothPaths(sql: string, input: string): Promise<{ plan: MetricPlan; rows: ResultRow[] }> {
  const plan = buildPlan(parseQuery('metric.sql', sql), catalog);
  const events = records(input);
  const hot = runHot(catalog, [plan], 'ev', events);
  const hotRows = hot.rows.get(plan.name) ?? [];
  const cold = await runColdExcludingLate(catalog, plan, events, hot.late.get(plan.name) ?? []);
  expect(diffRows(plan, hotRows, cold)).toEqual([]);
  return { plan, rows: hotRows };
}

const pick = (rows: readonly ResultRow[], ...cols: string[]): unknown[][] => rows.map((r) => cols.map((c) => r[c] ?? null));

describe('top-N with NULLS FIRST / NULLS LAST', () => {
  const sql = read('nulls-first.sql');

  it('ORDER BY best DESC NULLS FIRST ranks the NULL groups first (the report: c, d)', async () => {
    const { plan, rows } = await bothPaths(sql, 'nulls-first.ndjson');
    expect(findNode(plan.root, 'TopNNode')?.orderBy).toEqual([{ column: 3, descending: true, nullsFirst: true }]);
    expect(explainPlan(plan)).toContain('TopN: per window, ORDER BY best DESC NULLS FIRST, limit=2, rank=rn');
    expect(pick(rows, 'r', 'best', 'orders', 'rn')).toEqual([['c', null, 1, 1], ['d', null, 1, 2]]);
  });

  it('DESC NULLS LAST, and DESC alone (NULLS LAST is the default in both directions)', async () => {
    for (const order of ['best DESC NULLS LAST', 'best DESC']) {
      const { plan, rows } = await bothPaths(sql.replace('best DESC NULLS FIRST', order), 'nulls-first.ndjson');
      expect(findNode(plan.root, 'TopNNode')?.orderBy).toEqual([{ column: 3, descending: true, nullsFirst: false }]);
      expect(pick(rows, 'r', 'best', 'rn')).toEqual([['a', 5, 1], ['b', 5, 2]]);
    }
  });

  it('ASC NULLS FIRST keeps the NULL groups first, ASC NULLS LAST the smallest values', async () => {
    const first = await bothPaths(sql.replace('best DESC NULLS FIRST', 'best ASC NULLS FIRST').replace('rn <= 2', 'rn <= 3'), 'nulls-first.ndjson');
    expect(pick(first.rows, 'r', 'best', 'rn')).toEqual([['a', 5, 3], ['c', null, 1], ['d', null, 2]]);
    const last = await bothPaths(sql.replace('best DESC NULLS FIRST', 'best NULLS LAST').replace('rn <= 2', 'rn <= 3'), 'nulls-first.ndjson');
    expect(pick(last.rows, 'r', 'best', 'rn')).toEqual([['a', 5, 1], ['b', 5, 2], ['c', null, 3]]);
  });
});

describe('LIKE … ESCAPE', () => {
  const sql = read('like-escape.sql');
  const count = async (filter: string, input = 'like-escape-more.ndjson'): Promise<unknown> => {
    const { rows } = await bothPaths(sql.replace("u LIKE 'x!%' ESCAPE '!'", filter), input);
    return rows[0]?.literal_x_percent;
  };

  it("'x!%' ESCAPE '!' matches the literal string x% only (the report: 1, not 2)", async () => {
    const { plan, rows } = await bothPaths(sql, 'like-escape.ndjson');
    expect(explainPlan(plan)).toContain("FILTER (WHERE u LIKE 'x!%' ESCAPE '!')");
    expect(pick(rows, 'literal_x_percent')).toEqual([[1]]);
  });

  it('escaped _, a doubled escape, NOT LIKE, wildcards after an escape, and no escape at all', async () => {
    expect(await count("u LIKE 'x!_1' ESCAPE '!'")).toBe(1); // x_1, not xa1
    expect(await count("u LIKE 'x_1'")).toBe(2); // x_1 and xa1
    expect(await count("u LIKE 'x!!' ESCAPE '!'")).toBe(1); // x!
    expect(await count("u LIKE 'x!!%' ESCAPE '!'")).toBe(2); // x!abc, x!
    expect(await count("u LIKE '50#% %' ESCAPE '#'")).toBe(1); // 50% off
    expect(await count("u NOT LIKE 'x!%' ESCAPE '!'")).toBe(8); // every non-NULL u but x%
    expect(await count("u LIKE 'x!%' ESCAPE ''")).toBe(2); // no escape: x!abc and x!
    expect(await count("u LIKE 'x!%'")).toBe(2);
  });

  it("a backslash is ordinary without ESCAPE, and escapes with ESCAPE '\\'", async () => {
    expect(await count("u LIKE 'a\\b'")).toBe(1); // a\b
    expect(await count("u LIKE 'a\\b' ESCAPE '\\'")).toBe(1); // ab
    expect(await count("u LIKE 'x\\%' ESCAPE '\\'")).toBe(1); // x%
  });
});
