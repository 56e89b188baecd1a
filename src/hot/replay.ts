/**
 * Replay: runs the hot path over files, in file order, closes every window at the end of
 * input, and writes the final rows of every metric plus a summary and the two lanes:
 *
 * - `<out>/<metric>.ndjson`: final rows, sorted (window_start, then SELECT order);
 * - `<out>/_summary.json`: per stream events/accepted/quarantined/duplicates/late and the event
 *   ids forgotten at the dedup cap (`dedupEvicted`), per metric rows/late/overflow;
 * - `<out>/_quarantine.ndjson`: every rejected payload with its code and reason;
 * - `<out>/_late.ndjson`: every late (event, window) pair;
 * - `<out>/_table_late.ndjson` (when a metric joins a reference table): every table change its
 *   joins did not apply (`late`, or `overflow` past the table's max_versions).
 *
 * - `<out>/_enrichment.ndjson` (when a metric joins an external lookup, kind: lookup): per
 *   accepted event and lookup, the key asked and the row used or the fallback reason.
 *
 * Reference-table inputs (`--input rooms=rooms.ndjson`) are read before every stream. External
 * lookups are called as under `run` (hot/enrichment): events wait for their answers in a
 * bounded window, in arrival order; the archive keeps every answer used, so recompute from the
 * archive replays them exactly.
 *
 * Bad rows never stop a replay: they go to the quarantine lane.
 */
import { appendFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from '../catalog/index.js';
import { ExecutionError } from '../errors.js';
import { findNode, type MetricPlan } from '../plan/index.js';
import { readInput } from '../sources/file-source.js';
import type { ArchiveWriter } from '../archive/archive-writer.js';
import { Engine, type EngineOptions, type TableRunStats } from './engine.js';
import { enrichmentsOf } from './enrichment/build-stages.js';
import type { LookupStats } from './enrichment/lookup-client.js';
import { lateLine, tableLateLine } from './late-line.js';
import { ResultCollector } from './result-collector.js';
import type { RawRecord } from './stream-runtime.js';

export interface ReplayInput { readonly stream: string; readonly file: string }

/** What `_summary.json` holds (reconcile reads it to name the causes of differences). */
export interface ReplaySummary {
  /**
   * Per stream. `dedupEvicted`: event ids forgotten early at the per-partition cap
   * (`--max-dedup-ids`); a later copy of one of them counts again on the hot path.
   */
  streams: Record<string, { events: number; accepted: number; quarantined: number; duplicates: number; late: number; dedupEvicted: number }>;
  metrics: Record<string, { rows: number; late: number; overflow: number; hash: string; joinMisses?: number }>;
  /** Per joined reference table (when some metric joins one): changes read, quarantined, and per joining stream what they did. */
  tables?: Record<string, TableRunStats>;
  /** Per external lookup (when some metric joins one): keys asked, cache hits, requests, fallbacks by reason, breaker transitions. */
  enrichment?: Record<string, LookupStats>;
}

/** Parses `STREAM=FILE` (or `TABLE=FILE`) arguments; each file must exist (PW_INPUT_MISSING) and the stream or table be in the catalog (PW_INPUT_SPEC). */
export function parseInputs(specs: readonly string[], catalog: Catalog): ReplayInput[] {
  return specs.map((spec) => {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new ExecutionError('PW_INPUT_SPEC', `--input '${spec}' must be STREAM=FILE, e.g. --input orders=events.ndjson`);
    const stream = spec.slice(0, eq);
    const def = catalog.streams.get(stream);
    if (!def) {
      throw new ExecutionError('PW_INPUT_SPEC', `--input names unknown stream or table '${stream}'; catalog streams and reference tables: ${[...catalog.streams.keys()].join(', ')}`);
    }
    const file = spec.slice(eq + 1);
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st) throw new ExecutionError('PW_INPUT_MISSING', `--input ${spec}: file '${file}' does not exist; fix the path`);
    if (st.isDirectory()) throw new ExecutionError('PW_INPUT_MISSING', `--input ${spec}: '${file}' is a directory, not a file; pass an NDJSON or Parquet file`);
    return { stream, file };
  });
}

class LaneWriter {
  readonly #path: string;
  #buf: string[] = [];
  constructor(path: string) { this.#path = path; writeFileSync(path, ''); }
  write(obj: unknown): void { this.#buf.push(JSON.stringify(obj)); if (this.#buf.length >= 4096) this.flush(); }
  flush(): void { if (this.#buf.length) { appendFileSync(this.#path, `${this.#buf.join('\n')}\n`); this.#buf = []; } }
}

/** The record batches of a stream's (or table's) input files in order: several files read as one partition, offsets continuing across files. */
async function* batchesOf(inputs: readonly ReplayInput[], stream: string): AsyncGenerator<RawRecord[]> {
  let base = 0;
  for (const input of inputs.filter((i) => i.stream === stream)) {
    let next = base;
    for await (const batch of readInput(input.file)) {
      const shifted = base === 0 ? batch : batch.map((r) => ({ ...r, offset: r.offset + base }));
      yield shifted;
      next = (shifted[shifted.length - 1]?.offset ?? next - 1) + 1;
    }
    base = next;
  }
}

/** Runs a replay and writes its outputs under `outDir`; returns the summary. */
export async function replay(catalog: Catalog, plans: readonly MetricPlan[], inputs: readonly ReplayInput[], outDir: string, options: EngineOptions & { archive?: ArchiveWriter } = {}): Promise<ReplaySummary> {
  mkdirSync(outDir, { recursive: true });
  const results = new ResultCollector();
  const quarantine = new LaneWriter(join(outDir, '_quarantine.ndjson'));
  const late = new LaneWriter(join(outDir, '_late.ndjson'));
  const tableLate = plans.some((p) => findNode(p.root, 'LookupJoinNode')) ? new LaneWriter(join(outDir, '_table_late.ndjson')) : undefined;
  const archive = options.archive;
  const enrich = enrichmentsOf(plans, 'event-time');
  const enrichLane = enrich ? new LaneWriter(join(outDir, '_enrichment.ndjson')) : undefined;
  const engine = new Engine(catalog, plans, {
    result: (p, c) => results.apply(p, c),
    ...(archive || enrichLane ? {
      accepted: (s, e, o, raw, enriched) => {
        archive?.accepted(s, e, o, raw);
        if (archive) enrich?.archive(archive, s.name, e, o, enriched);
        for (const [name, x] of Object.entries(enriched ?? {})) {
          enrichLane?.write({ lookup: name, stream: s.name, partition: o.partition, offset: o.offset, event_id: e.eventId, key: x.key, row: x.answer.kind === 'row' ? x.answer.row : null, fallback: x.answer.kind === 'fallback' ? x.answer.reason : null });
        }
      },
    } : {}),
    quarantine: (r) => { archive?.quarantined(r); quarantine.write({ stream: r.stream, partition: r.origin.partition, offset: r.origin.offset, code: r.code, reason: r.reason, raw: r.raw }); },
    late: (p, pair) => { archive?.late(p, pair); late.write(lateLine(p, pair)); },
    tableChange: (c) => {
      archive?.tableChange(c);
      if (c.outcome !== 'applied') tableLate?.write(tableLateLine(c));
    },
  }, { futureReference: 'event-time', ...options });
  // Replay is deterministic: processing time stands still, so no partition turns idle.
  const nowMs = 0;
  // Reference tables first, each file in order: every change is then valid before any event
  // is joined, so none is late, and events join the version valid at their time.
  const tables = [...new Set(inputs.filter((i) => catalog.streams.get(i.stream)?.kind === 'table').map((i) => i.stream))];
  for (const table of tables) {
    for await (const batch of batchesOf(inputs, table)) engine.processTable(table, batch);
  }
  const streams = [...new Set(inputs.filter((i) => !tables.includes(i.stream)).map((i) => i.stream))];
  try {
    for (const stream of streams) {
      const stage = enrich?.stages.get(stream);
      for await (const batch of batchesOf(inputs, stream)) {
        if (stage) {
          // Backpressure: admit() waits while the window is full, so the file is read no faster than answers come.
          for (const r of batch) await stage.admit(r, nowMs);
          engine.process(stream, stage.take(), nowMs);
        } else {
          engine.process(stream, batch, nowMs);
        }
        await archive?.relieve();
      }
      if (stage) { await stage.drain(); engine.process(stream, stage.take(), nowMs); }
      engine.endOfInput(stream);
    }
  } finally {
    enrich?.close(); // the breakers' timers, whether the replay ended or failed
  }
  engine.endOfInput();
  enrichLane?.flush();
  await archive?.flush();
  quarantine.flush();
  late.flush();
  tableLate?.flush();
  const stats = engine.stats();
  const summary: ReplaySummary = { streams: {}, metrics: {} };
  for (const [name, s] of Object.entries(stats.streams)) {
    if (!streams.includes(name)) continue;
    summary.streams[name] = { events: s.events, accepted: s.accepted, quarantined: s.quarantined, duplicates: s.duplicates, late: s.late, dedupEvicted: engine.stream(name).dedup.evicted };
  }
  for (const p of plans) {
    const rows = results.rows(p);
    writeFileSync(join(outDir, `${p.name}.ndjson`), rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
    const m = stats.metrics[p.name];
    summary.metrics[p.name] = { rows: rows.length, late: m?.late ?? 0, overflow: m?.overflow ?? 0, hash: p.hash, ...(m?.joinMisses !== undefined ? { joinMisses: m.joinMisses } : {}) };
  }
  if (engine.joinedTables.length > 0) summary.tables = engine.tableStats();
  if (enrich) summary.enrichment = Object.fromEntries([...enrich.clients].map(([n, c]) => [n, { ...c.stats, fallbacks: { ...c.stats.fallbacks } }]));
  writeFileSync(join(outDir, '_summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
