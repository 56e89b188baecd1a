/**
 * The embedded demo: scenario generators feed the hot path in real time (bursts, out-of-order
 * and late events, duplicates, malformed payloads), the archive fills, and the API and pit-wall
 * page serve on localhost. No broker needed. On stop every window is closed, the hot results
 * and the late lane are written next to the archive, so the run can be reconciled.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ArchiveWriter } from '../archive/archive-writer.js';
import type { Catalog } from '../catalog/index.js';
import { Engine } from '../hot/engine.js';
import { ResultCollector } from '../hot/result-collector.js';
import type { MetricPlan } from '../plan/index.js';
import type { EngineHandle } from '../serve/engine-handle.js';
import type { PitwallMetrics } from '../serve/prom-metrics.js';
import { createServer } from '../serve/server.js';
import { ServingStore } from '../serve/serving-store.js';
import { SCENARIO_STREAM, SCENARIOS } from '../sources/generator.js';
import { LiveGenerator } from '../sources/live-generator.js';
import { formatTimestamp } from '../util/timestamp.js';

export interface DemoOptions {
  readonly catalog: Catalog;
  readonly plans: readonly MetricPlan[];
  readonly outDir: string;
  readonly port: number;
  readonly host: string;
  /** Events per second per scenario (mean; bursts go above). */
  readonly rate: number;
  readonly piiKey: string;
  readonly seed?: number;
}

export interface DemoStatus { events: number; ratePerSec: number; late: number; quarantined: number; duplicates: number; lag: number }

export class EmbeddedDemo {
  readonly engine: Engine;
  readonly store: ServingStore;
  readonly archive: ArchiveWriter;
  readonly #opts: DemoOptions;
  readonly #results = new ResultCollector();
  readonly #generators: { stream: string; gen: LiveGenerator; offset: number }[] = [];
  readonly #latePath: string;
  #lateBuf: string[] = [];
  #timers: NodeJS.Timeout[] = [];
  #app: FastifyInstance | undefined;
  #metrics: PitwallMetrics | undefined;
  #batchStart = 0;
  #lastEvents = 0;
  #lastAt = Date.now();
  url = '';

  constructor(opts: DemoOptions) {
    this.#opts = opts;
    mkdirSync(join(opts.outDir, 'hot'), { recursive: true });
    this.#latePath = join(opts.outDir, 'hot', '_late.ndjson');
    writeFileSync(this.#latePath, '');
    this.store = new ServingStore(opts.plans);
    this.archive = new ArchiveWriter(join(opts.outDir, 'archive'), opts.catalog, { piiKey: opts.piiKey });
    this.archive.open();
    this.engine = new Engine(opts.catalog, opts.plans, {
      result: (p, c) => {
        this.store.apply(p, c);
        this.#results.apply(p, c);
        this.#metrics?.latency.observe((performance.now() - this.#batchStart) / 1000);
      },
      accepted: (s, e, o) => this.archive.accepted(s, e, o),
      quarantine: (r) => this.archive.quarantined(r),
      late: (p, pair) => {
        this.archive.late(p, pair);
        this.#lateBuf.push(JSON.stringify({ stream: p.stream.name, metric: p.name, window_start: formatTimestamp(pair.windowStart), window_end: formatTimestamp(pair.windowEnd), event_id: pair.event.eventId, event_time: formatTimestamp(pair.event.eventTimeMs), partition: pair.origin.partition, offset: pair.origin.offset }));
      },
    });
    const now = Date.now();
    SCENARIOS.forEach((scenario, i) => {
      const stream = SCENARIO_STREAM[scenario];
      if (!opts.plans.some((p) => p.stream.name === stream)) return;
      this.#generators.push({ stream, offset: 0, gen: new LiveGenerator(scenario, { startMs: now, ratePerSec: opts.rate, seed: (opts.seed ?? 7) + i, keys: scenario === 'esports' ? 6 : 20 }) });
    });
  }

  handle(): EngineHandle {
    return { plans: this.#opts.plans, engine: this.engine, lag: () => new Map(), lastCheckpointAt: () => undefined };
  }

  /** Starts the server and the generators. */
  async start(): Promise<void> {
    const { app, metrics } = await createServer({ store: this.store, handle: this.handle() });
    this.#app = app;
    this.#metrics = metrics;
    const address = await app.listen({ port: this.#opts.port, host: this.#opts.host });
    this.url = `${address.replace('0.0.0.0', '127.0.0.1')}/`;
    this.#timers.push(setInterval(() => this.#step(), 100));
    this.#timers.push(setInterval(() => this.engine.tick(Date.now()), 1000));
  }

  #step(): void {
    const now = Date.now();
    for (const g of this.#generators) {
      const arrivals = g.gen.take(now);
      if (arrivals.length === 0) continue;
      this.#batchStart = performance.now();
      this.engine.process(g.stream, arrivals.map((a) => ({ partition: 0, offset: g.offset++, value: a.value })), now);
    }
    if (this.#lateBuf.length) { appendFileSync(this.#latePath, `${this.#lateBuf.join('\n')}\n`); this.#lateBuf = []; }
  }

  status(): DemoStatus {
    const s = Object.values(this.engine.stats().streams);
    const events = s.reduce((n, x) => n + x.events, 0);
    const now = Date.now();
    const ratePerSec = (events - this.#lastEvents) / Math.max(0.001, (now - this.#lastAt) / 1000);
    this.#lastEvents = events;
    this.#lastAt = now;
    return { events, ratePerSec, late: s.reduce((n, x) => n + x.late, 0), quarantined: s.reduce((n, x) => n + x.quarantined, 0), duplicates: s.reduce((n, x) => n + x.duplicates, 0), lag: 0 };
  }

  /** Stops generating, closes every window, writes hot results and the archive, stops serving. */
  async stop(): Promise<{ hotDir: string; archiveDir: string }> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#step();
    this.engine.endOfInput();
    this.archive.flush();
    if (this.#lateBuf.length) { appendFileSync(this.#latePath, `${this.#lateBuf.join('\n')}\n`); this.#lateBuf = []; }
    const hotDir = join(this.#opts.outDir, 'hot');
    const stats = this.engine.stats();
    for (const p of this.#opts.plans) {
      const rows = this.#results.rows(p);
      writeFileSync(join(hotDir, `${p.name}.ndjson`), rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
    }
    writeFileSync(join(hotDir, '_summary.json'), `${JSON.stringify({ streams: stats.streams, metrics: Object.fromEntries(this.#opts.plans.map((p) => [p.name, { rows: this.#results.rows(p).length, late: stats.metrics[p.name]?.late ?? 0, overflow: stats.metrics[p.name]?.overflow ?? 0, hash: p.hash }])) }, null, 2)}\n`);
    await this.#app?.close();
    return { hotDir, archiveDir: join(this.#opts.outDir, 'archive') };
  }
}
