/**
 * What a demo run keeps besides the archive: the serving store for the page, every result row
 * (to write the run's hot results at the end) and the late lane as NDJSON, so the run can be
 * reconciled against a recomputation of its archive.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine, TableChangeRecord } from '../hot/engine.js';
import type { LatePair, RowChange } from '../hot/operator-types.js';
import { ResultCollector } from '../hot/result-collector.js';
import type { MetricPlan } from '../plan/index.js';
import { ServingStore } from '../serve/serving-store.js';

export interface DemoStatus { events: number; ratePerSec: number; late: number; quarantined: number; duplicates: number; lag: number }
import { lateLine, tableLateLine } from '../hot/late-line.js';

export class DemoOutputs {
  readonly store: ServingStore;
  readonly hotDir: string;
  readonly #plans: readonly MetricPlan[];
  readonly #results = new ResultCollector();
  readonly #latePath: string;
  #lateBuf: string[] = [];
  #lastEvents = 0;
  #lastAt = Date.now();

  constructor(plans: readonly MetricPlan[], outDir: string) {
    this.#plans = plans;
    this.store = new ServingStore(plans);
    this.hotDir = join(outDir, 'hot');
    mkdirSync(this.hotDir, { recursive: true });
    this.#latePath = join(this.hotDir, '_late.ndjson');
    writeFileSync(this.#latePath, '');
  }

  result(plan: MetricPlan, change: RowChange): void {
    this.store.apply(plan, change);
    this.#results.apply(plan, change);
  }

  late(plan: MetricPlan, pair: LatePair): void {
    this.#lateBuf.push(JSON.stringify(lateLine(plan, pair)));
    if (this.#lateBuf.length >= 1000) this.flushLate();
  }

  flushLate(): void {
    if (this.#lateBuf.length) { appendFileSync(this.#latePath, `${this.#lateBuf.join('\n')}\n`); this.#lateBuf = []; }
  }

  /** A table change the joins did not apply: to `_table_late.ndjson` (rare; written at once). */
  tableLate(change: TableChangeRecord): void {
    appendFileSync(join(this.hotDir, '_table_late.ndjson'), `${JSON.stringify(tableLateLine(change))}\n`);
  }

  /** The status line's figures: totals over every stream, and events/s since the last call. */
  status(engine: Engine, lag: number): DemoStatus {
    const s = Object.values(engine.stats().streams);
    const events = s.reduce((n, x) => n + x.events, 0);
    const now = Date.now();
    const ratePerSec = (events - this.#lastEvents) / Math.max(0.001, (now - this.#lastAt) / 1000);
    this.#lastEvents = events;
    this.#lastAt = now;
    return { events, ratePerSec, late: s.reduce((n, x) => n + x.late, 0), quarantined: s.reduce((n, x) => n + x.quarantined, 0), duplicates: s.reduce((n, x) => n + x.duplicates, 0), lag };
  }

  /** Writes `<metric>.ndjson` and `_summary.json` of the run into the hot directory. */
  writeHotResults(engine: Engine): void {
    this.flushLate();
    const stats = engine.stats();
    for (const p of this.#plans) {
      const rows = this.#results.rows(p);
      writeFileSync(join(this.hotDir, `${p.name}.ndjson`), rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
    }
    const metrics = Object.fromEntries(this.#plans.map((p) => [p.name, { rows: this.#results.rows(p).length, late: stats.metrics[p.name]?.late ?? 0, overflow: stats.metrics[p.name]?.overflow ?? 0, hash: p.hash }]));
    // As replay writes it: reconcile names dedup evictions as a cause from `dedupEvicted`.
    const streams = Object.fromEntries(engine.streams.map((s) => [s.stream.name, { ...stats.streams[s.stream.name], dedupEvicted: s.dedup.evicted }]));
    writeFileSync(join(this.hotDir, '_summary.json'), `${JSON.stringify({ streams, metrics }, null, 2)}\n`);
  }
}
