/**
 * Shedding a metric mid-stream on the engine (no broker): its operators are skipped while shed,
 * the interval is recorded, rows of the affected windows are held back, a critical metric is
 * untouched, and after backfill from the same input the final rows equal an unshed run exactly.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backfillWindows } from '../../src/cold/backfill.js';
import { recomputeRows } from '../../src/cold/recompute.js';
import { reconcileMetric } from '../../src/reconcile/reconcile.js';
import { backfillChanges } from '../../src/hot/backfill-changes.js';
import { Engine } from '../../src/hot/engine.js';
import { ResultCollector } from '../../src/hot/result-collector.js';
import { ShedController } from '../../src/hot/shed-controller.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import type { MetricPlan } from '../../src/plan/index.js';
import type { ResultRow } from '../../src/util/result-row.js';
import { ORDERS_YAML, catalogOf, plan } from '../support/cold-harness.js';

const catalog = catalogOf(ORDERS_YAML); // watermark_delay 5s, allowed_lateness 0s
const BATCH = `-- tier: batch
CREATE VIEW revenue_1m AS SELECT window_start, data.restaurantId AS r, COUNT(*) AS n, SUM(data.orderTotal) AS revenue
  FROM TUMBLE(orders, eventTime, INTERVAL '1 minute') GROUP BY window_start, data.restaurantId`;
const BATCH_HOP = `-- tier: batch
-- emit: on_update
CREATE VIEW orders_hop AS SELECT window_start, window_end, COUNT(*) AS n
  FROM HOP(orders, eventTime, INTERVAL '30 seconds', INTERVAL '2 minutes') GROUP BY window_start, window_end`;
const CRITICAL = `-- tier: critical
CREATE VIEW orders_1m AS SELECT window_start, COUNT(*) AS n FROM TUMBLE(orders, eventTime, INTERVAL '1 minute') GROUP BY window_start`;
const plans = [plan(CRITICAL, catalog), plan(BATCH, catalog), plan(BATCH_HOP, catalog)];
const T0 = Date.parse('2024-03-15T19:00:00.000Z');

/** 1,200 events over 20 minutes, a little out of order (within the 5 s watermark delay). */
const records: RawRecord[] = Array.from({ length: 1_200 }, (_, i) => {
  const jitter = (i * 7919) % 4_000;
  const value = JSON.stringify({ eventId: `e${i}`, eventType: 'order.created', eventTime: new Date(T0 + i * 1_000 - jitter).toISOString(),
    data: { restaurantId: `r${i % 3}`, orderTotal: (i % 17) + 0.5 } });
  return { partition: 0, offset: i, value };
});

function run(shedAt?: { from: number; to: number }): { engine: Engine; results: ResultCollector; held: number; rows: (p: MetricPlan) => ResultRow[] } {
  const results = new ResultCollector();
  let held = 0;
  const engine = new Engine(catalog, plans, { result: (p, c) => results.apply(p, c), shedRow: () => { held++; } });
  const controller = new ShedController({ shedLagMs: 1_000, resumeLagMs: 100, shedRecords: 1e9, resumeRecords: 1e9, dwellMs: 0 });
  for (let i = 0; i < records.length; i += 50) {
    // The lag figures stand in for a backlog between the two offsets.
    if (shedAt && (i === shedAt.from || i === shedAt.to)) {
      controller.observe({ eventLagMs: i === shedAt.from ? 5_000 : 0 }, i);
      engine.applyShedLevel(controller, T0 + i * 1_000);
    }
    engine.process('orders', records.slice(i, i + 50), T0 + i * 1_000);
  }
  engine.endOfInput();
  return { engine, results, held, rows: (p) => results.rows(p) };
}

describe('shedding a batch metric mid-stream', () => {
  it('skips it, holds back its affected windows, leaves critical alone, and backfill makes the rows equal an unshed run', async () => {
    const full = run();
    const shed = run({ from: 400, to: 700 });
    const [critical, batch, hop] = plans as [MetricPlan, MetricPlan, MetricPlan];

    // Critical ran throughout; batch metrics were shed (one level up: batch only).
    expect(shed.rows(critical)).toEqual(full.rows(critical));
    const log = shed.engine.shedLog;
    const [interval] = log.intervals(batch.name);
    expect(log.intervals(critical.name)).toEqual([]);
    expect(log.intervals(hop.name)).toHaveLength(1);
    // from = watermark − lateness when shedding began; to = one past the latest event time skipped.
    const maxBefore = Math.max(...records.slice(0, 400).map((r) => Date.parse((JSON.parse(r.value) as { eventTime: string }).eventTime)));
    const maxSkipped = Math.max(...records.slice(400, 700).map((r) => Date.parse((JSON.parse(r.value) as { eventTime: string }).eventTime)));
    expect(interval).toMatchObject({ fromMs: maxBefore - 5_000, toMs: maxSkipped + 1, backfilledAt: null });
    expect(log.pending().map((i) => i.metric).sort()).toEqual([hop.name, batch.name].sort());

    // Every window overlapping the interval is missing on the hot path; every other one is exact.
    const affected = (r: ResultRow, sizeMs: number): boolean => {
      const s = Date.parse(String(r.window_start));
      return s + sizeMs > (interval?.fromMs ?? 0) && s < (interval?.toMs ?? 0);
    };
    const fullBatch = full.rows(batch);
    expect(shed.rows(batch)).toEqual(fullBatch.filter((r) => !affected(r, 60_000)));
    const affectedWindows = new Set(fullBatch.filter((r) => affected(r, 60_000)).map((r) => r.window_start)).size;
    // Shedding began at watermark ≈ 19:06:34 (19:06 still open); the last event skipped was at 19:11:39: 19:06 … 19:11.
    expect(affectedWindows).toBe(6);
    expect(shed.engine.shedStats()[batch.name]).toEqual({ tier: 'batch', shed: false, since: undefined, shedWindows: affectedWindows, backfilledWindows: 0, pendingIntervals: 1 });
    expect(shed.held).toBeGreaterThan(0);

    // Backfill from the same input (the archive's stand-in): rows of exactly those windows.
    const dir = mkdtempSync(join(tmpdir(), 'pitwall-shed-'));
    const file = join(dir, 'orders.ndjson');
    writeFileSync(file, records.map((r) => r.value).join('\n') + '\n');
    const done = await backfillWindows(catalog, plans, { inputs: [{ stream: 'orders', file }] }, log.pending().map((i) => ({ ...i, toMs: i.toMs as number })));
    const backfilled = new Map(done.map((d) => [d.plan.name, d]));
    expect(backfilled.get(batch.name)?.done).toEqual([{ id: interval?.id, metric: batch.name, windows: affectedWindows }]);
    log.markBackfilled(done.flatMap((d) => d.done), 0);
    expect(log.pending()).toEqual([]);
    expect(shed.engine.shedStats()[batch.name]).toMatchObject({ shedWindows: affectedWindows, backfilledWindows: affectedWindows, pendingIntervals: 0 });
    expect(shed.engine.shedStats()[critical.name]).toMatchObject({ tier: 'critical', shed: false, shedWindows: 0 });

    // Reconciliation with the cold path counts the backfilled rows as explained, the rest as matches.
    const { rows: cold } = await recomputeRows(catalog, plans, { inputs: [{ stream: 'orders', file }] });
    const hotBatch = [...shed.rows(batch), ...(backfilled.get(batch.name)?.rows ?? []).map((r) => ({ ...r, backfilled: true }))];
    const rec = reconcileMetric(batch, hotBatch, cold.get(batch.name) ?? [], []).summary;
    expect(rec.classes).toMatchObject({ backfilled: backfilled.get(batch.name)?.rows.length, match: shed.rows(batch).length, missing_hot: 0, mismatch: 0 });
    expect(rec.classes.backfilled).toBeGreaterThan(0);
    expect(rec.unexplained).toBe(0);
    // Before the backfill the same windows are missing on the hot path: unexplained.
    expect(reconcileMetric(batch, shed.rows(batch), cold.get(batch.name) ?? [], []).summary.classes.missing_hot).toBe(backfilled.get(batch.name)?.rows.length);

    // Upserting the backfilled rows under the hot path's own identities gives the unshed run's rows exactly.
    for (const p of [batch, hop]) {
      const toChange = backfillChanges(p);
      for (const r of backfilled.get(p.name)?.rows ?? []) shed.results.apply(p, toChange(r));
      expect(shed.rows(p)).toEqual(full.rows(p));
    }
  });

  it('an interval in which nothing was skipped is dropped, and a shed engine suppresses rows of windows still open', () => {
    const results = new ResultCollector();
    const engine = new Engine(catalog, plans, { result: (p, c) => results.apply(p, c) });
    engine.process('orders', records.slice(0, 100), T0);
    engine.setShed('revenue_1m', true, T0);
    engine.setShed('revenue_1m', false, T0);
    expect(engine.shedLog.intervals('revenue_1m')).toEqual([]);
    engine.setShed('revenue_1m', true, T0);
    expect(engine.shedStats().revenue_1m).toMatchObject({ shed: true, since: new Date(T0).toISOString() });
    engine.endOfInput();
    // Windows open when shedding began never reach the sink; the ones closed before did.
    const starts = results.rows(plans[1] as MetricPlan).map((r) => Date.parse(String(r.window_start)));
    const from = engine.shedLog.intervals('revenue_1m')[0]?.fromMs ?? 0;
    expect(starts.length).toBeGreaterThan(0);
    expect(starts.every((s) => s + 60_000 <= from)).toBe(true);
  });
});
