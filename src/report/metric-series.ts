/**
 * The series a metric's chart draws: per `window_start`, the first numeric aggregate column
 * (the first int/double output column that is neither a group key nor a window bound) summed
 * across the metric's keys. A metric without such a column charts its row count per window.
 */
import type { MetricPlan } from '../plan/index.js';
import type { ResultRow } from '../util/result-row.js';
import type { ChartPoint } from './svg-chart.js';

export interface MetricSeries {
  readonly points: ChartPoint[];
  /** The charted column, or undefined when the chart counts rows. */
  readonly column: string | undefined;
  /** Axis label saying what y is (`sum of orders across restaurant_id`). */
  readonly yLabel: string;
}

/** The column a metric's chart plots (see the module comment), if any. */
export function chartColumn(plan: MetricPlan): string | undefined {
  const keys = new Set(plan.keyColumns);
  return plan.columns.find((c, i) => !keys.has(i) && (c.type === 'int' || c.type === 'double') && c.name !== 'window_start' && c.name !== 'window_end')?.name;
}

/** Builds the series of `rows` (result rows with ISO `window_start`). */
export function metricSeries(plan: MetricPlan, rows: readonly ResultRow[]): MetricSeries {
  const column = chartColumn(plan);
  const byWindow = new Map<number, number>();
  for (const r of rows) {
    const t = Date.parse(String(r.window_start));
    if (Number.isNaN(t)) continue;
    const v = column === undefined ? 1 : r[column];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue; // NULL aggregates add nothing
    byWindow.set(t, (byWindow.get(t) ?? 0) + v);
  }
  const keyNames = plan.keyColumns.map((i) => plan.columns[i]?.name).filter((n): n is string => n !== undefined && n !== 'window_start' && n !== 'window_end');
  const across = keyNames.length ? ` across ${keyNames.join(', ')}` : '';
  const yLabel = column === undefined ? 'rows per window' : keyNames.length ? `sum of ${column}${across}` : column;
  return { points: [...byWindow].map(([timeMs, value]) => ({ timeMs, value })).sort((a, b) => a.timeMs - b.timeMs), column, yLabel };
}
