/**
 * The logical plan: readonly nodes in a discriminated union, one input each, from the scan up:
 * Scan → [LookupJoin →] Filter → WindowAssign → Aggregate → Having → Project → TopN. A metric's plan is one
 * such chain; EXPLAIN prints it, the hot path turns it into operators, the cold path into
 * DuckDB SQL.
 */
import type { StreamDef } from '../catalog/index.js';
import type { EmitMode, Tier } from '../sql/parse-query.js';
import type { Expr, SqlType } from './expr.js';

/** Reads a stream: decode, validate, dedup by event id, event time and watermarks. */
export interface ScanNode { readonly kind: 'ScanNode'; readonly stream: StreamDef }

/**
 * A lookup join to a reference table with event-time versioning (Flink's event-time temporal
 * join, `FOR SYSTEM_TIME AS OF` the event time): each event joins the version of the row whose
 * key equals `probe` that was valid at the event's time, i.e. the latest applied change of that
 * key with validity time <= event time (of equal validity times, the later-arriving change). A
 * tombstone, a NULL probe or no change at all is no match: `inner` drops the event (counted as
 * a join miss), `left` keeps it with the table's columns NULL.
 */
export interface LookupJoinNode {
  readonly kind: 'LookupJoinNode';
  readonly input: PlanNode;
  readonly table: StreamDef;
  readonly joinType: 'inner' | 'left';
  /** The stream-side expression compared with the table's key (same type as the key). */
  readonly probe: Expr;
}

/** WHERE: keeps events for which the predicate is TRUE (NULL drops the event). */
export interface FilterNode { readonly kind: 'FilterNode'; readonly input: PlanNode; readonly predicate: Expr }

export type WindowSpec =
  /** `offsetMs`: windows start at offset + k·size (k·slide for HOP) from the epoch (ms; absent: 0). */
  | { readonly type: 'tumble'; readonly sizeMs: number; readonly offsetMs?: number }
  | { readonly type: 'hop'; readonly slideMs: number; readonly sizeMs: number; readonly offsetMs?: number }
  /**
   * Flink's cumulating window: periods of `sizeMs` start at offset + k·size; each period has
   * size/step windows that all start at the period start and end at start + step, start + 2·step,
   * …, start + size (running totals). Windows of one period share window_start: window_end
   * identifies them.
   */
  | { readonly type: 'cumulate'; readonly stepMs: number; readonly sizeMs: number; readonly offsetMs?: number }
  | { readonly type: 'session'; readonly gapMs: number };

/**
 * Assigns each event to windows `[start, end)` by its event time: TUMBLE one window, HOP
 * size/slide windows, CUMULATE the windows of its period that end after it (at most size/step),
 * SESSION the per-key session it extends (gap-based; sessions that come
 * within `gapMs` of each other merge).
 */
export interface WindowAssignNode { readonly kind: 'WindowAssignNode'; readonly input: PlanNode; readonly window: WindowSpec; readonly timeField: string }

export const AGGREGATE_FUNCTIONS = [
  'count_star', 'count', 'count_distinct', 'sum', 'avg', 'min', 'max', 'approx_count_distinct', 'quantile_cont', 'approx_quantile',
] as const;
export type AggregateFunction = (typeof AGGREGATE_FUNCTIONS)[number];

export interface AggregateCall {
  readonly fn: AggregateFunction;
  /** The argument; undefined for COUNT(*). */
  readonly arg: Expr | undefined;
  /** `FILTER (WHERE …)`: rows for which it is not TRUE are skipped by this aggregate. */
  readonly filter: Expr | undefined;
  /** The quantile for quantile_cont / approx_quantile, in [0, 1]. */
  readonly quantile: number | undefined;
  readonly type: SqlType;
  /** Display name (the SELECT alias, or a generated `_agg<n>` for hidden ones). */
  readonly name: string;
}

export interface GroupKey { readonly name: string; readonly expr: Expr; readonly type: SqlType }

/** GROUP BY window (and session) plus `keys`; computes `aggregates` per (window, key). */
export interface AggregateNode {
  readonly kind: 'AggregateNode';
  readonly input: PlanNode;
  readonly keys: readonly GroupKey[];
  readonly aggregates: readonly AggregateCall[];
}

/** HAVING: keeps (window, key) rows whose predicate (over keys and aggregates) is TRUE. */
export interface HavingNode { readonly kind: 'HavingNode'; readonly input: PlanNode; readonly predicate: Expr }

export interface OutputColumn { readonly name: string; readonly expr: Expr; readonly type: SqlType }

/** The metric's output columns, in SELECT order. */
export interface ProjectNode { readonly kind: 'ProjectNode'; readonly input: PlanNode; readonly columns: readonly OutputColumn[] }

export interface SortKey {
  /** Index into the input's output columns. */
  readonly column: number;
  readonly descending: boolean;
  /**
   * Where NULLs go, whatever the direction: first with `NULLS FIRST`, last otherwise (`NULLS
   * LAST` is the default for ASC and DESC alike, as in DuckDB; PostgreSQL puts them first for DESC).
   */
  readonly nullsFirst: boolean;
}

/**
 * Top-N per window: keeps the first `limit` rows of each window by `orderBy` (ties broken by
 * the remaining columns, so the choice is deterministic). `rankColumn`, when set, is appended
 * to the output holding the 1-based ROW_NUMBER.
 */
export interface TopNNode {
  readonly kind: 'TopNNode';
  readonly input: PlanNode;
  readonly orderBy: readonly SortKey[];
  readonly limit: number;
  readonly rankColumn: string | undefined;
  /**
   * How rows are numbered (SQL:2003 ranking functions): absent, ROW_NUMBER (1, 2, 3, …); `rank`,
   * RANK (rows equal on the ORDER BY share a rank, the next rank skips: 1, 1, 3); `dense_rank`,
   * DENSE_RANK (1, 1, 2). `limit` bounds the rank, so ties can give more rows than `limit`.
   */
  readonly rankFunction?: 'rank' | 'dense_rank';
  /** Output columns as indexes into the input's columns (the rank column, if any, comes after). */
  readonly columns: readonly number[];
}

export type PlanNode = ScanNode | LookupJoinNode | FilterNode | WindowAssignNode | AggregateNode | HavingNode | ProjectNode | TopNNode;
export type PlanNodeKind = PlanNode['kind'];

/** A compiled metric: its plan plus what serving and lineage need. */
export interface MetricPlan {
  readonly name: string;
  readonly file: string;
  readonly sql: string;
  readonly emit: EmitMode;
  /**
   * Priority under load (`-- tier:`). Not part of {@link hash}: the tier decides when the hot
   * path computes a metric, never what its rows hold, so changing it keeps state and lineage.
   */
  readonly tier: Tier;
  /** Hash of the definition (SQL text without its `-- tier:` line, and the stream settings it depends on): result lineage. */
  readonly hash: string;
  readonly stream: StreamDef;
  readonly window: WindowSpec;
  /** Output columns in order, with types. */
  readonly columns: readonly { readonly name: string; readonly type: SqlType }[];
  /**
   * Indexes of the output columns that identify a row within a window (the group keys), plus
   * window_end for CUMULATE, whose windows share window_start.
   */
  readonly keyColumns: readonly number[];
  readonly root: PlanNode;
}

/** The chain from the root down to the scan (root first). */
export function planChain(root: PlanNode): PlanNode[] {
  const out: PlanNode[] = [];
  let node: PlanNode | undefined = root;
  while (node) {
    out.push(node);
    node = node.kind === 'ScanNode' ? undefined : node.input;
  }
  return out;
}

/** Finds the node of a kind in a plan chain. */
export function findNode<K extends PlanNodeKind>(root: PlanNode, kind: K): Extract<PlanNode, { kind: K }> | undefined {
  return planChain(root).find((n): n is Extract<PlanNode, { kind: K }> => n.kind === kind);
}

/** Index of the output column holding a window bound, -1 when not selected. */
export function outputWindowBound(plan: MetricPlan, bound: 'window_start' | 'window_end'): number {
  const project = findNode(plan.root, 'ProjectNode') as ProjectNode;
  const topn = findNode(plan.root, 'TopNNode');
  const projIdx = project.columns.findIndex((c) => c.expr.kind === 'WindowBoundExpr' && c.expr.bound === bound);
  return topn && projIdx >= 0 ? topn.columns.indexOf(projIdx) : projIdx;
}

/** Index of the output column holding window_start. */
export function outputWindowStart(plan: MetricPlan): number {
  return outputWindowBound(plan, 'window_start');
}
