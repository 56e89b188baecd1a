/**
 * The scenario the group tests share (group-members.test.ts, group-processes.test.ts): orders
 * on a 6-partition topic keyed by restaurant, and metrics grouped by the partition key (TUMBLE
 * per restaurant, a HOP top-N) and by other keys (a whole-window quantile and COUNT DISTINCT, a
 * per-customer SESSION: through the partials topics).
 */
import { partialsPartition } from '../../src/hot/two-phase.js';
import { prng } from '../../src/sources/generator.js';
import type { PartitionedDelivery } from './support.js';

export const GROUP_PARTITIONS = 6;
export const GROUP_START_MS = Date.UTC(2024, 2, 15, 19, 0, 0);

export const GROUP_METRICS: Record<string, string> = {
  rest_minute: `CREATE VIEW rest_minute AS
    SELECT window_start, window_end, data.restaurantId AS restaurant_id, COUNT(*) AS orders, SUM(data.orderTotal) AS revenue
    FROM TUMBLE(orders, eventTime, INTERVAL '1 minute')
    WHERE eventType = 'order.created'
    GROUP BY window_start, window_end, data.restaurantId;`,
  top3: `CREATE VIEW top3 AS
    SELECT window_start, window_end, restaurant_id, orders, rn FROM (
      SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY orders DESC, restaurant_id) AS rn FROM (
        SELECT window_start, window_end, data.restaurantId AS restaurant_id, COUNT(*) AS orders
        FROM HOP(orders, eventTime, INTERVAL '2 minutes', INTERVAL '6 minutes')
        WHERE eventType = 'order.created'
        GROUP BY window_start, window_end, data.restaurantId) AS c) AS r
    WHERE rn <= 3;`,
  p90_5m: `CREATE VIEW p90_5m AS
    SELECT window_start, window_end, COUNT(DISTINCT data.customerId) AS customers, quantile_cont(data.orderTotal, 0.9) AS p90
    FROM TUMBLE(orders, eventTime, INTERVAL '5 minutes')
    WHERE eventType = 'order.created'
    GROUP BY window_start, window_end;`,
  cust_session: `CREATE VIEW cust_session AS
    SELECT window_start, window_end, data.customerId AS customer_id, COUNT(*) AS orders, SUM(data.orderTotal) AS spent
    FROM SESSION(orders, eventTime, INTERVAL '2 minutes')
    WHERE eventType = 'order.created'
    GROUP BY window_start, window_end, data.customerId;`,
};

/**
 * `orders` orders over `spanMs` in event-time order, arriving up to 2 s late (within the 5 s
 * watermark delay), ~5% delivered twice. With `hourLate`, about 1% of the first half arrive an
 * hour late, from customers with no other order: late for every window and session under one
 * process's watermark and a group's alike. Order totals are multiples of 0.25, so double sums are
 * exact in any order of addition.
 */
export function groupDeliveries(seed: number, orders: number, spanMs: number, hourLate: boolean): PartitionedDelivery[] {
  const r = prng(seed);
  const out: { d: PartitionedDelivery; arrival: number }[] = [];
  for (let n = 0; n < orders; n++) {
    const t = GROUP_START_MS + Math.floor((n / orders) * spanMs);
    const restaurantId = `r${Math.floor(Math.pow(r(), 1.5) * 80)}`;
    const body = {
      eventId: `g-${n}`, eventType: 'order.created', eventTime: new Date(t).toISOString(),
      data: { customerId: `c${Math.floor(r() * 500)}`, restaurantId, orderTotal: Math.round((8 + r() * 80) * 4) / 4 },
    };
    const late = hourLate && n < orders / 2 && r() < 0.01;
    if (late) body.data.customerId = `late-${n}`;
    const d = { partition: partialsPartition(restaurantId, GROUP_PARTITIONS), value: JSON.stringify(body) };
    const arrival = t + (late ? 3_600_000 : r() * 2000);
    out.push({ d, arrival });
    if (r() < 0.05) out.push({ d, arrival: arrival + 300 + r() * 1500 });
  }
  return out.sort((a, b) => a.arrival - b.arrival).map((o) => o.d);
}

/** One event per partition a day after `endMs`: it closes every window and session before it. */
export function closingEvents(endMs: number): { partition: number; value: string }[] {
  const at = new Date(endMs + 86_400_000).toISOString();
  return Array.from({ length: GROUP_PARTITIONS }, (_, p) => ({ partition: p, value: JSON.stringify({ eventId: `end-${p}`, eventType: 'end', eventTime: at, data: {} }) }));
}
