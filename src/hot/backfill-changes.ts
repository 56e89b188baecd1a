/**
 * Backfilled rows (cold path, formatted result rows) as the hot path's row changes, so they are
 * upserted under the same results-topic key and serving-store identity as the hot row they
 * replace: (metric, window_start, id), the id encoding the group keys (for CUMULATE led by the
 * window end), as hot/finalize.ts does.
 */
import { ExecutionError } from '../errors.js';
import { findNode, outputWindowBound, type MetricPlan, type OutputColumn } from '../plan/index.js';
import type { ResultRow } from '../util/result-row.js';
import type { Val } from './eval/compile-expr.js';
import { encodeKey } from './group-folder.js';
import type { RowChange } from './operator-types.js';

/** A converter from a metric's cold rows to final upserts. Throws PW_BACKFILL_WINDOW when a group key is not selected (the row's identity is unknown). */
export function backfillChanges(plan: MetricPlan): (row: ResultRow) => RowChange {
  const project = findNode(plan.root, 'ProjectNode');
  const agg = findNode(plan.root, 'AggregateNode');
  if (!project || !agg) throw new ExecutionError('PW_INTERNAL', `metric ${plan.name} has no aggregate`);
  const topn = findNode(plan.root, 'TopNNode');
  const exprOf = (i: number): OutputColumn['expr'] | undefined => project.columns[topn ? (topn.columns[i] ?? -1) : i]?.expr;
  const keyCols = agg.keys.map((_, k) => plan.columns.findIndex((_c, i) => { const e = exprOf(i); return e?.kind === 'KeyRefExpr' && e.index === k; }));
  const missing = keyCols.indexOf(-1);
  if (missing >= 0) {
    throw new ExecutionError('PW_BACKFILL_WINDOW', `metric ${plan.name} does not select its group key '${agg.keys[missing]?.name ?? missing}', so backfilled rows cannot replace the hot ones; select every group key to backfill it`);
  }
  const ws = outputWindowBound(plan, 'window_start');
  const we = outputWindowBound(plan, 'window_end');
  const names = plan.columns.map((c) => c.name);
  const toVal = (i: number, v: unknown): Val => (plan.columns[i]?.type === 'timestamp' && typeof v === 'string' ? Date.parse(v) : (v ?? null) as Val);
  return (row) => {
    const values = names.map((n, i) => toVal(i, row[n]));
    const keys = keyCols.map((i) => values[i] as Val);
    const id = plan.window.type === 'cumulate' ? `n${String(values[we])}\u0001${encodeKey(keys)}` : encodeKey(keys);
    return { kind: 'upsert', windowStart: values[ws] as number, id, values, final: true, backfilled: true };
  };
}
