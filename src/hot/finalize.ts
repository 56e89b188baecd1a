/**
 * Turns a window's groups into output rows: HAVING, projection and top-N per window, in the
 * plan's output column order. Top-N ranks by the ORDER BY keys, then by every output column
 * ascending (NULLs last), exactly as the compiled DuckDB SQL does, so ties resolve the same.
 */
import { InternalError } from '../errors.js';
import { findNode, type MetricPlan, type OutputColumn, type ProjectNode, type TopNNode } from '../plan/index.js';
import { compareValues } from '../util/compare.js';
import { compileExpr, type Evaluator, type Val } from './eval/compile-expr.js';
import { encodeKey } from './group-folder.js';

interface AggCtx { ws: number; we: number; keys: readonly Val[]; aggs: readonly Val[] }

/** A group's key values and aggregate results. */
export interface GroupResult {
  readonly keys: readonly Val[];
  readonly aggs: readonly Val[];
}

/** An output row of a window with the identity it is upserted under. */
export interface OutRow {
  /**
   * Encoded group key (unique within the window); for CUMULATE it leads with the window end, so
   * that (window start, id) tells apart the windows of one period.
   */
  readonly id: string;
  readonly values: Val[];
}

function compileAgg(expr: OutputColumn['expr']): Evaluator<AggCtx> {
  return compileExpr<AggCtx>(expr, {
    windowBound: (b) => (b === 'window_start' ? (c) => c.ws : (c) => c.we),
    key: (i) => (c) => c.keys[i] ?? null,
    agg: (i) => (c) => c.aggs[i] ?? null,
  });
}

export class WindowFinalizer {
  readonly #having: Evaluator<AggCtx> | undefined;
  readonly #columns: Evaluator<AggCtx>[];
  readonly #topn: TopNNode | undefined;
  /** CUMULATE: row ids lead with the window end. */
  readonly #byEnd: boolean;

  constructor(plan: MetricPlan) {
    const project = findNode(plan.root, 'ProjectNode') as ProjectNode | undefined;
    if (!project) throw new InternalError(`metric ${plan.name} has no projection`);
    const having = findNode(plan.root, 'HavingNode');
    this.#having = having ? compileAgg(having.predicate) : undefined;
    this.#columns = project.columns.map((c) => compileAgg(c.expr));
    this.#topn = findNode(plan.root, 'TopNNode');
    this.#byEnd = plan.window.type === 'cumulate';
  }

  /** The output rows of one window, from each group's key values and aggregate results. */
  rows(ws: number, we: number, groups: Iterable<GroupResult>): OutRow[] {
    const out: OutRow[] = [];
    for (const g of groups) {
      const ctx: AggCtx = { ws, we, keys: g.keys, aggs: g.aggs };
      if (this.#having && this.#having(ctx) !== true) continue;
      // The same encoding as a leading number key: encodeKey([we, ...keys]).
      const id = this.#byEnd ? `n${we}\u0001${encodeKey(g.keys)}` : encodeKey(g.keys);
      out.push({ id, values: this.#columns.map((c) => c(ctx)) });
    }
    const topn = this.#topn;
    if (!topn) return out;
    const width = this.#columns.length;
    /** The ORDER BY of the ranking alone (0: peers, which RANK and DENSE_RANK rank alike). */
    const byOrder = (a: OutRow, b: OutRow): number => {
      for (const o of topn.orderBy) {
        const av = a.values[o.column] as Val;
        const bv = b.values[o.column] as Val;
        if (av === null || bv === null) {
          // NULLs go first or last whatever the direction, as the compiled SQL's NULLS FIRST / LAST.
          if (av === bv) continue;
          return (av === null) === o.nullsFirst ? -1 : 1;
        }
        const c = compareValues(av, bv);
        if (c !== 0) return o.descending ? -c : c;
      }
      return 0;
    };
    out.sort((a, b) => {
      const c = byOrder(a, b);
      if (c !== 0) return c;
      for (let i = 0; i < width; i++) {
        const d = compareValues(a.values[i] as Val, b.values[i] as Val);
        if (d !== 0) return d;
      }
      return 0;
    });
    const ranked: OutRow[] = [];
    let rank = 0;
    for (let i = 0; i < out.length; i++) {
      const r = out[i] as OutRow;
      // ROW_NUMBER: position; RANK: position of the first peer; DENSE_RANK: count of distinct orderings so far.
      if (!topn.rankFunction || i === 0 || byOrder(out[i - 1] as OutRow, r) !== 0) rank = topn.rankFunction === 'dense_rank' ? rank + 1 : i + 1;
      if (rank > topn.limit) break;
      ranked.push({ id: r.id, values: [...topn.columns.map((c) => r.values[c] as Val), ...(topn.rankColumn ? [rank] : [])] });
    }
    return ranked;
  }
}
