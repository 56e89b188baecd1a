/**
 * Hot-vs-cold parity harness: runs the hot-path engine over raw records, then the compiled
 * DuckDB SQL over the same valid events (arrival order) minus the late (event, window) pairs
 * the hot path reported, and compares rows with per-column tolerances.
 */
import { DuckDBInstance, DuckDBTimestampValue, type DuckDBConnection } from '@duckdb/node-api';
import { compilePayloadValidator, decodeAndValidate, type Catalog, type ValidEvent } from '../../src/catalog/index.js';
import { appendEvents, compileDuckDb, createEventsTable, runCompiled } from '../../src/cold/index.js';
import { Engine } from '../../src/hot/engine.js';
import { ResultCollector } from '../../src/hot/result-collector.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import type { MetricPlan } from '../../src/plan/index.js';
import { columnTolerances } from '../../src/reconcile/reconcile.js';
import type { ResultRow } from '../../src/util/result-row.js';

export interface HotRun {
  rows: Map<string, ResultRow[]>;
  late: Map<string, { eventId: string; windowStart: number; windowEnd: number }[]>;
  stats: ReturnType<Engine['stats']>;
}

export function runHot(catalog: Catalog, plans: readonly MetricPlan[], stream: string, records: readonly RawRecord[], batch = 500): HotRun {
  const results = new ResultCollector();
  const late = new Map<string, { eventId: string; windowStart: number; windowEnd: number }[]>();
  const engine = new Engine(catalog, plans, {
    result: (p, c) => results.apply(p, c),
    late: (p, pair) => {
      const list = late.get(p.name) ?? [];
      list.push({ eventId: pair.event.eventId, windowStart: pair.windowStart, windowEnd: pair.windowEnd });
      late.set(p.name, list);
    },
  });
  for (let i = 0; i < records.length; i += batch) engine.process(stream, records.slice(i, i + batch), 0);
  engine.endOfInput();
  return { rows: new Map(plans.map((p) => [p.name, results.rows(p)])), late, stats: engine.stats() };
}

let conn: DuckDBConnection | undefined;

export async function runColdExcludingLate(catalog: Catalog, plan: MetricPlan, records: readonly RawRecord[], late: readonly { eventId: string; windowStart: number; windowEnd?: number }[]): Promise<ResultRow[]> {
  conn ??= await (await DuckDBInstance.create(':memory:')).connect();
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
