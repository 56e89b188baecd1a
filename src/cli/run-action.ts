/** What `pitwall run` does once its options are parsed (loaded lazily by run-command.ts). */
import type { FastifyInstance } from 'fastify';
import { ArchiveWriter } from '../archive/archive-writer.js';
import { ExecutionError } from '../errors.js';
import { KafkaRunner } from '../hot/kafka-runner.js';
import { captureFinals, selfReconcile } from '../reconcile/self-reconcile.js';
import type { TokenConfig } from '../serve/auth.js';
import type { EngineHandle } from '../serve/engine-handle.js';
import type { PitwallMetrics } from '../serve/prom-metrics.js';
import { listenOn } from '../serve/listen.js';
import { createServer } from '../serve/server.js';
import { ServingStore } from '../serve/serving-store.js';
import { parseCatalogDuration } from '../util/duration.js';
import { brokersFrom } from './brokers.js';
import { loadDefinitions } from './load-definitions.js';
import type { RunOptions } from './run-command.js';

/** Parses `token:scope,token:scope`. */
export function parseTokens(value: string | undefined): TokenConfig[] {
  if (!value) return [];
  return value.split(',').map((pair) => {
    const i = pair.lastIndexOf(':');
    const scope = pair.slice(i + 1);
    if (i <= 0 || (scope !== 'read' && scope !== 'admin')) throw new ExecutionError('PW_BAD_OPTION', `--tokens entry '${pair}' must be token:read or token:admin`);
    return { token: pair.slice(0, i), scope };
  });
}

/** Runs the engine until SIGINT or SIGTERM, then takes a final checkpoint. */
export async function runAction(opts: RunOptions): Promise<void> {
  const { catalog, plans } = await loadDefinitions(opts);
  const interval = parseCatalogDuration(opts.checkpointInterval);
  if (!interval) throw new ExecutionError('PW_BAD_OPTION', `--checkpoint-interval '${opts.checkpointInterval}' is not a duration like 5s`);
  const log = (msg: string): void => { process.stderr.write(`${new Date().toISOString()} pitwall: ${msg}\n`); };
  const archive = opts.archive ? new ArchiveWriter(opts.archive, catalog, { piiKey: opts.piiKey ?? process.env.PITWALL_PII_KEY }) : undefined;
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ExecutionError('PW_BAD_OPTION', `--port ${opts.port} is not a port number`);
  const store = new ServingStore(plans);
  let metrics: PitwallMetrics | undefined;
  let batchStart = performance.now();
  const runner = new KafkaRunner(catalog, plans, {
    sink: { result: (p, c) => { store.apply(p, c); metrics?.latency.observe((performance.now() - batchStart) / 1000); } },
    onBatch: () => { batchStart = performance.now(); },
    ...(archive ? { archive } : {}),
    brokers: brokersFrom(opts.brokers), groupId: opts.group, stateDir: opts.stateDir, resultsTopic: opts.resultsTopic,
    checkpointIntervalMs: interval, fromBeginning: opts.fromBeginning ?? false, maxGroups: opts.maxGroups, log,
    // Exit non-zero so a supervisor restarts from the last good checkpoint.
    onFatal: () => { log('exiting: the last checkpoint stays the recovery point'); process.exit(1); },
  });
  await runner.start();
  let app: FastifyInstance | undefined;
  if (port > 0) {
    const handle: EngineHandle = { plans, engine: runner.engine, lag: () => runner.lag, lastCheckpointAt: () => runner.lastCheckpointAt || undefined, checkpoint: () => runner.checkpoint(), ...(archive ? { archive } : {}) };
    const server = await createServer({ store, handle, tokens: parseTokens(opts.tokens), corsOrigins: opts.cors ? opts.cors.split(',') : [], maxCheckpointAgeMs: interval * 3 + 10_000 });
    app = server.app;
    metrics = server.metrics;
    runner.onCheckpoint = (ms) => metrics?.checkpointSeconds.observe(ms / 1000);
    const address = await listenOn(app, port, opts.host).catch(async (err: unknown) => {
      await runner.stop().then(() => archive?.close()).catch(() => undefined);
      throw err;
    });
    log(`serving http://${opts.host}:${address.split(':').pop()}/`);
  }
  let reconcileTimer: NodeJS.Timeout | undefined;
  if (opts.reconcileEvery) {
    const every = parseCatalogDuration(opts.reconcileEvery);
    if (!every || !archive || !opts.archive) throw new ExecutionError('PW_BAD_OPTION', '--reconcile-every needs a duration like 10m and --archive DIR');
    const archiveDir = opts.archive;
    let running = false;
    reconcileTimer = setInterval(() => {
      if (running) return;
      running = true;
      captureFinals(plans, store, () => archive.flush()).then((finals) => selfReconcile(catalog, plans, finals, archiveDir, opts.piiKey ?? process.env.PITWALL_PII_KEY)).then((summaries) => {
        for (const m of summaries) for (const [cls, n] of Object.entries(m.classes)) metrics?.reconcile.set({ metric: m.metric, class: cls }, n);
        const unexplained = summaries.reduce((n, m) => n + m.unexplained, 0);
        log(`self-reconcile: ${summaries.reduce((n, m) => n + m.rows, 0)} rows compared, ${unexplained} unexplained`);
      }, (err: unknown) => log(`self-reconcile failed: ${(err as Error).message}`)).finally(() => { running = false; });
    }, every);
  }
  log(`running ${plans.length} metrics; results to ${opts.resultsTopic}; checkpoints in ${opts.stateDir} every ${opts.checkpointInterval}`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      log('stopping: final checkpoint');
      clearInterval(reconcileTimer);
      runner.stop().then(() => archive?.close()).then(() => app?.close()).then(() => resolve(), (err: unknown) => { log(`stop failed: ${(err as Error).message}`); resolve(); });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
