/**
 * Backfill (README "Shedding and backfill"): the windows the hot path computed incompletely
 * while a metric was shed, recomputed by DuckDB from the archive. A window `[start, end)` is
 * recomputed for an interval when `end > fromMs && start < toMs` (the rule of hot/shed-log.ts);
 * its rows are the cold path's, late events included, as reconciliation reads them.
 */
import type { Catalog } from '../catalog/index.js';
import { ExecutionError } from '../errors.js';
import { outputWindowBound, type MetricPlan } from '../plan/index.js';
import type { ResultRow } from '../util/result-row.js';
import { recomputeRows, type RecomputeSource } from './recompute.js';

/** A closed shed interval to backfill (hot/shed-log.ts ShedInterval). */
export interface BackfillInterval {
  readonly id: string;
  readonly metric: string;
  readonly fromMs: number;
  readonly toMs: number;
}

export interface MetricBackfill {
  readonly plan: MetricPlan;
  /** The recomputed rows of every affected window. */
  readonly rows: ResultRow[];
  /** Per interval: the windows it covered. */
  readonly done: { id: string; metric: string; windows: number }[];
}

/** A row's window as [startMs, endMs) (SESSION without a selected window_end: end +∞). */
export function rowWindowMs(plan: MetricPlan): (row: ResultRow) => [number, number] {
  const wsName = plan.columns[outputWindowBound(plan, 'window_start')]?.name;
  if (wsName === undefined) throw new ExecutionError('PW_BACKFILL_WINDOW', `metric ${plan.name} does not select window_start, so its rows cannot be matched to shed windows; select window_start to backfill it`);
  const weIdx = outputWindowBound(plan, 'window_end');
  const weName = weIdx >= 0 ? plan.columns[weIdx]?.name : undefined;
  const w = plan.window;
  return (row) => {
    const start = Date.parse(String(row[wsName]));
    if (weName !== undefined) return [start, Date.parse(String(row[weName]))];
    if (w.type === 'session') return [start, Number.POSITIVE_INFINITY];
    return [start, start + w.sizeMs];
  };
}

/**
 * Recomputes the metrics with intervals (one DuckDB run over `source`) and keeps the rows of the
 * affected windows. Intervals of metrics not in `plans` are left alone.
 */
export async function backfillWindows(catalog: Catalog, plans: readonly MetricPlan[], source: RecomputeSource, intervals: readonly BackfillInterval[]): Promise<MetricBackfill[]> {
  const wanted = plans.filter((p) => intervals.some((i) => i.metric === p.name));
  if (wanted.length === 0) return [];
  const { rows } = await recomputeRows(catalog, wanted, source);
  return wanted.map((plan) => {
    const mine = intervals.filter((i) => i.metric === plan.name);
    const windowOf = rowWindowMs(plan);
    const windows = new Map<string, Set<string>>(mine.map((i) => [i.id, new Set()]));
    const kept: ResultRow[] = [];
    for (const row of rows.get(plan.name) ?? []) {
      const [start, end] = windowOf(row);
      let hit = false;
      for (const i of mine) {
        if (end > i.fromMs && start < i.toMs) { hit = true; windows.get(i.id)?.add(`${start}/${end}`); }
      }
      if (hit) kept.push(row);
    }
    return { plan, rows: kept, done: mine.map((i) => ({ id: i.id, metric: plan.name, windows: windows.get(i.id)?.size ?? 0 })) };
  });
}
