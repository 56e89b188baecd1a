/** Shared bench helpers: a catalog and metric for the throughput figures, timing, formatting. */
import { parseCatalogFile, type Catalog, type StreamDef } from '../src/catalog/index.js';
import type { CatalogError } from '../src/errors.js';
import { buildPlan, type MetricPlan } from '../src/plan/index.js';
import { parseQuery } from '../src/sql/index.js';

export const BENCH_STREAM = `
name: orders
topic: TOPIC
event_id: eventId
event_time: eventTime
watermark_delay: DELAY
fields:
  eventId: { type: string, required: true }
  eventType: { type: string }
  eventTime: { type: timestamp, required: true }
  data.restaurantId: { type: string }
  data.orderTotal: { type: double }
`;

/** The benchmark metric: 1-minute tumbling count/sum/avg per key. */
export const BENCH_METRIC = `CREATE VIEW bench_1m AS
SELECT window_start, window_end, data.restaurantId AS k, COUNT(*) AS n, SUM(data.orderTotal) AS s, AVG(data.orderTotal) AS a
FROM TUMBLE(orders, eventTime, INTERVAL '1 minute')
GROUP BY window_start, window_end, data.restaurantId;`;

export function benchCatalog(topic = 'orders', watermarkDelay = '5s'): { catalog: Catalog; stream: StreamDef; plan: MetricPlan } {
  const errors: CatalogError[] = [];
  const stream = parseCatalogFile('bench.yaml', BENCH_STREAM.replace('TOPIC', topic).replace('DELAY', watermarkDelay), errors) as StreamDef;
  if (errors.length) throw errors[0];
  const catalog: Catalog = { dir: 'bench', streams: new Map([[stream.name, stream]]) };
  return { catalog, stream, plan: buildPlan(parseQuery('bench.sql', BENCH_METRIC), catalog) };
}

/** The i-th bench event: 10,000 keys, event time advancing 1 ms per event (1 minute = 60,000 events). */
export function benchPayload(i: number, keys = 10_000): Record<string, unknown> {
  return { eventId: `e${i}`, eventType: 'order.created', eventTime: 1_710_000_000_000 + i, data: { restaurantId: `r${i % keys}`, orderTotal: (i % 997) / 10 } };
}

export async function timeIt(fn: () => void | Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

export const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export interface Figure {
  readonly id: string;
  readonly what: string;
  readonly value: string;
  readonly ratio?: string;
  readonly target: string;
  readonly met: boolean | undefined;
}
