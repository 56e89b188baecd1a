/**
 * The embedded demo: scenario generators feed the hot path in real time (bursts, out-of-order
 * and late events, duplicates, malformed payloads), the rooms table changes (room-changes.ts), the archive fills, and the API and pit-wall
 * page serve on localhost. No broker needed. On stop every window is closed, the hot results
 * and the late lane are written next to the archive, so the run can be reconciled.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ArchiveWriter } from '../archive/archive-writer.js';
import type { Catalog } from '../catalog/index.js';
import { Engine } from '../hot/engine.js';
import type { MetricPlan } from '../plan/index.js';
import type { EngineHandle } from '../serve/engine-handle.js';
import { listenOn } from '../serve/listen.js';
import { ProvisionalFeed } from '../serve/provisional-feed.js';
import { ServeThread, type ServeMetricsSink } from '../serve/serve-thread.js';
import { createServer } from '../serve/server.js';
import type { ServingStore } from '../serve/serving-store.js';
import { SCENARIO_STREAM, SCENARIOS } from '../sources/generator.js';
import { LiveGenerator } from '../sources/live-generator.js';
import { DemoOutputs, type DemoStatus } from './demo-outputs.js';
import { initialRoomChanges, ROOM_UPDATE_AFTER_MS, roomUpdates } from './room-changes.js';

export type { DemoStatus } from './demo-outputs.js';

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
  /**
   * The catalog and queries directories the plans came from: the API then runs in its own
   * serving thread (serve/serve-thread.ts), so readers never slow the engine. Without them the
   * server runs on this thread (embedding, tests).
   */
  readonly definitions?: { readonly catalog: string; readonly queries: string };
  /** Requests per minute per client (default 1,200). */
  readonly rateLimitPerMinute?: number;
}


/** How often open windows are read as provisional rows (ms). */
const PROVISIONAL_INTERVAL_MS = 1000;

export class EmbeddedDemo {
  readonly engine: Engine;
  readonly store: ServingStore;
  readonly archive: ArchiveWriter;
  readonly #opts: DemoOptions;
  readonly #outputs: DemoOutputs;
  readonly #generators: { stream: string; gen: LiveGenerator; offset: number }[] = [];
  #timers: NodeJS.Timeout[] = [];
  #app: FastifyInstance | undefined;
  #serve: ServeThread | undefined;
  #metrics: ServeMetricsSink | undefined;
  #batchStart = 0;
  url = '';

  constructor(opts: DemoOptions) {
    this.#opts = opts;
    this.#outputs = new DemoOutputs(opts.plans, opts.outDir);
    this.store = this.#outputs.store;
    this.archive = new ArchiveWriter(join(opts.outDir, 'archive'), opts.catalog, { piiKey: opts.piiKey });
    this.archive.open();
    this.engine = new Engine(opts.catalog, opts.plans, {
      result: (p, c) => {
        this.#outputs.result(p, c);
        this.#serve?.apply(p, c);
        this.#metrics?.latency.observe((performance.now() - this.#batchStart) / 1000);
      },
      accepted: (s, e, o, raw) => this.archive.accepted(s, e, o, raw),
      quarantine: (r) => this.archive.quarantined(r),
      late: (p, pair) => {
        this.archive.late(p, pair);
        this.#outputs.late(p, pair);
      },
      tableChange: (c) => {
        this.archive.tableChange(c);
        if (c.outcome !== 'applied') this.#outputs.tableLate(c);
      },
    }, { futureReference: 'processing-time' }); // live generators: event times follow the wall clock
    const now = Date.now();
    this.#startMs = now;
    this.#sendRooms(initialRoomChanges(now));
    SCENARIOS.forEach((scenario, i) => {
      const stream = SCENARIO_STREAM[scenario];
      if (!opts.plans.some((p) => p.stream.name === stream)) return;
      this.#generators.push({ stream, offset: 0, gen: new LiveGenerator(scenario, { startMs: now, ratePerSec: opts.rate, seed: (opts.seed ?? 7) + i, keys: scenario === 'esports' ? 6 : 20 }) });
    });
  }

  #startMs = 0;
  #roomOffset = 0;
  #roomsUpdated = false;

  /** Feeds room changes to the joins that read them (a no-op when no metric joins rooms). */
  #sendRooms(changes: readonly string[]): void {
    this.engine.processTable('rooms', changes.map((value) => ({ partition: 0, offset: this.#roomOffset++, value })));
  }

  handle(): EngineHandle {
    return { plans: this.#opts.plans, engine: this.engine, lag: () => new Map(), lastCheckpointAt: () => undefined, archive: this.archive };
  }

  /** Starts the server and the generators. */
  async start(): Promise<void> {
    let address: string;
    try {
      const defs = this.#opts.definitions;
      if (defs) {
        const serve = new ServeThread({
          catalog: defs.catalog, queries: defs.queries, port: this.#opts.port, host: this.#opts.host, tokens: [], corsOrigins: [],
          ...(this.#opts.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: this.#opts.rateLimitPerMinute } : {}),
        });
        this.#serve = serve;
        this.#metrics = serve.metrics;
        address = await serve.start(this.handle());
      } else {
        const { app, metrics } = await createServer({ store: this.store, handle: this.handle(), ...(this.#opts.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: this.#opts.rateLimitPerMinute } : {}) });
        this.#app = app;
        this.#metrics = metrics;
        address = await listenOn(app, this.#opts.port, this.#opts.host);
      }
    } catch (err) {
      await this.archive.close(); // nothing was generated yet: an empty archive, and no worker left running
      throw err;
    }
    this.url = `${address.replace('0.0.0.0', '127.0.0.1')}/`;
    this.#timers.push(setInterval(() => this.#step(), 100));
    this.#timers.push(setInterval(() => this.engine.tick(Date.now()), 1000));
    // Open windows of metrics that emit on close, as provisional rows for the page and API.
    const feed = new ProvisionalFeed(this.engine);
    this.#timers.push(setInterval(() => {
      for (const [p, c] of feed.changes()) {
        this.store.apply(p, c);
        this.#serve?.apply(p, c);
      }
    }, PROVISIONAL_INTERVAL_MS));
  }

  /** Set while the archive's writer is behind: generated events wait (they are paced by time, none is lost). */
  #archiveWait: Promise<void> | undefined;

  #step(): void {
    if (this.#archiveWait) return;
    const behind = this.archive.relieve();
    if (behind) {
      this.#archiveWait = behind.then(() => { this.#archiveWait = undefined; });
      return;
    }
    const now = Date.now();
    if (!this.#roomsUpdated && now - this.#startMs >= ROOM_UPDATE_AFTER_MS) {
      this.#roomsUpdated = true;
      this.#sendRooms(roomUpdates(now));
    }
    for (const g of this.#generators) {
      const arrivals = g.gen.take(now);
      if (arrivals.length === 0) continue;
      this.#batchStart = performance.now();
      this.engine.process(g.stream, arrivals.map((a) => ({ partition: 0, offset: g.offset++, value: a.value })), now);
    }
    this.#outputs.flushLate();
  }

  status(): DemoStatus {
    return this.#outputs.status(this.engine, 0);
  }

  /** Stops generating, closes every window, writes hot results and the archive, stops serving. */
  async stop(): Promise<{ hotDir: string; archiveDir: string }> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#step();
    this.engine.endOfInput();
    await this.archive.close();
    this.#outputs.writeHotResults(this.engine);
    await this.#app?.close();
    await this.#serve?.stop();
    return { hotDir: this.#outputs.hotDir, archiveDir: join(this.#opts.outDir, 'archive') };
  }
}
