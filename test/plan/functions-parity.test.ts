/**
 * A whole metric built from the numeric, time and conditional functions, in WHERE, in GROUP BY
 * keys and in SELECT (over keys and over aggregates): the hot and the cold path give the same
 * rows, over events that cross a DST change. Also how `IS [NOT] DISTINCT FROM`, `EXTRACT` and
 * `AT TIME ZONE` are read from the SQL text.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import type { PitwallError } from '../../src/errors.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import { buildPlan, displayExpr, findNode } from '../../src/plan/index.js';
import { parseQuery } from '../../src/sql/index.js';
import { diffRows, runColdExcludingLate, runHot } from '../support/parity.js';

const here = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'parity');
const catalog = loadCatalog(join(here, 'catalog'));
const plan = (sql: string): ReturnType<typeof buildPlan> => buildPlan(parseQuery('m.sql', sql), catalog);
const where = (condition: string): string => {
  const p = plan(`CREATE VIEW m AS SELECT window_start, COUNT(*) AS n FROM TUMBLE(ev, ts, INTERVAL '1 hour') WHERE ${condition} GROUP BY window_start;`);
  const filter = findNode(p.root, 'FilterNode');
  if (!filter) throw new Error('no filter');
  return displayExpr(filter.predicate);
};
const failure = (sql: string): PitwallError => {
  try { plan(sql); } catch (e) { return e as PitwallError; }
  throw new Error('planned');
};

const METRIC = `CREATE VIEW local_hours AS
SELECT window_start, window_end,
       date_trunc('hour', ts AT TIME ZONE 'America/New_York') AS local_hour,
       EXTRACT(isodow FROM ts) AS dow, greatest(r, u) AS top,
       COUNT(*) AS n, SUM(round(amt, 1)) AS total, MAX(sqrt(amt)) AS root,
       MIN(mod(epoch_ms(ts), 7)) AS m7, sign(SUM(amt)) AS direction,
       least(MAX(time_bucket(INTERVAL '90 minutes', ts)), window_end) AS last_bucket
FROM TUMBLE(ev, ts, INTERVAL '1 day')
WHERE r IS DISTINCT FROM 'z' AND nullif(u, '') IS NOT NULL
  AND date_part('minute', ts) IS NOT DISTINCT FROM EXTRACT(minute FROM ts)
GROUP BY window_start, window_end, date_trunc('hour', ts AT TIME ZONE 'America/New_York'),
         EXTRACT(isodow FROM ts), greatest(r, u);`;

describe('a metric of numeric, time and conditional functions', () => {
  it('gives the same rows on the hot and the cold path, across a DST change', async () => {
    // Every 13 minutes from 2024-03-09 to 2024-03-12 (New York springs forward on 2024-03-10).
    const start = Date.parse('2024-03-09T00:00:00Z');
    const records: RawRecord[] = Array.from({ length: 330 }, (_, i) => ({
      partition: 0, offset: i,
      value: JSON.stringify({
        id: String(i), ts: new Date(start + i * 13 * 60_000).toISOString(), r: [null, 'a', 'b', 'z'][i % 4],
        u: ['', 'b', 'q', null, 'a'][i % 5], amt: i % 7 === 0 ? null : ((i % 9) - 3) * 1.25,
      }),
    }));
    const p = plan(METRIC);
    const hot = runHot(catalog, [p], 'ev', records);
    const rows = hot.rows.get(p.name) ?? [];
    expect(rows.length).toBeGreaterThan(50);
    expect(new Set(rows.map((r) => String(r.local_hour))).has('2024-03-10T03:00:00.000Z')).toBe(true);
    expect(new Set(rows.map((r) => String(r.local_hour))).has('2024-03-10T02:00:00.000Z')).toBe(false); // skipped by DST
    const cold = await runColdExcludingLate(catalog, p, records, hot.late.get(p.name) ?? []);
    expect(diffRows(p, rows, cold)).toEqual([]);
  }, 60_000);
});

describe('IS [NOT] DISTINCT FROM, EXTRACT and AT TIME ZONE in the SQL text', () => {
  it('read IS [NOT] DISTINCT FROM at comparison precedence, across lines, in any case', () => {
    expect(where("amt + 1 IS DISTINCT FROM 2 AND r = 'a'")).toBe("(is_distinct_from((amt + 1), 2) AND (r = 'a'))");
    expect(where('NOT r is not\n  distinct   from u')).toBe('NOT (is_not_distinct_from(r, u))');
    expect(where("ts IS DISTINCT FROM '2024-01-01T00:00:00Z'")).toBe("is_distinct_from(ts, TIMESTAMP '2024-01-01T00:00:00.000Z')");
  });
  it('leave the words alone inside strings, quoted names and comments', () => {
    expect(where("r = 'x IS DISTINCT FROM y' -- IS DISTINCT FROM\n")).toBe("(r = 'x IS DISTINCT FROM y')");
  });
  it('refuse a written !~ operator and incomparable sides, at their position', () => {
    const sql = "CREATE VIEW m AS SELECT window_start, COUNT(*) AS n FROM TUMBLE(ev, ts, INTERVAL '1 hour') WHERE r !~ 'a' GROUP BY window_start;";
    const own = failure(sql);
    expect([own.code, own.position?.col, own.detail]).toEqual(['PW_PLAN_UNSUPPORTED', sql.indexOf('!~') + 1, 'the operator !~ (regular-expression no-match) is not supported; for a NULL-safe comparison write a IS NOT DISTINCT FROM b']);
    const mixed = failure("CREATE VIEW m AS SELECT window_start, COUNT(*) AS n FROM TUMBLE(ev, ts, INTERVAL '1 hour') WHERE r IS DISTINCT FROM amt GROUP BY window_start;");
    expect([mixed.code, mixed.detail]).toEqual(['PW_PLAN_TYPE', 'cannot compare string with double (IS DISTINCT FROM); CAST one side']);
  });
  it('read EXTRACT as date_part and col AT TIME ZONE as timezone', () => {
    expect(where('EXTRACT(epoch FROM ts) > 0')).toBe("(date_part('epoch', ts) > 0)");
    expect(where("ts AT TIME ZONE 'Europe/Paris' > ts")).toBe("(timezone('Europe/Paris', ts) > ts)");
  });
});
