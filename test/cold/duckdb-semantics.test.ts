/**
 * The compiled DuckDB SQL against hand-computed results: out-of-order arrival, duplicates
 * (first arrival wins), NULLs, empty groups and events exactly on window boundaries.
 */
import { describe, expect, it } from 'vitest';
import { ORDERS_YAML, catalogOf, runCold, t } from '../support/cold-harness.js';

const catalog = catalogOf(ORDERS_YAML);
const ev = (id: string, time: string, data: Record<string, unknown>, eventType = 'order.created'): Record<string, unknown> =>
  ({ eventId: id, eventType, eventTime: time, data });

describe('TUMBLE', () => {
  const sql = `CREATE VIEW m AS
    SELECT window_start, window_end, data.restaurantId AS r, COUNT(*) AS n, COUNT(data.orderTotal) AS priced,
           SUM(data.orderTotal) AS revenue, SUM(data.items) AS items, AVG(data.orderTotal) AS avg_total,
           MIN(data.orderTotal) AS lo, MAX(data.orderTotal) AS hi
    FROM TUMBLE(orders, eventTime, INTERVAL '1 minute')
    WHERE eventType = 'order.created'
    GROUP BY window_start, window_end, data.restaurantId`;

  it('assigns by event time, dedups on first arrival, ignores NULLs in aggregates', async () => {
    const rows = await runCold(sql, catalog, [
      ev('a', t('30:10'), { restaurantId: 'r1', orderTotal: 10, items: 1 }),
      ev('b', t('31:00'), { restaurantId: 'r1', orderTotal: 5, items: 2 }), // exactly at window_end of [30:00, 31:00) → next window
      ev('c', t('30:59'), { restaurantId: 'r1', orderTotal: null, items: 3 }), // out of order, NULL total
      ev('a', t('30:20'), { restaurantId: 'r1', orderTotal: 1000, items: 9 }), // duplicate id: dropped, first wins
      ev('d', t('30:00'), { restaurantId: 'r2', orderTotal: 2.5 }), // exactly at window_start
      ev('e', t('30:30'), { restaurantId: 'r2', orderTotal: 7.5 }, 'order.cancelled'), // filtered out
      ev('f', t('30:40'), { orderTotal: 1 }), // NULL key forms its own group
    ]);
    expect(rows).toEqual([
      { window_start: t('30:00'), window_end: t('31:00'), r: 'r1', n: 2, priced: 1, revenue: 10, items: 4, avg_total: 10, lo: 10, hi: 10 },
      { window_start: t('30:00'), window_end: t('31:00'), r: 'r2', n: 1, priced: 1, revenue: 2.5, items: null, avg_total: 2.5, lo: 2.5, hi: 2.5 },
      { window_start: t('30:00'), window_end: t('31:00'), r: null, n: 1, priced: 1, revenue: 1, items: null, avg_total: 1, lo: 1, hi: 1 },
      { window_start: t('31:00'), window_end: t('32:00'), r: 'r1', n: 1, priced: 1, revenue: 5, items: 2, avg_total: 5, lo: 5, hi: 5 },
    ]);
  });

  it('emits no row for a window whose events are all filtered out (empty groups)', async () => {
    const rows = await runCold(sql, catalog, [
      ev('a', t('30:10'), { restaurantId: 'r1', orderTotal: 10 }, 'order.cancelled'),
      ev('b', t('32:10'), { restaurantId: 'r1', orderTotal: 4 }),
    ]);
    expect(rows.map((r) => r.window_start)).toEqual([t('32:00')]);
  });

  it('handles FILTER, COUNT(DISTINCT), HAVING, CASE, COALESCE and division by zero', async () => {
    const rows = await runCold(`CREATE VIEW m AS
      SELECT window_start, data.restaurantId AS r,
             COUNT(*) FILTER (WHERE data.vip) AS vip,
             COUNT(DISTINCT data.customerId) AS customers,
             SUM(CASE WHEN data.orderTotal > 10 THEN 1 ELSE 0 END) AS big,
             COALESCE(MAX(data.items), -1) AS max_items,
             SUM(data.orderTotal) / COUNT(data.items) AS per_item_row
      FROM TUMBLE(orders, eventTime, INTERVAL '1 minute')
      GROUP BY window_start, data.restaurantId
      HAVING COUNT(*) >= 2`, catalog, [
      ev('a', t('30:01'), { restaurantId: 'r1', orderTotal: 20, customerId: 'c1', vip: true }),
      ev('b', t('30:02'), { restaurantId: 'r1', orderTotal: 5, customerId: 'c1', vip: false }),
      ev('c', t('30:03'), { restaurantId: 'r1', orderTotal: 11, customerId: 'c2' }),
      ev('d', t('30:04'), { restaurantId: 'r2', orderTotal: 11, customerId: 'c3' }), // only one row: HAVING drops r2
    ]);
    expect(rows).toEqual([{ window_start: t('30:00'), r: 'r1', vip: 1, customers: 2, big: 2, max_items: -1, per_item_row: null }]);
  });
});

describe('HOP', () => {
  it('puts each event in size/slide windows; an event at a slide boundary starts a window', async () => {
    const rows = await runCold(`CREATE VIEW m AS
      SELECT window_start, window_end, COUNT(*) AS n
      FROM HOP(orders, eventTime, INTERVAL '1 minute', INTERVAL '3 minutes')
      GROUP BY window_start, window_end`, catalog, [
      ev('a', t('31:30'), {}),
      ev('b', t('32:00'), {}),
    ]);
    // a ∈ [29,32) [30,33) [31,34); b ∈ [30,33) [31,34) [32,35)
    expect(rows).toEqual([
      { window_start: t('29:00'), window_end: t('32:00'), n: 1 },
      { window_start: t('30:00'), window_end: t('33:00'), n: 2 },
      { window_start: t('31:00'), window_end: t('34:00'), n: 2 },
      { window_start: t('32:00'), window_end: t('35:00'), n: 1 },
    ]);
  });
});

describe('SESSION', () => {
  it('splits sessions per key when the gap is reached, merging out-of-order arrivals', async () => {
    const rows = await runCold(`CREATE VIEW m AS
      SELECT window_start, window_end, data.customerId AS c, COUNT(*) AS n
      FROM SESSION(orders, eventTime, INTERVAL '5 minutes')
      GROUP BY window_start, window_end, data.customerId`, catalog, [
      ev('a', t('30:00'), { customerId: 'c1' }),
      ev('b', t('38:00'), { customerId: 'c1' }), // 8 min later: new session
      ev('c', t('34:59'), { customerId: 'c1' }), // arrives last, 3:01 before 38:00: bridges both into one session
      ev('d', t('30:00'), { customerId: 'c2' }),
      ev('e', t('35:00'), { customerId: 'c2' }), // exactly the gap: a new session
    ]);
    expect(rows).toEqual([
      { window_start: t('30:00'), window_end: t('35:00'), c: 'c2', n: 1 }, // ordered by window_start, then window_end
      { window_start: t('30:00'), window_end: t('43:00'), c: 'c1', n: 3 },
      { window_start: t('35:00'), window_end: t('40:00'), c: 'c2', n: 1 },
    ]);
  });
});

describe('top-N per window', () => {
  it('keeps the first N rows per window, ties broken by the output columns', async () => {
    const rows = await runCold(`CREATE VIEW m AS
      SELECT window_start, r, n, rn FROM (
        SELECT window_start, data.restaurantId AS r, COUNT(*) AS n,
               ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY COUNT(*) DESC) AS rn
        FROM TUMBLE(orders, eventTime, INTERVAL '1 minute')
        GROUP BY window_start, data.restaurantId
      ) WHERE rn <= 2`, catalog, [
      ev('a', t('30:01'), { restaurantId: 'r3' }),
      ev('b', t('30:02'), { restaurantId: 'r2' }),
      ev('c', t('30:03'), { restaurantId: 'r1' }),
      ev('d', t('30:04'), { restaurantId: 'r3' }),
      ev('e', t('31:04'), { restaurantId: 'r9' }),
    ]);
    expect(rows).toEqual([
      { window_start: t('30:00'), r: 'r1', n: 1, rn: 2 }, // r1 beats r2 on the tie (ascending r)
      { window_start: t('30:00'), r: 'r3', n: 2, rn: 1 },
      { window_start: t('31:00'), r: 'r9', n: 1, rn: 1 },
    ]);
  });
});
