/** `pitwall report`: Parquet and CSV per metric that match the recompute, and a self-contained HTML page. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RecomputeSummary } from '../../src/cold/recompute.js';
import { buildReportFixture, duck, type ReportFixture } from './report-fixture.js';

let fx: ReportFixture;
let html: string;
let cold: RecomputeSummary;

beforeAll(async () => {
  fx = await buildReportFixture();
  html = readFileSync(join(fx.out, 'report.html'), 'utf8');
  cold = JSON.parse(readFileSync(join(fx.report.coldDir, '_summary.json'), 'utf8')) as RecomputeSummary;
}, 60_000);

describe('pitwall report files', () => {
  it('writes <metric>.parquet and <metric>.csv with the recompute\'s row count and the plan\'s columns', async () => {
    expect(fx.plans.length).toBeGreaterThan(0);
    for (const plan of fx.plans) {
      const expected = cold.metrics[plan.name]?.rows;
      expect(expected, plan.name).toBeTypeOf('number');
      const parquet = join(fx.out, `${plan.name}.parquet`).replace(/'/g, "''");
      const csv = join(fx.out, `${plan.name}.csv`).replace(/'/g, "''");
      const [[pRows]] = await duck(`SELECT count(*) FROM read_parquet('${parquet}')`) as [[bigint]];
      expect(Number(pRows), `${plan.name}.parquet`).toBe(expected);
      const [[cRows]] = await duck(`SELECT count(*) FROM read_csv('${csv}', header = true)`) as [[bigint]];
      expect(Number(cRows), `${plan.name}.csv`).toBe(expected);
      const pCols = (await duck(`DESCRIBE SELECT * FROM read_parquet('${parquet}')`)).map((r) => r[0]);
      expect(pCols).toEqual(plan.columns.map((c) => c.name));
      const header = readFileSync(join(fx.out, `${plan.name}.csv`), 'utf8').split('\n')[0];
      expect(header).toBe(plan.columns.map((c) => c.name).join(','));
    }
  });

  it('covers metrics with rows and metrics without (other streams are not archived)', () => {
    const rows = fx.report.metrics.map((m) => m.rows);
    expect(rows.some((n) => n > 0)).toBe(true);
    expect(rows.some((n) => n === 0)).toBe(true);
    expect(fx.report.metrics.find((m) => m.name === 'restaurant_orders_5m')?.rows).toBe(cold.metrics.restaurant_orders_5m?.rows);
  });

  it('keeps timestamps and numbers typed in Parquet', async () => {
    const parquet = join(fx.out, 'restaurant_orders_5m.parquet').replace(/'/g, "''");
    const types = Object.fromEntries((await duck(`DESCRIBE SELECT * FROM read_parquet('${parquet}')`)).map((r) => [r[0], r[1]]));
    expect(types).toMatchObject({ window_start: 'TIMESTAMP', orders: 'BIGINT', revenue: 'DOUBLE', restaurant_id: 'VARCHAR' });
    const [[orders]] = await duck(`SELECT sum(orders) FROM read_parquet('${parquet}')`) as [[bigint]];
    const events = join(fx.archive, 'orders', '**', '*.parquet').replace(/'/g, "''");
    const [[created]] = await duck(`SELECT count(*) FROM read_parquet('${events}') WHERE eventType = 'order.created'`) as [[bigint]];
    expect(Number(orders)).toBe(Number(created)); // every archived order.created counted once, late ones included
  });
});

describe('report.html', () => {
  it('has one <svg> chart per metric with rows and a "no rows" note for each metric without', () => {
    const withRows = fx.report.metrics.filter((m) => m.rows > 0);
    const without = fx.report.metrics.filter((m) => m.rows === 0);
    expect(html.match(/<svg\b/g)?.length).toBe(withRows.length);
    expect(html.match(/class="empty">no rows/g)?.length).toBe(without.length);
    for (const m of withRows) expect(html).toContain(`aria-label="${m.name}"`);
  });

  it('contains the per-stream counts, quarantine reasons, late pairs per metric and the reconciliation', () => {
    const orders = fx.report.streams.find((s) => s.stream === 'orders');
    const hot = fx.hotSummary.streams.orders;
    expect(orders).toBeDefined();
    expect(hot).toBeDefined();
    if (!orders || !hot) return;
    expect(orders.accepted).toBe(hot.accepted);
    expect(orders.quarantined).toBe(hot.quarantined);
    expect(orders.duplicates).toBe(hot.duplicates);
    expect(orders.quarantineByCode.reduce((n, q) => n + q.count, 0)).toBe(hot.quarantined);
    const pairs = Object.fromEntries(orders.latePairsByMetric.map((l) => [l.metric, l.pairs]));
    for (const [metric, m] of Object.entries(fx.hotSummary.metrics)) expect(pairs[metric] ?? 0, metric).toBe(m.late);
    const n = (v: number): string => v.toLocaleString('en-US');
    for (const v of [orders.events, orders.accepted, orders.quarantined, hot.duplicates, orders.lateEvents]) expect(html).toContain(`<td class="num">${n(v)}</td>`);
    for (const q of orders.quarantineByCode) expect(html).toContain(`<td>${q.code}</td><td class="num">${n(q.count)}</td>`);
    expect(html).toContain('Reconciliation (hot vs cold)');
    expect(fx.report.reconciliation?.unexplained).toBe(0);
    expect(html).toContain('ok: every difference is explained');
  });

  it('is self-contained: no scripts, stylesheets, images, fonts or remote addresses', () => {
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|@font-face/i);
    expect(html).not.toMatch(/https?:|\/\//);
    expect(html).toMatch(/<style>/);
  });
});
