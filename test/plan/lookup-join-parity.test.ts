/**
 * Lookup joins to a versioned reference table (Flink's event-time temporal join): each event
 * joins the version of its key valid at its event time. The hot path (TableVersions, before the
 * filter) and DuckDB's ASOF JOIN over the changes the hot path applied give the same rows and
 * the same inner-join misses: on a fixed case with hand-written expected rows (versions changing
 * mid-window, a tombstone, an inner miss, a LEFT miss, a late table change, a tie on validity
 * time) and on generated events and changes.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import { buildPlan, type MetricPlan } from '../../src/plan/index.js';
import { parseQuery } from '../../src/sql/index.js';
import { diffRows, runColdJoined, runHotSteps, type JoinStep } from '../support/parity.js';

const here = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'parity');
const catalog = loadCatalog(join(here, 'catalog'));

const TUMBLE = "TUMBLE(ev, ts, INTERVAL '1 minute')";
const plan = (kind: 'JOIN' | 'LEFT JOIN', extra = '', window = TUMBLE): MetricPlan => buildPlan(parseQuery('joined.sql', `CREATE VIEW joined AS
SELECT window_start, window_end, r, t.label AS label, COUNT(*) AS n, SUM(t.w) AS w_sum, MAX(amt * w) AS top
FROM ${window} e
${kind} tbl t ON e.r = t.k
${extra}
GROUP BY window_start, window_end, r, t.label;`), catalog);

let offset = 0;
const ev = (id: string, tsMs: number, r: string | null, amt = 1): RawRecord => ({ partition: 0, offset: offset++, value: JSON.stringify({ id, ts: new Date(tsMs).toISOString(), r, amt }) });
const change = (k: string, vfMs: number, label: string | null, w: number | null, del = false): RawRecord => ({ partition: 0, offset: offset++, value: JSON.stringify({ k, vf: new Date(vfMs).toISOString(), label, w, ...(del ? { del: true } : {}) }) });
const ws = (min: number): string => new Date(min * 60_000).toISOString();

async function both(p: MetricPlan, steps: readonly JoinStep[]): Promise<{ rows: readonly Record<string, unknown>[]; misses: number; late: number }> {
  const hot = runHotSteps(catalog, [p], steps);
  const cold = await runColdJoined(catalog, p, steps, hot);
  const rows = hot.rows.get(p.name) ?? [];
  expect(diffRows(p, rows, cold.rows)).toEqual([]);
  expect(hot.misses.get(p.name)).toBe(cold.misses);
  return { rows, misses: cold.misses, late: hot.changes.filter((c) => c.outcome !== 'applied').length };
}

describe('lookup join, fixed case', () => {
  offset = 0;
  const steps: JoinStep[] = [
    { source: 'tbl', records: [
      change('a', 0, 'A0', 10),
      change('b', 0, 'B0', 1),
      change('a', 30_000, 'A1', 20), // a changes mid-window 0
      change('b', 20_000, null, null, true), // b deleted at 0:20
      change('c', 90_000, 'C-first', 5),
      change('c', 90_000, 'C', 7), // same validity time: the later arrival wins
    ] },
    { source: 'ev', records: [
      ev('1', 10_000, 'a', 2), // A0
      ev('2', 40_000, 'a', 3), // A1
      ev('3', 10_000, 'b', 4), // B0
      ev('4', 25_000, 'b'), // b deleted: miss
      ev('5', 50_000, 'x'), // no such key: miss
      ev('6', 50_000, null), // NULL probe: miss
      ev('7', 100_000, 'c', 2), // C (window 1)
    ] },
    // valid at 0:30 <= 1:40, the latest joined event time: late, not applied
    { source: 'tbl', records: [change('a', 30_000, 'A-late', 99), change('a', 150_000, 'A2', 30)] },
    { source: 'ev', records: [ev('8', 160_000, 'a'), ev('9', 140_000, 'a')] }, // A2 at 2:40; A1 at 2:20
  ];

  it('inner JOIN: versions by event time, tombstone and unknown keys are misses, late change not applied', async () => {
    const { rows, misses, late } = await both(plan('JOIN'), steps);
    expect(rows).toEqual([
      { window_start: ws(0), window_end: ws(1), r: 'a', label: 'A0', n: 1, w_sum: 10, top: 20 },
      { window_start: ws(0), window_end: ws(1), r: 'a', label: 'A1', n: 1, w_sum: 20, top: 60 },
      { window_start: ws(0), window_end: ws(1), r: 'b', label: 'B0', n: 1, w_sum: 1, top: 4 },
      { window_start: ws(1), window_end: ws(2), r: 'c', label: 'C', n: 1, w_sum: 7, top: 14 },
      { window_start: ws(2), window_end: ws(3), r: 'a', label: 'A1', n: 1, w_sum: 20, top: 20 },
      { window_start: ws(2), window_end: ws(3), r: 'a', label: 'A2', n: 1, w_sum: 30, top: 30 },
    ]);
    expect(misses).toBe(3);
    expect(late).toBe(1);
  });

  it('LEFT JOIN keeps the misses with NULL table columns; the filter sees the joined columns', async () => {
    const { rows, misses } = await both(plan('LEFT JOIN'), steps);
    expect(misses).toBe(3); // counted, and kept
    expect(rows.filter((r) => r.label === null)).toEqual([
      { window_start: ws(0), window_end: ws(1), r: 'b', label: null, n: 1, w_sum: null, top: null },
      { window_start: ws(0), window_end: ws(1), r: 'x', label: null, n: 1, w_sum: null, top: null },
      { window_start: ws(0), window_end: ws(1), r: null, label: null, n: 1, w_sum: null, top: null },
    ]);
    const filtered = await both(plan('LEFT JOIN', "WHERE t.label IS NULL OR t.label LIKE 'A%'"), steps);
    expect(filtered.rows.map((r) => r.label)).toEqual(['A0', 'A1', null, null, null, 'A1', 'A2']);
  });
});

describe('lookup join, memory', () => {
  it('drops versions only below the watermark horizon: an out-of-order on-time event still finds its version', async () => {
    offset = 0;
    const steps: JoinStep[] = [
      { source: 'tbl', records: [change('a', 0, 'A0', 1), change('a', 50_000, 'A1', 2)] },
      { source: 'ev', records: [ev('1', 55_000, 'a')] }, // watermark 0:55: A0 is still needed until 1:00 + 1 minute
      { source: 'ev', records: [ev('2', 45_000, 'a')] }, // window [0:00, 1:00) is open: joins A0
      { source: 'ev', records: [ev('3', 125_000, 'a')] }, // watermark 2:05: horizon 1:05, A0 can go
      { source: 'ev', records: [ev('4', 10_000, 'a')] }, // late for its only window: late lane, no lookup, no miss
    ];
    const p = plan('JOIN');
    const hot = runHotSteps(catalog, [p], steps);
    expect(hot.late.get(p.name)).toEqual([{ eventId: '4', windowStart: 0, windowEnd: 60_000 }]);
    const { rows, misses } = await both(p, steps);
    expect(rows.map((r) => [r.window_start, r.label])).toEqual([[ws(0), 'A0'], [ws(0), 'A1'], [ws(2), 'A1']]);
    expect(misses).toBe(0);
  });
});

describe('lookup join, generated', () => {
  it('hot and DuckDB agree on rows and misses for random events and table changes (TUMBLE, HOP, CUMULATE)', async () => {
    const keys = ['a', 'b', 'c'];
    const stepArb = fc.array(fc.oneof(
      fc.record({ t: fc.constant('ev' as const), ts: fc.integer({ min: 0, max: 600 }), k: fc.constantFrom('a', 'b', 'c', 'd', null), amt: fc.integer({ min: -5, max: 5 }) }),
      fc.record({ t: fc.constant('tbl' as const), vf: fc.integer({ min: 0, max: 600 }), k: fc.constantFrom(...keys), w: fc.option(fc.integer({ min: -3, max: 9 })), del: fc.boolean() }),
    ), { minLength: 1, maxLength: 60 });
    const windows = [TUMBLE, "HOP(ev, ts, INTERVAL '20 seconds', INTERVAL '1 minute')", "CUMULATE(ev, ts, INTERVAL '20 seconds', INTERVAL '1 minute')"];
    let changesLate = 0;
    let joined = 0;
    await fc.assert(fc.asyncProperty(stepArb, fc.constantFrom<'JOIN' | 'LEFT JOIN'>('JOIN', 'LEFT JOIN'), fc.constantFrom(...windows), async (items, kind, window) => {
      offset = 0;
      // Consecutive items of one source form one batch; times in seconds (windows of 1 minute).
      const steps: JoinStep[] = [];
      items.forEach((it, i) => {
        const rec = it.t === 'ev' ? ev(String(i % 40), it.ts * 1000, it.k, it.amt) : change(it.k, it.vf * 1000, `L${it.w ?? 'n'}`, it.w, it.del);
        const last = steps.at(-1);
        if (last && last.source === it.t) (last.records as RawRecord[]).push(rec);
        else steps.push({ source: it.t, records: [rec] });
      });
      const run = await both(plan(kind, '', window), steps);
      changesLate += run.late;
      joined += run.rows.length;
    }), { numRuns: 60 });
    // The generator reaches the cases that matter: late table changes and joined rows.
    expect(changesLate).toBeGreaterThan(0);
    expect(joined).toBeGreaterThan(0);
  }, 60_000);
});
