/**
 * Replay: runs the hot path over files, in file order, closes every window at the end of
 * input, and writes the final rows of every metric plus a summary and the two lanes:
 *
 * - `<out>/<metric>.ndjson`: final rows, sorted (window_start, then SELECT order);
 * - `<out>/_summary.json`: per stream events/accepted/quarantined/duplicates/late and the event
 *   ids forgotten at the dedup cap (`dedupEvicted`), per metric rows/late/overflow;
 * - `<out>/_quarantine.ndjson`: every rejected payload with its code and reason;
 * - `<out>/_late.ndjson`: every late (event, window) pair.
 *
 * Bad rows never stop a replay: they go to the quarantine lane.
 */
import { appendFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from '../catalog/index.js';
import { ExecutionError } from '../errors.js';
import type { MetricPlan } from '../plan/index.js';
import { readInput } from '../sources/file-source.js';
import type { ArchiveWriter } from '../archive/archive-writer.js';
import { Engine, type EngineOptions } from './engine.js';
import { lateLine } from './late-line.js';
import { ResultCollector } from './result-collector.js';

export interface ReplayInput { readonly stream: string; readonly file: string }

/** What `_summary.json` holds (reconcile reads it to name the causes of differences). */
export interface ReplaySummary {
  /**
   * Per stream. `dedupEvicted`: event ids forgotten early at the per-partition cap
   * (`--max-dedup-ids`); a later copy of one of them counts again on the hot path.
   */
  streams: Record<string, { events: number; accepted: number; quarantined: number; duplicates: number; late: number; dedupEvicted: number }>;
  metrics: Record<string, { rows: number; late: number; overflow: number; hash: string }>;
}

/** Parses `STREAM=FILE` arguments; each file must exist (PW_INPUT_MISSING) and the stream be in the catalog (PW_INPUT_SPEC). */
export function parseInputs(specs: readonly string[], catalog: Catalog): ReplayInput[] {
  return specs.map((spec) => {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new ExecutionError('PW_INPUT_SPEC', `--input '${spec}' must be STREAM=FILE, e.g. --input orders=events.ndjson`);
    const stream = spec.slice(0, eq);
    const def = catalog.streams.get(stream);
    if (!def || def.kind !== 'stream') {
      throw new ExecutionError('PW_INPUT_SPEC', `--input names unknown stream '${stream}'; catalog streams: ${[...catalog.streams.values()].filter((s) => s.kind === 'stream').map((s) => s.name).join(', ')}`);
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

/** Runs a replay and writes its outputs under `outDir`; returns the summary. */
export async function replay(catalog: Catalog, plans: readonly MetricPlan[], inputs: readonly ReplayInput[], outDir: string, options: EngineOptions & { archive?: ArchiveWriter } = {}): Promise<ReplaySummary> {
  mkdirSync(outDir, { recursive: true });
  const results = new ResultCollector();
  const quarantine = new LaneWriter(join(outDir, '_quarantine.ndjson'));
  const late = new LaneWriter(join(outDir, '_late.ndjson'));
  const archive = options.archive;
  const engine = new Engine(catalog, plans, {
    result: (p, c) => results.apply(p, c),
    ...(archive ? { accepted: (s, e, o, raw) => archive.accepted(s, e, o, raw) } : {}),
    quarantine: (r) => { archive?.quarantined(r); quarantine.write({ stream: r.stream, partition: r.origin.partition, offset: r.origin.offset, code: r.code, reason: r.reason, raw: r.raw }); },
    late: (p, pair) => { archive?.late(p, pair); late.write(lateLine(p, pair)); },
  }, { futureReference: 'event-time', ...options });
  // Replay is deterministic: processing time stands still, so no partition turns idle.
  const nowMs = 0;
  const streams = [...new Set(inputs.map((i) => i.stream))];
  for (const stream of streams) {
    // Several files of one stream read as one partition: offsets continue across files.
    let base = 0;
    for (const input of inputs.filter((i) => i.stream === stream)) {
      let next = base;
      for await (const batch of readInput(input.file)) {
        const shifted = base === 0 ? batch : batch.map((r) => ({ ...r, offset: r.offset + base }));
        engine.process(stream, shifted, nowMs);
        await archive?.relieve();
        next = (shifted[shifted.length - 1]?.offset ?? next - 1) + 1;
      }
      base = next;
    }
    engine.endOfInput(stream);
  }
  engine.endOfInput();
  await archive?.flush();
  quarantine.flush();
  late.flush();
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
    summary.metrics[p.name] = { rows: rows.length, late: m?.late ?? 0, overflow: m?.overflow ?? 0, hash: p.hash };
  }
  writeFileSync(join(outDir, '_summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
