/**
 * Reconciling a CUMULATE metric: rows are identified by window_start, window_end and the group
 * key (the windows of a period share their start), and a late pair explains a difference in its
 * own window only, not in the other windows of its period.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { buildPlan } from '../../src/plan/index.js';
import { reconcileMetric, rowIdOf, type LateLine } from '../../src/reconcile/reconcile.js';
import { parseQuery } from '../../src/sql/index.js';
import type { ResultRow } from '../../src/util/result-row.js';

const catalog = loadCatalog(join(dirname(fileURLToPath(import.meta.url)), '..', 'plan', 'fixtures', 'parity', 'catalog'));
const plan = buildPlan(parseQuery('m.sql', `CREATE VIEW m AS
SELECT window_start, window_end, r, COUNT(*) AS n
FROM CUMULATE(ev, ts, INTERVAL '10 minutes', INTERVAL '30 minutes')
GROUP BY window_start, window_end, r;`), catalog);
const at = (minutes: number): string => new Date(minutes * 60_000).toISOString();
const row = (we: number, n: number): ResultRow => ({ window_start: at(0), window_end: at(we), r: 'a', n });

describe('reconcile on CUMULATE', () => {
  it('tells the windows of a period apart and explains a late pair in its own window only', () => {
    expect(new Set([row(10, 1), row(20, 1), row(30, 1)].map(rowIdOf(plan))).size).toBe(3);
    const cold = [row(10, 2), row(20, 2), row(30, 3)];
    // Hot missed one event in [0, 10) (late there, reported) and one in [0, 30) (not explained).
    const hot = [row(10, 1), row(20, 2), row(30, 2)];
    const late: LateLine[] = [{ metric: 'm', window_start: at(0), window_end: at(10), event_time: at(5) }];
    const r = reconcileMetric(plan, hot, cold, late);
    expect(r.differences.map((d) => [d.hot?.window_end, d.class])).toEqual([[at(10), 'late'], [at(30), 'mismatch']]);
    expect(r.summary).toMatchObject({ rows: 3, matches: 1, explained: 1, unexplained: 1 });
  });
});
