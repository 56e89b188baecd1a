/**
 * The metrics of the shedding tests and of the chaos shedding scenario (chaos/shedding-run.ts):
 * a critical count per minute and a batch revenue per restaurant and minute over the orders
 * stream, and how a test reads a metric's shed state from /v1/metrics.
 */
import type { ResultRow } from '../../src/util/result-row.js';

export const CRITICAL_ORDERS_1M = `-- tier: critical
CREATE VIEW orders_1m AS SELECT window_start, COUNT(*) AS n FROM TUMBLE(orders, eventTime, INTERVAL '1 minute') GROUP BY window_start;
`;

export const BATCH_REVENUE_1M = `-- tier: batch
CREATE VIEW revenue_1m AS SELECT window_start, data.restaurantId AS restaurant_id, COUNT(*) AS n, round(SUM(data.orderTotal), 2) AS revenue, SUM(data.itemCount) AS items
FROM TUMBLE(orders, eventTime, INTERVAL '1 minute') GROUP BY window_start, data.restaurantId;
`;

/** A metric's shed state as /v1/metrics gives it. */
export type ShedInfo = { shed: boolean; shedWindows: number; backfilledWindows: number; pendingIntervals: number } | undefined;

/** The shed state of metric `name` from the API on 127.0.0.1:`port` (undefined while it does not answer). */
export async function shedInfo(port: number, name: string): Promise<ShedInfo> {
  try {
    const { metrics } = (await (await fetch(`http://127.0.0.1:${port}/v1/metrics`)).json()) as { metrics: { name: string; shed?: ShedInfo }[] };
    return metrics.find((m) => m.name === name)?.shed;
  } catch { return undefined; }
}

/** Rows in one order whatever order they came in (compare sets of rows). */
export const sortedRows = (rows: readonly ResultRow[]): ResultRow[] => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
