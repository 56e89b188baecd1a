/**
 * Compiles a metric's logical plan to one DuckDB statement over the stream's canonical
 * relation (see duckdb-dialect.ts). The statement keeps the contract of the hot path:
 *
 * 1. dedup: the first arrival of each event id wins (`_pw_arrival` order);
 * 1b. a lookup join: ASOF JOIN to the table's applied changes, by key and event time;
 * 2. WHERE;
 * 3. window assignment on event time: TUMBLE by `time_bucket` from the epoch, HOP by the
 *    size/slide bucket starts each event falls in, CUMULATE by the period's `time_bucket` and
 *    the size/step ends after the event, SESSION by gap-based session ids per key;
 * 4. GROUP BY window and keys, aggregates with FILTER;
 * 5. HAVING, projection, top-N per window (ties broken by the output columns in order);
 * 6. rows ordered by window_start, then the other columns in SELECT order (NULLs last).
 *
 * Late events are not special here: the cold path sees every accepted event.
 */
import { assertNever, InternalError } from '../errors.js';
import type { StreamDef } from '../catalog/index.js';
export { tableAsStream } from '../catalog/index.js';
import type { AggregateCall, AggregateNode, LookupJoinNode, MetricPlan, OutputColumn, ProjectNode } from '../plan/index.js';
import { findNode, outputWindowStart } from '../plan/index.js';
import { compileExpr, finite, intInRange, joinedColumn, Parameters, rowNames, type ExprNames } from './compile-expr.js';
import { quoteIdent, relationName } from './duckdb-dialect.js';

/** A compiled statement: SQL text plus its bound parameters (`$1`, `$2`, …). */
export interface CompiledQuery {
  readonly sql: string;
  readonly parameters: readonly (string | number | boolean)[];
}

const EPOCH = "TIMESTAMP '1970-01-01 00:00:00'";
const ms = (n: number): string => `to_milliseconds(CAST(${n} AS BIGINT))`;

function aggregateSql(a: AggregateCall, params: Parameters): string {
  const arg = a.arg ? compileExpr(a.arg, rowNames, params) : '';
  const filter = a.filter ? ` FILTER (WHERE ${compileExpr(a.filter, rowNames, params)})` : '';
  switch (a.fn) {
    case 'count_star': return `count(*)${filter}`;
    case 'count': return `count(${arg})${filter}`;
    case 'count_distinct': return `count(DISTINCT ${arg})${filter}`;
    // sum(BIGINT) is an exact HUGEINT; outside the int range it is NULL, as the hot path's
    // exact int sum. A double SUM or AVG that overflows (inf, or NaN from fsum) is NULL.
    case 'sum': return a.type === 'int' ? intInRange(`sum(${arg})${filter}`, params) : finite(`fsum(${arg})${filter}`, params);
    case 'avg': return finite(`avg(CAST(${arg} AS DOUBLE))${filter}`, params);
    case 'min': return `min(${arg})${filter}`;
    case 'max': return `max(${arg})${filter}`;
    // The cold path is the reference: approximate aggregates are computed exactly here, and the
    // hot path's sketches are checked against them within their documented error.
    case 'approx_count_distinct': return `count(DISTINCT ${arg})${filter}`;
    case 'quantile_cont': return `quantile_cont(CAST(${arg} AS DOUBLE), ${String(a.quantile)})${filter}`;
    case 'approx_quantile': return `quantile_cont(CAST(${arg} AS DOUBLE), ${String(a.quantile)})${filter}`;
    default: return assertNever(a.fn, 'aggregate');
  }
}

function windowCtes(plan: MetricPlan, agg: AggregateNode): string[] {
  const keys = agg.keys.map((_, i) => `_pw_k${i}`);
  const w = plan.window;
  switch (w.type) {
    case 'tumble': {
      const origin = w.offsetMs ? `(${EPOCH} + ${ms(w.offsetMs)})` : EPOCH; // windows start at origin + k·size
      return [`windowed AS (SELECT *, time_bucket(${ms(w.sizeMs)}, _pw_time, ${origin}) AS _pw_ws, time_bucket(${ms(w.sizeMs)}, _pw_time, ${origin}) + ${ms(w.sizeMs)} AS _pw_we FROM keyed)`];
    }
    case 'hop': {
      const n = w.sizeMs / w.slideMs;
      const origin = w.offsetMs ? `(${EPOCH} + ${ms(w.offsetMs)})` : EPOCH;
      const start = `time_bucket(${ms(w.slideMs)}, _pw_time, ${origin}) - to_milliseconds(_pw_h.i * CAST(${w.slideMs} AS BIGINT))`;
      return [`windowed AS (SELECT keyed.*, ${start} AS _pw_ws, ${start} + ${ms(w.sizeMs)} AS _pw_we FROM keyed CROSS JOIN range(0, ${n}) AS _pw_h(i))`];
    }
    case 'cumulate': {
      // Flink's CUMULATE: the period [P, P + size) holding the event; windows [P, P + k·step)
      // for k = 1 … size/step, the event in those that end after it.
      const origin = w.offsetMs ? `(${EPOCH} + ${ms(w.offsetMs)})` : EPOCH;
      const start = `time_bucket(${ms(w.sizeMs)}, _pw_time, ${origin})`;
      const end = `${start} + to_milliseconds((_pw_c.i + 1) * CAST(${w.stepMs} AS BIGINT))`;
      return [`windowed AS (SELECT keyed.*, ${start} AS _pw_ws, ${end} AS _pw_we FROM keyed CROSS JOIN range(0, ${w.sizeMs / w.stepMs}) AS _pw_c(i) WHERE ${end} > _pw_time)`];
    }
    case 'session': {
      const part = keys.length ? `PARTITION BY ${keys.join(', ')} ` : '';
      const order = `${part}ORDER BY _pw_time, _pw_arrival`;
      return [
        `marked AS (SELECT *, CASE WHEN lag(_pw_time) OVER (${order}) IS NULL OR _pw_time - lag(_pw_time) OVER (${order}) >= ${ms(w.gapMs)} THEN 1 ELSE 0 END AS _pw_new FROM keyed)`,
        `sessioned AS (SELECT *, sum(_pw_new) OVER (${order} ROWS UNBOUNDED PRECEDING) AS _pw_sid FROM marked)`,
        `windowed AS (SELECT *, min(_pw_time) OVER (PARTITION BY ${[...keys, '_pw_sid'].join(', ')}) AS _pw_ws, max(_pw_time) OVER (PARTITION BY ${[...keys, '_pw_sid'].join(', ')}) + ${ms(w.gapMs)} AS _pw_we FROM sessioned)`,
      ];
    }
    default: return assertNever(w, 'window');
  }
}

const outNames: ExprNames = {
  ...rowNames,
  bound: (b) => (b === 'window_start' ? '_pw_ws' : '_pw_we'),
};

export interface CompileOptions {
  /** The canonical events relation (default `pw_events_<stream>`). */
  readonly relation?: string;
  /**
   * A relation of late (event, window) pairs to leave out — columns `event_id` VARCHAR,
   * `window_start` TIMESTAMP and, read for CUMULATE only (its windows share their start),
   * `window_end` TIMESTAMP — so the statement computes what the hot path computed (used by
   * reconciliation and parity tests). For SESSION a late event is left out entirely.
   */
  readonly excludeLate?: string;
  /**
   * Leave out the dedup step: only for relations holding first arrivals alone, such as the
   * archive (it stores accepted events, each offset once). Default true.
   */
  readonly dedup?: boolean;
  /**
   * A lookup join's table changes (default `pw_changes_<table>`): the canonical relation of the
   * table (catalog tableAsStream), holding only the changes the hot path applied (late and
   * overflowed changes left out), `_pw_arrival` in arrival order. For an external lookup
   * (kind: lookup; default `pw_answers_<lookup>_<stream>`): the canonical relation of its
   * enrichment lane (catalog enrichmentLaneStream).
   */
  readonly tableRelation?: string;
}

/** The default relation of a table's applied changes. */
export const changesRelationName = (table: StreamDef): string => `pw_changes_${table.name}`;

/**
 * The lookup join as CTEs over `deduped`, ending in `joined` (DuckDB's ASOF JOIN: for each event
 * the change of its key with the greatest validity time <= the event time). Of changes with
 * equal key and validity time the later arrival is kept first, as the hot path replaces. A
 * tombstone or no change: no match; inner drops the event, left keeps it with NULL columns.
 */
function joinCtes(join: LookupJoinNode, relation: string, params: Parameters): string[] {
  if (join.table.lookup) return lookupCtes(join, relation);
  const spec = join.table.table;
  if (!spec) throw new InternalError(`${join.table.name} is not a reference table`);
  const key = quoteIdent(spec.key);
  const match = `(t._pw_time IS NOT NULL${spec.deleted ? ` AND t.${quoteIdent(spec.deleted)} IS NOT TRUE` : ''})`;
  const cols = [...join.table.fields.values()].map((f) => `CASE WHEN ${match} THEN t.${quoteIdent(f.path)} END AS ${joinedColumn(f.path)}`);
  return [
    `changes AS (SELECT * FROM ${quoteIdent(relation)} QUALIFY row_number() OVER (PARTITION BY ${key}, _pw_time ORDER BY _pw_arrival DESC) = 1)`,
    `probed AS (SELECT *, ${compileExpr(join.probe, rowNames, params)} AS _pw_probe FROM deduped)`,
    `joined AS (SELECT e.*, ${cols.join(', ')} FROM probed e ASOF LEFT JOIN changes t ON e._pw_probe = t.${key} AND e._pw_time >= t._pw_time${join.joinType === 'inner' ? ` WHERE ${match}` : ''})`,
  ];
}

/**
 * An external lookup's join (always LEFT): the answers the hot path used, from the archived
 * enrichment lane (catalog/enrichment-lane.ts), joined by event id; a fallback or a 404 has no
 * `row.*` values, so its columns are NULL. The first record of an event id counts.
 */
function lookupCtes(join: LookupJoinNode, relation: string): string[] {
  const cols = [...join.table.fields.values()].map((f) => `x.${quoteIdent(`row.${f.path}`)} AS ${joinedColumn(f.path)}`);
  return [
    `answers AS (SELECT * FROM ${quoteIdent(relation)} QUALIFY row_number() OVER (PARTITION BY ${quoteIdent('lane.event_id')} ORDER BY _pw_arrival) = 1)`,
    `joined AS (SELECT e.*, ${cols.join(', ')} FROM deduped e LEFT JOIN answers x ON x.${quoteIdent('lane.event_id')} = e._pw_event_id)`,
  ];
}

/** The default relation of the answers an external lookup gave a stream's events (see {@link lookupCtes}). */
export const answersRelationName = (lookup: StreamDef, stream: StreamDef): string => `pw_answers_${lookup.name}_${stream.name}`;

/** Compiles `plan` to a DuckDB statement over the stream's canonical events relation. */
export function compileDuckDb(plan: MetricPlan, options: CompileOptions = {}): CompiledQuery {
  const relation = options.relation ?? relationName(plan.stream);
  const params = new Parameters();
  const agg = findNode(plan.root, 'AggregateNode');
  const project = findNode(plan.root, 'ProjectNode') as ProjectNode | undefined;
  if (!agg || !project) throw new InternalError(`metric ${plan.name} has no aggregate`);
  const filter = findNode(plan.root, 'FilterNode');
  const join = findNode(plan.root, 'LookupJoinNode');
  const having = findNode(plan.root, 'HavingNode');
  const topn = findNode(plan.root, 'TopNNode');

  // A late event never joins a session on the hot path: leave it out before sessionizing.
  const sessionExclusion = options.excludeLate && plan.window.type === 'session'
    ? ` WHERE _pw_event_id NOT IN (SELECT event_id FROM ${quoteIdent(options.excludeLate)})` : '';
  const ctes: string[] = [
    options.dedup === false
      ? `deduped AS (SELECT * FROM ${quoteIdent(relation)})`
      : `deduped AS (SELECT * FROM ${quoteIdent(relation)} QUALIFY row_number() OVER (PARTITION BY _pw_event_id ORDER BY _pw_arrival) = 1)`,
    ...(join ? joinCtes(join, options.tableRelation ?? (join.table.lookup ? answersRelationName(join.table, plan.stream) : changesRelationName(join.table)), params) : []),
    `filtered AS (SELECT * FROM ${join ? 'joined' : 'deduped'}${filter ? ` WHERE ${compileExpr(filter.predicate, rowNames, params)}` : ''})`,
    `keyed AS (SELECT *${agg.keys.map((k, i) => `, ${compileExpr(k.expr, rowNames, params)} AS _pw_k${i}`).join('')} FROM filtered${sessionExclusion})`,
    ...windowCtes(plan, agg),
  ];
  if (options.excludeLate) {
    const excl = quoteIdent(options.excludeLate);
    if (plan.window.type !== 'session') {
      const i = ctes.findIndex((c) => c.startsWith('windowed AS'));
      ctes[i] = `windowed_all AS ${(ctes[i] as string).slice('windowed AS '.length)}`;
      const sameEnd = plan.window.type === 'cumulate' ? ' AND x.window_end = w._pw_we' : '';
      ctes.push(`windowed AS (SELECT * FROM windowed_all w WHERE NOT EXISTS (SELECT 1 FROM ${excl} x WHERE x.event_id = w._pw_event_id AND x.window_start = w._pw_ws${sameEnd}))`);
    }
  }
  const groupCols = ['_pw_ws', '_pw_we', ...agg.keys.map((_, i) => `_pw_k${i}`)];
  const aggCols = agg.aggregates.map((a, i) => `${aggregateSql(a, params)} AS _pw_a${i}`);
  ctes.push(`grouped AS (SELECT ${[...groupCols, ...aggCols].join(', ')} FROM windowed GROUP BY ${groupCols.join(', ')})`);

  const projected = project.columns.map((c: OutputColumn) => `${compileExpr(c.expr, outNames, params)} AS ${quoteIdent(c.name)}`);
  let body = `SELECT ${projected.join(', ')} FROM grouped${having ? ` WHERE ${compileExpr(having.predicate, outNames, params)}` : ''}`;
  let outCols = project.columns.map((c) => c.name);
  if (topn) {
    const order = [
      ...topn.orderBy.map((o) => `${quoteIdent(outCols[o.column] as string)} ${o.descending ? 'DESC' : 'ASC'} ${o.nullsFirst ? 'NULLS FIRST' : 'NULLS LAST'}`),
      ...outCols.map((n) => `${quoteIdent(n)} ASC NULLS LAST`),
    ].join(', ');
    const bound = (b: 'window_start' | 'window_end'): OutputColumn | undefined => project.columns.find((c) => c.expr.kind === 'WindowBoundExpr' && c.expr.bound === b);
    // One ranking per window: CUMULATE windows of a period share window_start (the plan requires window_end).
    const windowEnd = plan.window.type === 'cumulate' ? bound('window_end') : undefined;
    const partition = [bound('window_start') as OutputColumn, ...(windowEnd ? [windowEnd] : [])].map((c) => quoteIdent(c.name)).join(', ');
    ctes.push(`projected AS (${body})`);
    // RANK and DENSE_RANK rank by the ORDER BY alone (peers share a rank); ROW_NUMBER breaks ties by every column, as the hot path does.
    const peers = topn.orderBy.map((o) => `${quoteIdent(outCols[o.column] as string)} ${o.descending ? 'DESC' : 'ASC'} ${o.nullsFirst ? 'NULLS FIRST' : 'NULLS LAST'}`).join(', ');
    const rank = topn.rankFunction
      ? `${topn.rankFunction}() OVER (PARTITION BY ${partition} ORDER BY ${peers})`
      : `row_number() OVER (PARTITION BY ${partition} ORDER BY ${order})`;
    const selected = topn.columns.map((i) => quoteIdent(outCols[i] as string));
    body = `SELECT ${[...selected, ...(topn.rankColumn ? [`${rank} AS ${quoteIdent(topn.rankColumn)}`] : [])].join(', ')} FROM projected QUALIFY ${rank} <= ${topn.limit}`;
    outCols = [...topn.columns.map((i) => outCols[i] as string), ...(topn.rankColumn ? [topn.rankColumn] : [])];
  }
  const ws = plan.columns[outputWindowStart(plan)]?.name ?? 'window_start';
  const orderBy = [ws, ...outCols.filter((n) => n !== ws)].map((n) => `${quoteIdent(n)} ASC NULLS LAST`).join(', ');
  const sql = `WITH\n  ${ctes.join(',\n  ')}\n${body}\nORDER BY ${orderBy}`;
  return { sql, parameters: params.values };
}

