/**
 * CUMULATE windows (Flink's cumulating windows): running totals within a period. Fixed cases
 * whose rows are written by hand (the running totals, windows closing at their own end, an event
 * late for a period's short windows and counted in its long ones), then hot against DuckDB with
 * and without offsets, with top-N and late events, and on generated events.
 */
import fc from 'fast-check';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog, type Catalog, type StreamDef } from '../../src/catalog/index.js';
import { compileDuckDb } from '../../src/cold/index.js';
import { Engine } from '../../src/hot/engine.js';
import { ResultCollector } from '../../src/hot/result-collector.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import { buildPlan, type MetricPlan } from '../../src/plan/index.js';
import { parseQuery } from '../../src/sql/index.js';
import type { ResultRow } from '../../src/util/result-row.js';
import { diffRows, runColdExcludingLate, runHot } from '../support/parity.js';

const here = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'parity');
const catalog = loadCatalog(join(here, 'catalog'));
const MIN = 60_000;

/** The parity catalog with stream `ev` allowing `latenessMs` of lateness. */
function withLateness(latenessMs: number): Catalog {
  const ev = catalog.streams.get('ev') as StreamDef;
  return { ...catalog, streams: new Map([...catalog.streams, ['ev', { ...ev, allowedLatenessMs: latenessMs }]]) };
}

const plan = (window: string, cat: Catalog = catalog, emit = ''): MetricPlan => buildPlan(parseQuery('m.sql', `${emit}CREATE VIEW m AS
SELECT window_start, window_end, r, COUNT(*) AS n, SUM(amt) AS total
FROM ${window}
GROUP BY window_start, window_end, r;`), cat);

const ev = (i: number, tMs: number, r: string, amt: number): RawRecord => ({
  partition: 0, offset: i, value: JSON.stringify({ id: String(i), ts: new Date(tMs).toISOString(), r, amt }),
});
const at = (minutes: number): string => new Date(minutes * MIN).toISOString();
const row = (ws: number, we: number, r: string, n: number, total: number): ResultRow => ({ window_start: at(ws), window_end: at(we), r, n, total });

/** Hot rows, after checking that DuckDB gives the same rows for the same events. */
async function both(p: MetricPlan, cat: Catalog, records: readonly RawRecord[]): Promise<{ rows: ResultRow[]; late: { eventId: string; windowStart: number; windowEnd: number }[] }> {
  const hot = runHot(cat, [p], 'ev', records);
  const rows = hot.rows.get(p.name) ?? [];
  const late = hot.late.get(p.name) ?? [];
  expect(diffRows(p, rows, await runColdExcludingLate(cat, p, records, late))).toEqual([]);
  return { rows, late };
}

describe('CUMULATE by hand', () => {
  // Step 10 minutes, size 30 minutes: periods [0, 30) and [30, 60), three windows each.
  const w = "CUMULATE(ev, ts, INTERVAL '10 minutes', INTERVAL '30 minutes')";
  const records = [ev(0, 2 * MIN, 'a', 1), ev(1, 12 * MIN, 'a', 2), ev(2, 15 * MIN, 'b', 4), ev(3, 29 * MIN, 'a', 8), ev(4, 31 * MIN, 'a', 16), ev(5, 55 * MIN, 'b', 32)];

  it('gives the running totals of each period, a window per step end, on both paths', async () => {
    const { rows } = await both(plan(w), catalog, records);
    expect(rows).toEqual([
      row(0, 10, 'a', 1, 1),
      row(0, 20, 'a', 2, 3), row(0, 20, 'b', 1, 4),
      row(0, 30, 'a', 3, 11), row(0, 30, 'b', 1, 4),
      row(30, 40, 'a', 1, 16),
      row(30, 50, 'a', 1, 16),
      row(30, 60, 'a', 1, 16), row(30, 60, 'b', 1, 32),
    ]);
  });

  it('closes each window at its own end: a period\'s early windows emit before the period ends', () => {
    const p = plan(w);
    const results = new ResultCollector();
    const final: string[] = [];
    const engine = new Engine(catalog, [p], {
      result: (q, c) => { results.apply(q, c); if (c.final) final.push(`${new Date(c.windowStart).toISOString().slice(11, 16)}`); },
      late: () => { throw new Error('no event is late here'); },
    });
    // Up to 25 minutes in: the watermark (no delay) has passed 10 and 20, not 30.
    engine.process('ev', records.slice(0, 3), 0);
    engine.process('ev', [ev(9, 25 * MIN, 'c', 0)], 0);
    expect(results.rows(p).map((x) => [x.window_end, x.r, x.n])).toEqual([
      [at(10), 'a', 1], [at(20), 'a', 2], [at(20), 'b', 1],
    ]);
    expect(final).toEqual(['00:00', '00:00', '00:00']);
  });

  it('counts an event late for the short windows of its period in the long ones still open', async () => {
    // Allowed lateness 5 minutes: at watermark 22 min, [0, 10) is closed (10 + 5 <= 22), [0, 20) is not.
    const cat = withLateness(5 * MIN);
    const late = [ev(0, 1 * MIN, 'a', 1), ev(1, 22 * MIN, 'a', 2), ev(2, 5 * MIN, 'a', 4)];
    const got = await both(plan(w, cat), cat, late);
    expect(got.late).toEqual([{ eventId: '2', windowStart: 0, windowEnd: 10 * MIN }]);
    expect(got.rows).toEqual([row(0, 10, 'a', 1, 1), row(0, 20, 'a', 2, 5), row(0, 30, 'a', 3, 7)]);
    // Without lateness, at watermark 22 min the event is late for [0, 10) and [0, 20).
    const strict = await both(plan(w), catalog, late);
    expect(strict.late.map((l) => l.windowEnd)).toEqual([20 * MIN, 10 * MIN]);
    expect(strict.rows).toEqual([row(0, 10, 'a', 1, 1), row(0, 20, 'a', 1, 1), row(0, 30, 'a', 3, 7)]);
  });
});

describe('CUMULATE hot against DuckDB', () => {
  // Events every 7 minutes over 3 days, 3 keys, a few NULL amounts.
  const records: RawRecord[] = Array.from({ length: 620 }, (_, i) => ({
    partition: 0, offset: i,
    value: JSON.stringify({ id: String(i), ts: new Date(i * 7 * MIN).toISOString(), r: ['a', 'b', 'c'][i % 3], amt: i % 13 === 0 ? null : i % 11 }),
  }));

  it('agree with and without offsets, negative ones included; windows start at offset + k·size', async () => {
    for (const [w, offsetMs, sizeMs] of [
      ["CUMULATE(ev, ts, INTERVAL '1 hour', INTERVAL '1 day')", 0, 86_400_000],
      ["CUMULATE(ev, ts, INTERVAL '6 hours', INTERVAL '1 day', INTERVAL '-5 hours')", -18_000_000, 86_400_000],
      ["CUMULATE(ev, ts, INTERVAL '20 minutes', INTERVAL '2 hours', INTERVAL '50 minutes')", 3_000_000, 7_200_000],
    ] as const) {
      const p = plan(w);
      const { rows } = await both(p, catalog, records);
      expect(rows.length, w).toBeGreaterThan(20);
      for (const x of rows) {
        const ws = Date.parse(String(x.window_start));
        expect((((ws - offsetMs) % sizeMs) + sizeMs) % sizeMs, w).toBe(0);
        expect(Date.parse(String(x.window_end)) - ws, w).toBeLessThanOrEqual(sizeMs);
      }
    }
  });

  it('agree on emit on_update (upserts as windows fill, the same final rows)', async () => {
    await both(plan("CUMULATE(ev, ts, INTERVAL '1 hour', INTERVAL '4 hours', INTERVAL '-30 minutes')", catalog, '-- emit: on_update\n'), catalog, records);
  });

  it('agree on top-N ranked per (window_start, window_end), ROW_NUMBER and RANK', async () => {
    for (const fn of ['ROW_NUMBER', 'RANK']) {
      const p = buildPlan(parseQuery('top.sql', `CREATE VIEW top AS
SELECT * FROM (
  SELECT window_start, window_end, r, SUM(amt) AS total,
         ${fn}() OVER (PARTITION BY window_start, window_end ORDER BY SUM(amt) DESC) AS rn
  FROM CUMULATE(ev, ts, INTERVAL '30 minutes', INTERVAL '2 hours', INTERVAL '-15 minutes')
  GROUP BY window_start, window_end, r) AS ranked
WHERE rn <= 2;`), catalog);
      expect(compileDuckDb(p).sql).toContain('PARTITION BY "window_start", "window_end"');
      const { rows } = await both(p, catalog, records);
      // Two ranked rows (or more with RANK's ties) in every window, not two per period.
      const perWindow = new Map<string, number>();
      for (const x of rows) perWindow.set(`${String(x.window_start)}|${String(x.window_end)}`, (perWindow.get(`${String(x.window_start)}|${String(x.window_end)}`) ?? 0) + 1);
      expect(perWindow.size, fn).toBeGreaterThan(100);
      for (const n of perWindow.values()) expect(n, fn).toBeGreaterThanOrEqual(2);
    }
  });

  it('agree with late events under allowed lateness', async () => {
    // Every 5th event arrives 50 minutes behind: late for some short windows, on time for longer ones.
    const shuffled: RawRecord[] = records.map((r, i) => {
      const v = JSON.parse(r.value as string) as { ts: string };
      return i % 5 === 0 ? { ...r, value: JSON.stringify({ ...v, ts: new Date(Date.parse(v.ts) - 50 * MIN).toISOString() }) } : r;
    });
    const cat = withLateness(10 * MIN);
    const { late } = await both(plan("CUMULATE(ev, ts, INTERVAL '15 minutes', INTERVAL '2 hours')", cat), cat, shuffled);
    expect(late.length).toBeGreaterThan(50);
    // Some events are late for one window and counted in a longer one of the same period.
    const byEvent = new Map<string, number>();
    for (const l of late) byEvent.set(l.eventId, (byEvent.get(l.eventId) ?? 0) + 1);
    expect([...byEvent.values()].some((n) => n < 8)).toBe(true);
  });
});

describe('CUMULATE on generated events', () => {
  const STEPS: readonly [string, number][] = [['1 minute', MIN], ['5 minutes', 5 * MIN], ['7 minutes', 7 * MIN]];
  it('hot equals DuckDB, running totals never shrink within a period, windows sit on the grid', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 0, max: STEPS.length - 1 }),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: -90, max: 90 }),
      fc.constantFrom(0, 3 * MIN),
      fc.array(fc.record({ t: fc.integer({ min: 0, max: 300 * MIN }), r: fc.constantFrom('a', 'b'), amt: fc.option(fc.integer({ min: -5, max: 5 })) }), { minLength: 1, maxLength: 120 }),
      async (stepIdx, k, offsetMin, latenessMs, events) => {
        const [stepText, stepMs] = STEPS[stepIdx] as [string, number];
        const cat = withLateness(latenessMs);
        const p = plan(`CUMULATE(ev, ts, INTERVAL '${stepText}', INTERVAL '${(stepMs / MIN) * k} minutes', INTERVAL '${offsetMin} minutes')`, cat);
        const records = events.map((e, i) => ({ partition: 0, offset: i, value: JSON.stringify({ id: String(i), ts: new Date(e.t).toISOString(), r: e.r, amt: e.amt }) }));
        const hot = runHot(cat, [p], 'ev', records);
        const rows = hot.rows.get('m') ?? [];
        expect(diffRows(p, rows, await runColdExcludingLate(cat, p, records, hot.late.get('m') ?? []))).toEqual([]);
        const sizeMs = stepMs * k;
        const prior = new Map<string, number>();
        for (const x of rows) {
          const ws = Date.parse(String(x.window_start));
          const span = Date.parse(String(x.window_end)) - ws;
          expect((((ws - offsetMin * MIN) % sizeMs) + sizeMs) % sizeMs).toBe(0);
          expect(span % stepMs === 0 && span > 0 && span <= sizeMs).toBe(true);
          // Rows come by window_start, then window_end: a longer window of a period counts at least as many events.
          const key = `${String(x.window_start)}|${String(x.r)}`;
          expect(x.n as number).toBeGreaterThanOrEqual(prior.get(key) ?? 0);
          prior.set(key, x.n as number);
        }
      },
    ), { numRuns: 30 });
  });
});
