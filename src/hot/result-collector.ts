/**
 * Keeps the latest version of every result row per metric (an idempotent upsert sink):
 * applying the same changes twice gives the same rows. Rows come out in the result order:
 * window_start, then the other columns in SELECT order, NULLs last.
 */
import { outputWindowStart, type MetricPlan } from '../plan/index.js';
import { compareValues } from '../util/compare.js';
import type { ResultRow } from '../util/result-row.js';
import { formatTimestamp } from '../util/timestamp.js';
import type { Val } from './eval/compile-expr.js';
import type { RowChange } from './operator-types.js';

export class ResultCollector {
  readonly #rows = new Map<string, Map<string, Val[]>>();

  apply(plan: MetricPlan, change: RowChange): void {
    let rows = this.#rows.get(plan.name);
    if (!rows) { rows = new Map(); this.#rows.set(plan.name, rows); }
    const key = `${change.windowStart}|${change.id}`;
    if (change.kind === 'delete') rows.delete(key); else rows.set(key, change.values as Val[]);
  }

  /** The metric's rows, sorted, formatted (timestamps as ISO-8601 UTC with milliseconds). */
  rows(plan: MetricPlan): ResultRow[] {
    const values = [...(this.#rows.get(plan.name)?.values() ?? [])];
    const ws = outputWindowStart(plan);
    const order = [ws, ...plan.columns.map((_, i) => i).filter((i) => i !== ws)];
    values.sort((a, b) => {
      for (const i of order) {
        const c = compareValues(a[i] as Val, b[i] as Val);
        if (c !== 0) return c;
      }
      return 0;
    });
    return values.map((v) => formatRow(plan, v));
  }
}

/** Formats output values as a result row. */
export function formatRow(plan: MetricPlan, values: readonly Val[]): ResultRow {
  const row: ResultRow = {};
  plan.columns.forEach((c, i) => {
    const v = values[i] ?? null;
    row[c.name] = c.type === 'timestamp' && typeof v === 'number' ? formatTimestamp(v) : v;
  });
  return row;
}
