/**
 * Recompute: every metric computed by DuckDB from the compiled SQL, with late events included,
 * from input files (decoded and validated exactly as the hot path does) or from the Parquet
 * archive. Writes the same files as replay: `<metric>.ndjson` and `_summary.json`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { compilePayloadValidator, decodeAndValidate, enrichmentLaneStream, RecordValidator, tableAsStream, type Catalog, type StreamDef, type ValidEvent } from '../catalog/index.js';
import { ExecutionError } from '../errors.js';
import { findNode, type MetricPlan } from '../plan/index.js';
import { readInput } from '../sources/file-source.js';
import { archiveViewSql, attachArchive } from './archive-relation.js';
import { answersRelationName, changesRelationName, compileDuckDb } from './compile-plan.js';
import { quoteIdent } from './duckdb-dialect.js';
import { appendEvents, createEventsTable } from './load-events.js';
import { runCompiled } from './run-query.js';
import type { ResultRow } from '../util/result-row.js';
import { hasLane, laneReadSql, laneRowCount, readArchiveManifest, type ArchivedSegment } from '../archive/archive-lanes.js';

export interface RecomputeSource {
  readonly inputs?: readonly { stream: string; file: string }[];
  readonly archive?: string;
}

/**
 * Per-stream counts. From an archive, `duplicates` is null: dropped redeliveries are not archived,
 * so the archive cannot count them (the hot run's `_summary.json` has the figure).
 */
export type StreamCounts = { events: number; accepted: number; quarantined: number; duplicates: number | null; late: number };

async function countOf(conn: DuckDBConnection, sql: string): Promise<number> {
  const r = await conn.runAndReadAll(sql);
  return Number(r.getRows()[0]?.[0] ?? 0);
}

/** Loads input files into canonical tables; returns per-stream counts. */
async function loadInputs(conn: DuckDBConnection, catalog: Catalog, inputs: readonly { stream: string; file: string }[]): Promise<Record<string, StreamCounts>> {
  const counts: Record<string, StreamCounts> = {};
  for (const stream of new Set(inputs.map((i) => i.stream))) {
    const def = catalog.streams.get(stream);
    if (!def || def.kind === 'table') continue;
    await createEventsTable(conn, def);
    // As replay validates (far-future rule against event time), in the same arrival order.
    const validator = new RecordValidator(def, 'event-time');
    const c: StreamCounts = { events: 0, accepted: 0, quarantined: 0, duplicates: 0, late: 0 };
    let arrival = 0;
    for (const input of inputs.filter((i) => i.stream === stream)) {
      for await (const batch of readInput(input.file)) {
        const valid: ValidEvent[] = [];
        for (const r of batch) {
          c.events++;
          const v = validator.check(r, 0);
          if (v.ok) valid.push(v); else c.quarantined++;
        }
        arrival = await appendEvents(conn, def, valid, undefined, arrival);
      }
    }
    const distinct = await countOf(conn, `SELECT count(DISTINCT _pw_event_id) FROM pw_events_${def.name}`);
    c.accepted = distinct;
    c.duplicates = arrival - distinct;
    counts[stream] = c;
  }
  return counts;
}

/**
 * Loads the changes of every reference table a metric joins, in arrival order, and returns the
 * relation each metric joins (by metric name). From files: every valid change (replay reads
 * tables before streams, so it applies every valid change unless one goes past the table's
 * max_versions, counted in replay's summary). From the archive: the table's changes minus those
 * its late lane marks as not applied by the joins of the metric's stream.
 */
async function loadTables(conn: DuckDBConnection, plans: readonly MetricPlan[], source: RecomputeSource): Promise<Map<string, string>> {
  const relations = new Map<string, string>();
  const entries = source.archive ? readArchiveManifest(source.archive) : [];
  for (const plan of plans) {
    const join = findNode(plan.root, 'LookupJoinNode');
    if (!join) continue;
    const table = join.table;
    if (table.lookup) {
      relations.set(plan.name, await loadAnswers(conn, table, plan, source, entries));
      continue;
    }
    const def = tableAsStream(table);
    const all = changesRelationName(table);
    if (source.archive && hasLane(entries, 'events', table.name)) {
      await conn.run(archiveViewSql(def, source.archive, entries, all));
      const mine = `${all}_${plan.stream.name}`;
      // Stream names are identifiers (catalog-schema.ts): safe inside a string literal.
      const marked = hasLane(entries, 'late', table.name)
        ? ` WHERE _pw_arrival NOT IN (SELECT CAST(_pw_partition AS BIGINT) * 1099511627776 + _pw_offset FROM ${laneReadSql(source.archive, entries, 'late', table.name)} WHERE metric = '${plan.stream.name}')`
        : '';
      await conn.run(`CREATE OR REPLACE VIEW ${quoteIdent(mine)} AS SELECT * FROM ${quoteIdent(all)}${marked}`);
      relations.set(plan.name, mine);
      continue;
    }
    const loaded = [...relations.values()].includes(all);
    relations.set(plan.name, all);
    if (loaded) continue;
    const relation = await createEventsTable(conn, def, all);
    const validate = compilePayloadValidator(def);
    let arrival = 0;
    for (const input of (source.inputs ?? []).filter((i) => i.stream === table.name)) {
      for await (const batch of readInput(input.file)) {
        const valid = batch.map((r) => decodeAndValidate(r.value, validate)).filter((v): v is ValidEvent => v.ok);
        arrival = await appendEvents(conn, def, valid, relation, arrival);
      }
    }
  }
  return relations;
}

/**
 * The answers external lookup `lookup` gave the events of `plan`'s stream: the archive's
 * enrichment lane. From input files there is none: the answers a hot run used exist only in
 * its archive (PW_COLD_LOOKUP_ARCHIVE).
 */
async function loadAnswers(conn: DuckDBConnection, lookup: StreamDef, plan: MetricPlan, source: RecomputeSource, entries: readonly ArchivedSegment[]): Promise<string> {
  const lane = enrichmentLaneStream(lookup, plan.stream.name);
  const relation = answersRelationName(lookup, plan.stream);
  if (!source.archive) {
    throw new ExecutionError('PW_COLD_LOOKUP_ARCHIVE', `metric ${plan.name} joins the external lookup ${lookup.name}, whose answers are archived per event by the hot run: recompute it from that run's archive (--archive DIR), not from input files`);
  }
  if (hasLane(entries, 'events', lane.name)) {
    await conn.run(archiveViewSql(lane, source.archive, entries, relation));
  } else {
    await createEventsTable(conn, lane, relation); // no event of the stream was enriched: every row reads NULL
  }
  return relation;
}

/** Attaches the archive's streams; counts come from the manifest's lanes. */
async function loadArchive(conn: DuckDBConnection, catalog: Catalog, plans: readonly MetricPlan[], root: string): Promise<Record<string, StreamCounts>> {
  const counts: Record<string, StreamCounts> = {};
  const streams = new Set(plans.map((p) => p.stream.name));
  const entries = readArchiveManifest(root); // read-only: recompute never cleans the archive up
  for (const stream of streams) {
    const def = catalog.streams.get(stream);
    if (!def || !hasLane(entries, 'events', stream)) continue;
    await attachArchive(conn, def, root, entries);
    const accepted = await laneRowCount(conn, root, entries, 'events', stream);
    const quarantined = await laneRowCount(conn, root, entries, 'quarantine', stream);
    let late = 0;
    if (hasLane(entries, 'late', stream)) late = await countOf(conn, `SELECT count(DISTINCT event_id) FROM ${laneReadSql(root, entries, 'late', stream)}`);
    counts[stream] = { events: accepted + quarantined, accepted, quarantined, duplicates: null, late };
  }
  return counts;
}

export interface RecomputeSummary {
  /** `archive` when computed from the archive: its `pii: hash` fields hold keyed hashes. */
  source: 'files' | 'archive';
  streams: Record<string, StreamCounts>;
  metrics: Record<string, { rows: number; hash: string }>;
}

/** Runs every metric in DuckDB and writes `<out>/<metric>.ndjson` and `_summary.json`. */
export async function recompute(catalog: Catalog, plans: readonly MetricPlan[], source: RecomputeSource, outDir: string): Promise<RecomputeSummary> {
  mkdirSync(outDir, { recursive: true });
  const { summary, rows } = await recomputeRows(catalog, plans, source);
  for (const p of plans) {
    const r = rows.get(p.name) ?? [];
    writeFileSync(join(outDir, `${p.name}.ndjson`), r.map((x) => JSON.stringify(x)).join('\n') + (r.length ? '\n' : ''));
  }
  writeFileSync(join(outDir, '_summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

/** Runs every metric in DuckDB and returns its rows (by metric name) and the summary, writing nothing. */
export async function recomputeRows(catalog: Catalog, plans: readonly MetricPlan[], source: RecomputeSource): Promise<{ summary: RecomputeSummary; rows: Map<string, ResultRow[]> }> {
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    const streams = source.archive ? await loadArchive(conn, catalog, plans, source.archive) : await loadInputs(conn, catalog, source.inputs ?? []);
    const tables = await loadTables(conn, plans, source);
    const summary: RecomputeSummary = { source: source.archive ? 'archive' : 'files', streams, metrics: {} };
    const out = new Map<string, ResultRow[]>();
    for (const p of plans) {
      // A metric over a stream with no input has no rows (replay writes it empty too). The archive
      // holds each accepted event once, so it needs no dedup pass.
      const rows = streams[p.stream.name] ? await runCompiled(conn, p, compileDuckDb(p, { dedup: !source.archive, ...(tables.has(p.name) ? { tableRelation: tables.get(p.name) as string } : {}) })) : [];
      out.set(p.name, rows);
      summary.metrics[p.name] = { rows: rows.length, hash: p.hash };
    }
    return { summary, rows: out };
  } finally {
    conn.closeSync();
  }
}
