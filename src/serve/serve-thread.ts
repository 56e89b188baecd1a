/**
 * Serving isolated from processing: the API, SSE, page and /metrics run in a worker thread of the
 * engine's process (serve-worker.ts), fed by the engine's thread. Readers (200 dashboards, SSE
 * clients that never read, slow bodies) then cost the serving thread's core, not the engine's
 * event loop; the engine pays one structured clone per batch of result changes and one figures
 * snapshot every FIGURES_INTERVAL_MS.
 *
 * Why a worker thread and not a separate `pitwall serve` process over the results topic: one
 * process keeps one deployment unit, the serving store gets every change (provisional rows
 * included) without a broker round trip, and `/metrics` stays one endpoint per engine; more
 * readers than one core serves would need the separate process, which the compacted results
 * topic already allows.
 *
 * Bounds: changes are handed over when the engine's thread yields (setImmediate) or at
 * {@link BATCH_CHANGES} changes, whichever comes first, so the hand-off holds at most one batch;
 * the serving thread applies a batch in O(changes) and its store is bounded by its own caps.
 *
 * Errors: start() rejects with the serving thread's coded error (PW_PORT_IN_USE, PW_PORT_DENIED,
 * PW_BAD_OPTION, ...). A serving thread that stops by itself is logged; the engine goes on.
 */
import { Worker } from 'node:worker_threads';
import { ExecutionError } from '../errors.js';
import type { RowChange } from '../hot/operator-types.js';
import type { MetricPlan } from '../plan/index.js';
import { workerExecArgv } from '../util/worker-argv.js';
import type { EngineHandle } from './engine-handle.js';
import { FIGURES_INTERVAL_MS, type EngineFigures, type FromServe, type Observation, type ServeInit, type ToServe } from './serve-protocol.js';

const WORKER_URL = import.meta.url.endsWith('.ts')
  ? new URL('./serve-worker-entry.mjs', import.meta.url)
  : new URL('./serve-worker.js', import.meta.url);

/** Most changes handed to the serving thread in one message. */
export const BATCH_CHANGES = 4096;

/** What the engine's thread records for /metrics (forwarded to the serving thread's registry). */
export interface ServeMetricsSink {
  readonly latency: { observe(seconds: number): void };
  /** Per tier: from a batch's first record reaching Kafka to the first row of that tier it produced (s). */
  readonly appendToResult: { observe(labels: { tier: string }, seconds: number): void };
  readonly checkpointSeconds: { observe(seconds: number): void };
  readonly checkpointCaptureSeconds: { observe(seconds: number): void };
  readonly checkpointBytes: { inc(bytes: number): void };
  readonly reconcile: { set(labels: { metric: string; class: string }, n: number): void };
  readonly reconcileSkipped: { set(v: number): void };
}

export type ServeThreadOptions = Omit<ServeInit, 'checkpoints' | 'group' | 'archive' | 'metrics'> & { readonly log?: (msg: string) => void };

export class ServeThread {
  #handle: EngineHandle | undefined;
  readonly #opts: ServeThreadOptions;
  #worker: Worker | undefined;
  /** Messages from before start() (results of an engine that began before its API): sent first. */
  #early: ToServe[] = [];
  #changes: [string, RowChange][] = [];
  #observations: Observation[] = [];
  #scheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** The address served (`http://host:port`), once started. */
  address = '';
  /** Forwards observations to the serving thread's /metrics. */
  readonly metrics: ServeMetricsSink;

  /** Results handed over before {@link start} are kept and sent first. */
  constructor(opts: ServeThreadOptions) {
    this.#opts = opts;
    const obs = (o: Observation): void => { this.#observations.push(o); this.#schedule(); };
    this.metrics = {
      latency: { observe: (v) => obs({ series: 'latency', observe: v }) },
      appendToResult: { observe: (labels, v) => obs({ series: 'appendToResult', labels, observe: v }) },
      checkpointSeconds: { observe: (v) => obs({ series: 'checkpointSeconds', observe: v }) },
      checkpointCaptureSeconds: { observe: (v) => obs({ series: 'checkpointCaptureSeconds', observe: v }) },
      checkpointBytes: { inc: (v) => obs({ series: 'checkpointBytes', inc: v }) },
      reconcile: { set: (labels, n) => obs({ series: 'reconcile', labels, set: n }) },
      reconcileSkipped: { set: (v) => obs({ series: 'reconcileSkipped', set: v }) },
    };
  }

  /** Starts the serving thread over `handle`'s engine; resolves with the address it serves once it listens. */
  async start(handle: EngineHandle): Promise<string> {
    this.#handle = handle;
    const h = handle;
    const init: ServeInit = {
      catalog: this.#opts.catalog, queries: this.#opts.queries, port: this.#opts.port, host: this.#opts.host, tokens: this.#opts.tokens, corsOrigins: this.#opts.corsOrigins,
      ...(this.#opts.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: this.#opts.rateLimitPerMinute } : {}),
      ...(this.#opts.maxCheckpointAgeMs !== undefined ? { maxCheckpointAgeMs: this.#opts.maxCheckpointAgeMs } : {}),
      ...(this.#opts.maxLag !== undefined ? { maxLag: this.#opts.maxLag } : {}),
      checkpoints: h.checkpoint !== undefined, group: h.group !== undefined, archive: h.archive !== undefined, shed: h.shed !== undefined, enrichment: h.enrichment !== undefined, metrics: h.plans.map((p) => p.name),
    };
    const worker = new Worker(WORKER_URL, { workerData: init, name: 'pitwall-serve', execArgv: workerExecArgv() });
    this.#worker = worker;
    // Queued by the port until the thread listens: the store it builds starts with every earlier result.
    for (const m of this.#early) worker.postMessage(m);
    this.#early = [];
    const listening = new Promise<string>((resolve, reject) => {
      worker.on('message', (m: FromServe) => {
        if (m.t === 'listening') { resolve(m.address); return; }
        if (m.t === 'failed') { reject(new ExecutionError(m.code ?? 'PW_SERVE_UNAVAILABLE', m.error)); return; }
        if (m.t === 'checkpoint') { void this.#checkpoint(m.id); return; }
      });
      worker.on('error', (err) => { reject(err); this.#opts.log?.(`serving thread failed: ${err.message}; the engine goes on without its API`); });
      worker.on('exit', (code) => {
        reject(new ExecutionError('PW_SERVE_UNAVAILABLE', `the serving thread exited (code ${code}) before it listened`));
        if (!this.#stopped) this.#opts.log?.(`serving thread exited (code ${code}); the engine goes on without its API`);
        clearInterval(this.#timer);
      });
    });
    this.#post({ t: 'figures', figures: this.#figures() });
    this.#timer = setInterval(() => this.#post({ t: 'figures', figures: this.#figures() }), FIGURES_INTERVAL_MS);
    this.#timer.unref();
    try {
      this.address = await listening;
    } catch (err) {
      await this.stop();
      throw err;
    }
    return this.address;
  }

  /** Hands a result change to the serving thread (batched; sent when this thread yields). */
  apply(plan: MetricPlan, change: RowChange): void {
    this.#changes.push([plan.name, change]);
    if (this.#changes.length >= BATCH_CHANGES) this.#flush();
    else this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => { this.#scheduled = false; this.#flush(); });
  }

  #flush(): void {
    if (this.#changes.length > 0) {
      const changes = this.#changes;
      this.#changes = [];
      this.#post({ t: 'changes', changes });
    }
    if (this.#observations.length > 0) {
      const observations = this.#observations;
      this.#observations = [];
      this.#post({ t: 'observe', observations });
    }
  }

  #post(m: ToServe): void {
    if (this.#stopped) return;
    if (this.#worker) this.#worker.postMessage(m);
    else if (m.t === 'changes' || m.t === 'observe') this.#early.push(m);
  }

  async #checkpoint(id: number): Promise<void> {
    try {
      await this.#handle?.checkpoint?.();
      const at = this.#handle?.lastCheckpointAt();
      this.#post({ t: 'checkpointed', id, ...(at !== undefined ? { at } : {}) });
    } catch (err) {
      this.#post({ t: 'checkpointed', id, error: (err as Error).message });
    }
  }

  #figures(): EngineFigures {
    const h = this.#handle as EngineHandle;
    const a = h.archive;
    return {
      stats: h.engine.stats(), stateSize: h.engine.stateSize(),
      streams: h.engine.streams.map((s) => ({ name: s.stream.name, evicted: s.dedup.evicted, watermarkMs: s.watermark.watermarkMs })),
      lag: [...h.lag()], lastCheckpointAt: h.lastCheckpointAt(), outboxes: h.outboxes ? [...h.outboxes()] : undefined,
      notReadyReason: h.notReadyReason?.(), group: h.group?.(), shed: h.shed?.(), enrichment: h.enrichment?.(),
      archive: a ? { stats: { events: a.stats.events, quarantined: a.stats.quarantined, late: a.stats.late, segments: a.stats.segments, bytes: a.stats.bytes, writeFailures: a.stats.writeFailures, rejected: a.stats.rejected }, pendingSegments: a.pendingSegments } : undefined,
    };
  }

  /** Sends what is pending, closes the server (its streams end) and stops the thread. */
  async stop(): Promise<void> {
    const worker = this.#worker;
    if (!worker || this.#stopped) return;
    this.#flush();
    clearInterval(this.#timer);
    const stopped = new Promise<void>((resolve) => {
      worker.on('message', (m: FromServe) => { if (m.t === 'stopped') resolve(); });
      worker.once('exit', () => resolve());
    });
    worker.postMessage({ t: 'stop' } satisfies ToServe);
    this.#stopped = true;
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
    await Promise.race([stopped, timeout]);
    await worker.terminate();
  }
}
