/**
 * CUMULATE rows in the serving store: the windows of one period share window_start, and each
 * keeps its own row (final or provisional); `latest` gives, per key, the row of the window that
 * starts last and, among a period's windows, ends last.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { Engine } from '../../src/hot/engine.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import { buildPlan } from '../../src/plan/index.js';
import { ProvisionalFeed } from '../../src/serve/provisional-feed.js';
import { ServingStore } from '../../src/serve/serving-store.js';
import { parseQuery } from '../../src/sql/index.js';

const catalog = loadCatalog(join(dirname(fileURLToPath(import.meta.url)), '..', 'plan', 'fixtures', 'parity', 'catalog'));
const plan = buildPlan(parseQuery('m.sql', `CREATE VIEW m AS
SELECT window_start, window_end, r, COUNT(*) AS n, SUM(amt) AS total
FROM CUMULATE(ev, ts, INTERVAL '10 minutes', INTERVAL '30 minutes')
GROUP BY window_start, window_end, r;`), catalog);
const MIN = 60_000;
const ev = (i: number, minutes: number, r: string, amt: number): RawRecord => ({
  partition: 0, offset: i, value: JSON.stringify({ id: String(i), ts: new Date(minutes * MIN).toISOString(), r, amt }),
});
const at = (minutes: number): string => new Date(minutes * MIN).toISOString();

describe('CUMULATE in the serving store', () => {
  it('keeps a row per window of a period, provisional then final, and latest takes the window ending last', () => {
    const store = new ServingStore([plan]);
    const engine = new Engine(catalog, [plan], { result: (p, c) => store.apply(p, c) });
    const feed = new ProvisionalFeed(engine);
    const rows = (): [string, string, unknown, unknown, boolean][] => store.query('m', { limit: 100, offset: 0 }).rows
      .map((x) => [String(x.row.window_start), String(x.row.window_end), x.row.r, x.row.n, x.final] as [string, string, unknown, unknown, boolean])
      .sort((a, b) => (a.join() < b.join() ? -1 : 1));
    engine.process('ev', [ev(0, 2, 'a', 1), ev(1, 12, 'a', 2), ev(2, 15, 'b', 4)], 0);
    for (const [p, c] of feed.changes()) store.apply(p, c);
    // Watermark 15 min: [0, 10) is final; [0, 20) and [0, 30) are open, each with its own rows.
    expect(rows()).toEqual([
      [at(0), at(10), 'a', 1, true],
      [at(0), at(20), 'a', 2, false], [at(0), at(20), 'b', 1, false],
      [at(0), at(30), 'a', 2, false], [at(0), at(30), 'b', 1, false],
    ]);
    engine.process('ev', [ev(3, 29, 'a', 8), ev(4, 31, 'a', 16)], 0);
    engine.endOfInput();
    for (const [p, c] of feed.changes()) store.apply(p, c);
    expect(rows().every((x) => x[4])).toBe(true);
    expect(rows()).toHaveLength(8);
    expect(store.latest('m').map((x) => [x.row.r, x.row.window_start, x.row.window_end, x.row.n])).toEqual([
      ['a', at(30), at(60), 1],
      ['b', at(0), at(30), 1],
    ]);
  });
});
