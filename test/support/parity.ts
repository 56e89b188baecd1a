/**
 * Hot-vs-cold parity harness: runs the hot-path engine over raw records, then the compiled
 * DuckDB SQL over the same valid events (arrival order) minus the late (event, window) pairs
 * the hot path reported, and compares rows with per-column tolerances.
 */
import { DuckDBInstance, DuckDBTimestampValue, type DuckDBConnection } from '@duckdb/node-api';
import { compilePayloadValidator, decodeAndValidate, type Catalog, type ValidEvent } from '../../src/catalog/index.js';
import { appendEvents, changesRelationName, compileDuckDb, compileExpr, createEventsTable, quoteIdent, relationName, runCompiled, tableAsStream } from '../../src/cold/index.js';
import { Parameters, rowNames } from '../../src/cold/compile-expr.js';
import type { TableChangeRecord } from '../../src/hot/engine.js';
import { Engine } from '../../src/hot/engine.js';
import { ResultCollector } from '../../src/hot/result-collector.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import { findNode, type MetricPlan } from '../../src/plan/index.js';
import { columnTolerances } from '../../src/reconcile/reconcile.js';
import type { ResultRow } from '../../src/util/result-row.js';

export interface HotRun {
  rows: Map<string, ResultRow[]>;
  late: Map<string, { eventId: string; windowStart: number; windowEnd: number }[]>;
  stats: ReturnType<Engine['stats']>;
}

export function runHot(catalog: Catalog, plans: readonly MetricPlan[], stream: string, records: readonly RawRecord[], batch = 500): HotRun {
  const steps: JoinStep[] = [];
  for (let i = 0; i < records.length; i += batch) steps.push({ source: stream, records: records.slice(i, i + batch) });
  return runHotSteps(catalog, plans, steps);
}

let conn: DuckDBConnection | undefined;

/** `tableChanges`: for a metric with a lookup join, the table changes to join (the ones the hot path applied; none by default). */
export async function runColdExcludingLate(catalog: Catalog, plan: MetricPlan, records: readonly RawRecord[], late: readonly { eventId: string; windowStart: number; windowEnd?: number }[], tableChanges: readonly ValidEvent[] = []): Promise<ResultRow[]> {
  conn ??= await (await DuckDBInstance.create(':memory:')).connect();
  const join = findNode(plan.root, 'LookupJoinNode');
  if (join) {
    await createEventsTable(conn, tableAsStream(join.table), changesRelationName(join.table));
    await appendEvents(conn, tableAsStream(join.table), tableChanges, changesRelationName(join.table));
  }
  const validate = compilePayloadValidator(plan.stream);
  const valid: ValidEvent[] = [];
  for (const r of records) {
    const v = decodeAndValidate(r.value, validate);
    if (v.ok) valid.push(v);
  }
  await createEventsTable(conn, plan.stream);
  await appendEvents(conn, plan.stream, valid);
  await conn.run('CREATE OR REPLACE TABLE late_pairs (event_id VARCHAR, window_start TIMESTAMP, window_end TIMESTAMP)');
  const app = await conn.createAppender('late_pairs');
  for (const l of late) {
    app.appendVarchar(l.eventId);
    app.appendTimestamp(new DuckDBTimestampValue(BigInt(l.windowStart) * 1000n));
    // The window end tells apart CUMULATE windows, which share their start; the others need only the start.
    if (l.windowEnd === undefined) app.appendNull(); else app.appendTimestamp(new DuckDBTimestampValue(BigInt(l.windowEnd) * 1000n));
    app.endRow();
  }
  app.flushSync();
  app.closeSync();
  return runCompiled(conn, plan, compileDuckDb(plan, { excludeLate: 'late_pairs' }));
}

/** Differences between hot and cold rows (empty when they agree). */
export function diffRows(plan: MetricPlan, hot: readonly ResultRow[], cold: readonly ResultRow[]): string[] {
  // The same per-column tolerances reconciliation uses (the rank column, not projected, is exact).
  const tol = columnTolerances(plan);
  const out: string[] = [];
  if (hot.length !== cold.length) out.push(`${plan.name}: ${hot.length} hot rows vs ${cold.length} cold rows`);
  const n = Math.min(hot.length, cold.length);
  for (let i = 0; i < n && out.length < 10; i++) {
    plan.columns.forEach((c) => {
      const a = (hot[i] as ResultRow)[c.name] ?? null;
      const b = (cold[i] as ResultRow)[c.name] ?? null;
      const rel = tol.get(c.name) ?? 0;
      const ok = rel === 0 || typeof a !== 'number' || typeof b !== 'number'
        ? a === b
        : Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));
      if (!ok) out.push(`${plan.name} row ${i} ${c.name}: hot ${JSON.stringify(a)} vs cold ${JSON.stringify(b)} (${JSON.stringify(hot[i])} / ${JSON.stringify(cold[i])})`);
    });
  }
  return out;
}

/** One step of a run with lookup joins: records of a stream or of a reference table, in arrival order. */
export interface JoinStep { readonly source: string; readonly records: readonly RawRecord[] }

export interface HotJoinRun extends HotRun {
  /** Every valid table change with its outcome for the stream's joins. */
  changes: TableChangeRecord[];
  /** Join misses per metric (events without a live version; dropped by JOIN, kept by LEFT JOIN). */
  misses: Map<string, number>;
}

/** Runs the hot path over interleaved stream and table records (one batch per step). */
export function runHotSteps(catalog: Catalog, plans: readonly MetricPlan[], steps: readonly JoinStep[]): HotJoinRun {
  const results = new ResultCollector();
  const late = new Map<string, { eventId: string; windowStart: number; windowEnd: number }[]>();
  const changes: TableChangeRecord[] = [];
  const engine = new Engine(catalog, plans, {
    result: (p, c) => results.apply(p, c),
    late: (p, pair) => {
      const list = late.get(p.name) ?? [];
      list.push({ eventId: pair.event.eventId, windowStart: pair.windowStart, windowEnd: pair.windowEnd });
      late.set(p.name, list);
    },
    tableChange: (c) => changes.push(c),
  });
  for (const step of steps) {
    if (catalog.streams.get(step.source)?.kind === 'table') engine.processTable(step.source, step.records);
    else engine.process(step.source, step.records, 0);
  }
  engine.endOfInput();
  const stats = engine.stats();
  return {
    rows: new Map(plans.map((p) => [p.name, results.rows(p)])), late, stats, changes,
    misses: new Map(plans.map((p) => [p.name, stats.metrics[p.name]?.joinMisses ?? 0])),
  };
}

/** SQL for the number of windows an event at `timeMs` (SQL, epoch ms) falls in: HOP size/slide, CUMULATE the window ends of its period after it, else 1. */
function windowsPerEvent(w: MetricPlan['window'], timeMs: string): string {
  if (w.type === 'hop') return String(w.sizeMs / w.slideMs);
  if (w.type !== 'cumulate') return '1';
  const intoPeriod = `(((${timeMs} - ${w.offsetMs ?? 0}) % ${w.sizeMs}) + ${w.sizeMs}) % ${w.sizeMs}`;
  return `(${w.sizeMs / w.stepMs} - (${intoPeriod}) // ${w.stepMs})`;
}

/**
 * The cold path of a joined metric: the stream's valid events (arrival order) and the table
 * changes the hot path applied, minus the late pairs; returns its rows and its join misses
 * (events without a live version that are not late for all their windows).
 */
export async function runColdJoined(catalog: Catalog, plan: MetricPlan, steps: readonly JoinStep[], hot: HotJoinRun): Promise<{ rows: ResultRow[]; misses: number }> {
  const join = findNode(plan.root, 'LookupJoinNode');
  if (!join) throw new Error(`${plan.name} joins no table`);
  conn ??= await (await DuckDBInstance.create(':memory:')).connect();
  const tableStream = tableAsStream(join.table);
  const validateTable = compilePayloadValidator(tableStream);
  const applied = new Set(hot.changes.filter((c) => c.stream === plan.stream.name && c.table.name === join.table.name && c.outcome === 'applied').map((c) => `${c.origin.partition}:${c.origin.offset}`));
  const changes: ValidEvent[] = [];
  for (const step of steps.filter((x) => x.source === join.table.name)) {
    for (const r of step.records) {
      const v = decodeAndValidate(r.value, validateTable);
      if (v.ok && applied.has(`${r.partition}:${r.offset}`)) changes.push(v);
    }
  }
  const records = steps.filter((x) => x.source === plan.stream.name).flatMap((x) => x.records);
  const late = hot.late.get(plan.name) ?? [];
  const rows = await runColdExcludingLate(catalog, plan, records, late, changes);
  // Misses: deduplicated events whose probe finds no live version, but for those late for every
  // window (the hot path sends them to the late lane without a lookup).
  const params = new Parameters();
  const spec = join.table.table as NonNullable<typeof join.table.table>;
  const missSql = `WITH deduped AS (SELECT * FROM ${quoteIdent(relationName(plan.stream))} QUALIFY row_number() OVER (PARTITION BY _pw_event_id ORDER BY _pw_arrival) = 1),
    changes AS (SELECT * FROM ${quoteIdent(changesRelationName(join.table))} QUALIFY row_number() OVER (PARTITION BY ${quoteIdent(spec.key)}, _pw_time ORDER BY _pw_arrival DESC) = 1),
    probed AS (SELECT *, ${compileExpr(join.probe, rowNames, params)} AS _pw_probe FROM deduped)
    SELECT count(*) AS n FROM probed e ASOF LEFT JOIN changes t ON e._pw_probe = t.${quoteIdent(spec.key)} AND e._pw_time >= t._pw_time
    WHERE NOT (t._pw_time IS NOT NULL${spec.deleted ? ` AND t.${quoteIdent(spec.deleted)} IS NOT TRUE` : ''})
      AND (SELECT count(*) FROM late_pairs x WHERE x.event_id = e._pw_event_id) < ${windowsPerEvent(plan.window, 'epoch_ms(e._pw_time)')}`;
  const reader = await conn.runAndReadAll(missSql, params.values);
  const misses = Number(reader.getRowObjects()[0]?.n ?? 0);
  return { rows, misses };
}
