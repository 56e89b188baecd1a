/**
 * The serving thread: the HTTP API, SSE streams, the page and /metrics of one engine, in a worker
 * thread of the engine's process (serve-thread.ts starts it), so readers take their CPU from
 * another core and never from the thread that processes events. It keeps its own serving store,
 * fed by the engine's result changes in batches, and answers from the engine's figures as last
 * sent (every FIGURES_INTERVAL_MS). An admin checkpoint is forwarded to the engine's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadDefinitions } from '../cli/load-definitions.js';
import type { PitwallError } from '../errors.js';
import type { EngineHandle } from './engine-handle.js';
import { listenOn } from './listen.js';
import type { PitwallMetrics } from './prom-metrics.js';
import type { EngineFigures, FromServe, Observation, ServeInit, ToServe } from './serve-protocol.js';
import { createServer } from './server.js';
import { ServingStore } from './serving-store.js';
import { lowerThreadPriority } from '../util/thread-priority.js';

const port = parentPort;
if (!port) throw new Error('serve-worker runs as a worker thread');
// Below the engine's thread (nice +10: about a tenth of its CPU share when both want a core):
// on few cores a flood of readers slows answers, not event processing.
lowerThreadPriority(10);
const init = workerData as ServeInit;
const send = (m: FromServe): void => port.postMessage(m);

let figures: EngineFigures = { stats: { streams: {}, metrics: {} }, stateSize: {}, streams: [], lag: [], lastCheckpointAt: undefined, outboxes: undefined, notReadyReason: 'starting', group: undefined, shed: undefined, archive: undefined };
let nextId = 1;
const checkpoints = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

/** Applies an observation made on the engine's thread to this thread's registry. */
function observe(metrics: PitwallMetrics, o: Observation): void {
  switch (o.series) {
    case 'latency': case 'checkpointSeconds': case 'checkpointCaptureSeconds': metrics[o.series].observe(o.observe); return;
    case 'checkpointBytes': metrics.checkpointBytes.inc(o.inc); return;
    case 'appendToResult': metrics.appendToResult.observe(o.labels, o.observe); return;
    case 'reconcileSkipped': metrics.reconcileSkipped.set(o.set); return;
    case 'reconcile': metrics.reconcile.set(o.labels, o.set); return;
  }
}

try {
  // The metrics the engine runs (`pitwall run` leaves lookup joins out, run-action.ts).
  const plans = (await loadDefinitions({ catalog: init.catalog, queries: init.queries })).plans.filter((p) => init.metrics.includes(p.name));
  const store = new ServingStore(plans);
  const handle: EngineHandle = {
    plans,
    engine: {
      stats: () => figures.stats,
      stateSize: () => figures.stateSize,
      get streams() { return figures.streams.map((s) => ({ stream: { name: s.name }, dedup: { evicted: s.evicted }, watermark: { watermarkMs: s.watermarkMs ?? Number.NEGATIVE_INFINITY } })); },
    },
    lag: () => new Map(figures.lag),
    lastCheckpointAt: () => figures.lastCheckpointAt,
    outboxes: () => new Map(figures.outboxes ?? []),
    notReadyReason: () => figures.notReadyReason,
    ...(init.checkpoints ? {
      checkpoint: () => new Promise<void>((resolve, reject) => {
        const id = nextId++;
        checkpoints.set(id, { resolve, reject });
        send({ t: 'checkpoint', id });
      }),
    } : {}),
    ...(init.shed ? { shed: () => figures.shed ?? {} } : {}),
    ...(init.enrichment ? { enrichment: () => figures.enrichment ?? {} } : {}),
    ...(init.group ? { group: () => figures.group ?? { members: 0, rebalances: 0, fenced: 0, skippedFlushes: 0, foreignFlushes: 0 } } : {}),
    ...(init.archive ? { archive: { get stats() { return figures.archive?.stats ?? { events: 0, quarantined: 0, late: 0, segments: 0, bytes: 0, writeFailures: 0, rejected: 0 }; }, get pendingSegments() { return figures.archive?.pendingSegments ?? 0; } } as NonNullable<EngineHandle['archive']> } : {}),
  };
  const { app, metrics } = await createServer({
    store, handle, tokens: init.tokens, corsOrigins: init.corsOrigins,
    ...(init.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: init.rateLimitPerMinute } : {}),
    ...(init.maxCheckpointAgeMs !== undefined ? { maxCheckpointAgeMs: init.maxCheckpointAgeMs } : {}),
    ...(init.maxLag !== undefined ? { maxLag: init.maxLag } : {}),
  });
  const byName = new Map(plans.map((p) => [p.name, p]));
  port.on('message', (m: ToServe) => {
    switch (m.t) {
      case 'changes':
        for (const [name, change] of m.changes) { const p = byName.get(name); if (p) store.apply(p, change); }
        return;
      case 'figures': figures = m.figures; return;
      case 'observe': for (const o of m.observations) observe(metrics, o); return;
      case 'checkpointed': {
        const w = checkpoints.get(m.id);
        checkpoints.delete(m.id);
        if (m.at !== undefined) figures = { ...figures, lastCheckpointAt: m.at };
        if (w) { if (m.error !== undefined) w.reject(new Error(m.error)); else w.resolve(); }
        return;
      }
      case 'stop':
        void app.close().finally(() => { send({ t: 'stopped' }); port.close(); });
        return;
    }
  });
  const address = await listenOn(app, init.port, init.host);
  send({ t: 'listening', address });
} catch (err) {
  send({ t: 'failed', error: (err as Error).message, ...((err as PitwallError).code ? { code: (err as PitwallError).code } : {}) });
}
