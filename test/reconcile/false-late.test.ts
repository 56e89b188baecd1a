/**
 * ../shared/cases/run-restart-false-late, at reconciliation: a restart that took over without one
 * partition moved the watermark on the others alone, and every earlier event of that partition
 * went to the late lane; reconcile called the loss "explained". Late pairs now carry their own
 * partition's evidence, and reconcile explains only lateness in the event's own partition or by
 * the idle rule: the rest is `false_late`, unexplained.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Engine } from '../../src/hot/engine.js';
import { lateLine } from '../../src/hot/late-line.js';
import { ResultCollector } from '../../src/hot/result-collector.js';
import type { LatePair } from '../../src/hot/operator-types.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import { WatermarkTracker } from '../../src/hot/watermark.js';
import { formatReconciliation, lateExplained, reconcile, reconcileMetric, type LateLine } from '../../src/reconcile/reconcile.js';
import { catalogOf, plan, runCold } from '../support/cold-harness.js';

const CATALOG_YAML = `
name: orders
event_id: eventId
event_time: eventTime
watermark_delay: 5s
idle_timeout: 5s
fields:
  eventId: { type: string, required: true }
  eventTime: { type: timestamp, required: true }
  data.restaurantId: { type: string }
`;
const SQL = `CREATE VIEW per_10s AS SELECT window_start, COUNT(*) AS n
  FROM TUMBLE(orders, eventTime, INTERVAL '10 seconds') GROUP BY window_start`;
const catalog = catalogOf(CATALOG_YAML);
const metric = plan(SQL, catalog);
const T0 = Date.parse('2024-03-15T19:00:00.000Z');

let seq = 0;
const payload = (sec: number): Record<string, unknown> => ({ eventId: `e${seq++}`, eventTime: new Date(T0 + sec * 1000).toISOString(), data: { restaurantId: 'r1' } });
const rec = (partition: number, offset: number, p: Record<string, unknown>): RawRecord => ({ partition, offset, value: JSON.stringify(p) });

function engine(): { e: Engine; late: LatePair[]; rows: ResultCollector } {
  const late: LatePair[] = [];
  const rows = new ResultCollector();
  const e = new Engine(catalog, [metric], { result: (p, c) => rows.apply(p, c), late: (_p, pair) => late.push(pair) });
  return { e, late, rows };
}

describe('WatermarkTracker: a partition lent to the others while idle', () => {
  it('is lent from going idle until its own watermark reaches the one judging it', () => {
    const w = new WatermarkTracker(0, 5_000);
    w.observe(0, 10_000, 0);
    w.observe(1, 10_000, 0);
    w.observe(0, 100_000, 4_000);
    expect(w.tick(5_000)).toBe(100_000); // partition 1 idle: partition 0 alone moves it
    expect(w.lent(1)).toBe(true);
    expect(w.lent(0)).toBe(false);
    w.observe(1, 50_000, 6_000); // back, behind: the (monotone) watermark stays at 100 s
    expect(w.lent(1)).toBe(true);
    w.observe(1, 100_000, 7_000); // caught up with the watermark its events are judged by
    expect(w.lent(1)).toBe(false);
    expect(w.partitionWatermark(1)).toBe(100_000);
  });

  it('a restored partition behind the restored watermark was idle when it passed', () => {
    const w = new WatermarkTracker(0, 5_000);
    w.restore({ watermark: 100_000, parts: [[0, 100_000], [1, 40_000]] }, 0);
    expect(w.lent(0)).toBe(false);
    expect(w.lent(1)).toBe(true);
  });

  it('a member adopting a partition whose published floor is above its own watermark adopts it lent', () => {
    const w = new WatermarkTracker(0, 5_000, { monotone: false });
    w.adopt(0, 100_000, 0, 90_000);
    w.adopt(1, 40_000, 0, 90_000);
    expect(w.lent(0)).toBe(false);
    expect(w.lent(1)).toBe(true);
  });
});

describe('late pairs carry their partition evidence', () => {
  it('lateness in the event\'s own partition is explained', () => {
    const { e, late } = engine();
    e.process('orders', [rec(0, 0, payload(100)), rec(1, 0, payload(100)), rec(0, 1, payload(10))], 0);
    expect(late).toHaveLength(1);
    expect(late[0]?.evidence).toEqual({ partitionWatermarkMs: T0 + 95_000, partitionIdle: false });
    expect(lateExplained(metric, lateLine(metric, late[0] as LatePair) as unknown as LateLine)).toBe(true);
  });

  it('lateness by the idle rule is explained', () => {
    const { e, late } = engine();
    e.process('orders', [rec(0, 0, payload(1)), rec(1, 0, payload(1))], 0);
    e.process('orders', [rec(0, 1, payload(100))], 4_000);
    e.tick(6_000); // partition 1 silent for idle_timeout: partition 0 moves the watermark to 95 s
    e.process('orders', [rec(1, 1, payload(10))], 7_000);
    expect(late).toHaveLength(1);
    expect(late[0]?.evidence).toEqual({ partitionWatermarkMs: T0 - 4_000, partitionIdle: true });
    expect(lateExplained(metric, lateLine(metric, late[0] as LatePair) as unknown as LateLine)).toBe(true);
  });

  it('a partition a restart never held, passed by the others, is false lateness (the case\'s mechanism)', () => {
    // The restart's checkpoint knew partitions 0 and 1 only; partition 2 (held by a dead member) comes back later.
    const first = engine();
    first.e.process('orders', [rec(0, 0, payload(100)), rec(1, 0, payload(100))], 0);
    const snap = first.e.snapshot();
    const { e, late } = engine();
    e.restore(snap, 0);
    e.process('orders', [rec(2, 0, payload(11)), rec(2, 1, payload(12))], 1_000);
    expect(late.map((p) => p.evidence)).toEqual([
      { partitionWatermarkMs: Number.NEGATIVE_INFINITY, partitionIdle: false }, // nothing of partition 2 seen yet
      { partitionWatermarkMs: T0 + 6_000, partitionIdle: false }, // its own watermark is far behind the window's end
    ]);
    for (const pair of late) expect(lateExplained(metric, lateLine(metric, pair) as unknown as LateLine)).toBe(false);
  });

  it('reconcile classifies the lost window false_late (unexplained) and names the partition', async () => {
    const first = engine();
    const early = [payload(100), payload(100)];
    first.e.process('orders', [rec(0, 0, early[0] as Record<string, unknown>), rec(1, 0, early[1] as Record<string, unknown>)], 0);
    const { e, late, rows } = engine();
    e.restore(first.e.snapshot(), 0);
    const lost = [payload(11), payload(12)];
    e.process('orders', lost.map((p, i) => rec(2, i, p)), 1_000);
    e.endOfInput();
    const hot = rows.rows(metric);
    const cold = await runCold(SQL, catalog, [...early, ...lost]);
    const lines = late.map((p) => lateLine(metric, p) as unknown as LateLine);
    const r = reconcileMetric(metric, hot, cold, lines);
    expect(r.summary.classes.false_late).toBe(1); // window 19:00:10: hot has no row, cold has 2
    expect(r.summary.falseLatePairs).toBe(2);
    expect(r.summary.unexplained).toBe(1);
    expect(r.cause?.message).toContain('partition(s) 2');
    // The same lines without evidence (an older lane) explain it as before.
    const legacy = lines.map(({ metric: m, window_start, window_end, event_time }) => ({ metric: m, window_start, window_end, event_time }));
    expect(reconcileMetric(metric, hot, cold, legacy).summary.unexplained).toBe(0);
  });
});

describe('pitwall reconcile on the case\'s fixture', () => {
  it('exits 1 with false_late where partition 2 was passed by the others; the idle and own-partition pairs are explained', async () => {
    const fixture = join(import.meta.dirname, '../fixtures/cases/run-restart-false-late/reconcile');
    const dir = mkdtempSync(join(tmpdir(), 'pw-false-late-'));
    try {
      cpSync(fixture, dir, { recursive: true });
      const r = reconcile([plan(readFileSync(join(dir, 'queries', 'orders_10s.sql'), 'utf8'), catalogOf(readFileSync(join(dir, 'catalog', 'orders.yaml'), 'utf8')))], join(dir, 'hot'), join(dir, 'cold'));
      const text = formatReconciliation(r);
      expect(r.metrics[0]?.classes).toMatchObject({ late: 2, false_late: 1 });
      expect(text).toContain('FAILED: 1 unexplained difference(s)');
      expect(text).toContain('UNEXPLAINED false_late orders_10s window 2024-03-15T19:08:00.000Z');
      expect(text).toContain('partition(s) 2');
      const out: string[] = [];
      const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { out.push(String(chunk)); return true; });
      try {
        expect(await main(['node', 'pitwall', 'reconcile', '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--hot', join(dir, 'hot'), '--cold', join(dir, 'cold')])).toBe(1);
      } finally {
        write.mockRestore();
      }
      expect(out.join('')).toContain('UNEXPLAINED false_late');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
