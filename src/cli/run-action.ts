/** What `pitwall run` does once its options are parsed (loaded lazily by run-command.ts). */
import { ArchiveWriter } from '../archive/archive-writer.js';
import { ExecutionError } from '../errors.js';
import { KafkaRunner } from '../hot/kafka-runner.js';
import { defaultWorkers, MemberPool } from '../hot/member-pool.js';
import { joinsExternalLookup } from '../hot/enrichment/build-stages.js';
import { captureFinals, selfReconcile } from '../reconcile/self-reconcile.js';
import type { TokenConfig } from '../serve/auth.js';
import type { EngineHandle } from '../serve/engine-handle.js';
import { ProvisionalFeed } from '../serve/provisional-feed.js';
import { ServeThread, type ServeMetricsSink } from '../serve/serve-thread.js';
import { ServingStore } from '../serve/serving-store.js';
import { brokersFrom } from './brokers.js';
import { loadDefinitions, lookupJoinWarning, withoutTableJoins } from './load-definitions.js';
import { checkOutputDir } from './path-options.js';
import type { RunOptions } from './run-command.js';
import { backfillDue, startShedding } from './run-shedding.js';
import { scheduleMemberBackfill, startMemberShedding } from './run-member-shedding.js';
import { ShedCoordinator } from '../hot/shed-coordinator.js';
import { ShedLog } from '../hot/shed-log.js';
import type { ShedAck } from '../hot/member-shed.js';
import { attachShedFile } from '../state/shed-file.js';
import type { Catalog } from '../catalog/index.js';
import type { MetricPlan } from '../plan/index.js';
import type { RowChange } from '../hot/operator-types.js';

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

/** How long an orderly stop may take before the process exits anyway (Kubernetes kills at 30 s). */
export const STOP_TIMEOUT_MS = 25_000;

/** A KafkaRunner that remembers how its last checkpoint ended, so /readyz can say it failed. */
class ObservedRunner extends KafkaRunner {
  lastCheckpointError: Error | undefined;
  /** Runs before each checkpoint captures the state (the shed log is written with the event times skipped so far). */
  beforeCheckpoint: (() => void) | undefined;

  override checkpoint(): Promise<void> {
    try { this.beforeCheckpoint?.(); } catch (err) { return Promise.reject(err as Error); }
    return super.checkpoint().then(() => { this.lastCheckpointError = undefined; }, (err: unknown) => {
      this.lastCheckpointError = err as Error;
      throw err;
    });
  }
}

/**
 * Runs the engine until SIGINT or SIGTERM, then takes a final checkpoint and closes the consumer,
 * the producer, the archive and the server, each even when an earlier step failed. Returns the
 * exit status: 0 after a clean stop, 1 when a step failed (the last good checkpoint stays the
 * recovery point). The stop is bounded: past {@link STOP_TIMEOUT_MS} the process exits with 1.
 */
export async function runAction(opts: RunOptions): Promise<number> {
  const loaded = await loadDefinitions(opts);
  const { catalog } = loaded;
  // External lookups run (the single runner, and each member thread's phase one, put the
  // enrichment stage in front); reference-table joins are left out (tables are not broadcast).
  const { plans, joined } = withoutTableJoins(loaded.plans);
  // Every option is checked before anything starts: nothing half-started to tear down.
  if (opts.reconcileEvery !== undefined && !opts.archive) throw new ExecutionError('PW_BAD_OPTION', '--reconcile-every needs --archive DIR (it recomputes the archive)');
  if (opts.reconcileArchive !== undefined && opts.reconcileEvery === undefined) throw new ExecutionError('PW_BAD_OPTION', '--reconcile-archive is the archive --reconcile-every recomputes: give --reconcile-every too');
  if (opts.backfill !== undefined && (!opts.shed || !opts.archive)) throw new ExecutionError('PW_BAD_OPTION', '--backfill recomputes shed windows from the archive: give --shed and --archive DIR too');
  if (opts.resumeLag > opts.shedLag || opts.resumeRecords > opts.shedRecords) throw new ExecutionError('PW_BAD_OPTION', '--resume-lag and --resume-records must not exceed --shed-lag and --shed-records (resuming below a lower threshold keeps metrics from flapping)');
  if (opts.single && opts.stateSync === 'changelog') throw new ExecutionError('PW_BAD_OPTION', '--state-sync changelog is how a group\'s members share state; --single runs no group: drop one of them');
  const tokens = parseTokens(opts.tokens);
  const brokers = brokersFrom(opts.brokers);
  checkOutputDir('--state-dir', opts.stateDir);
  if (opts.archive) checkOutputDir('--archive', opts.archive);
  if (opts.reconcileArchive) checkOutputDir('--reconcile-archive', opts.reconcileArchive);
  const interval = opts.checkpointInterval;
  const log = (msg: string): void => { process.stderr.write(`${new Date().toISOString()} pitwall: ${msg}\n`); };
  for (const p of joined) log(lookupJoinWarning(p));
  const archive = opts.archive ? new ArchiveWriter(opts.archive, catalog, { piiKey: opts.piiKey ?? process.env.PITWALL_PII_KEY }) : undefined;
  const port = opts.port;
  const store = new ServingStore(plans);
  /** The serving thread (the API runs there, off the engine's thread); results reach it in batches, from the first. */
  const serve = port > 0 ? new ServeThread({
    catalog: opts.catalog, queries: opts.queries, port, host: opts.host, tokens, corsOrigins: opts.cors ? opts.cors.split(',') : [], maxCheckpointAgeMs: interval * 3 + 10_000, log,
  }) : undefined;
  const metrics: ServeMetricsSink | undefined = serve?.metrics;
  let batchStart = performance.now();
  let batchAppendedAt: number | undefined;
  const tiersSeen = new Set<string>();
  let stopping = false;
  // Exit non-zero so a supervisor restarts from the last good checkpoint.
  const onFatal = (): void => { log('exiting: the last checkpoint stays the recovery point'); process.exit(1); };
  let runner: {
    handle: Omit<EngineHandle, 'plans' | 'notReadyReason'> & { lastError(): Error | undefined; groupError(): string | undefined };
    stop(): Promise<void>;
    observe(m: ServeMetricsSink): void;
    /** A group's share held here (undefined: the whole, or not known yet). */
    share?: () => { whole: boolean; owned: number; total: number } | undefined;
  };
  if (opts.single) {
    const single = new ObservedRunner(catalog, plans, {
      sink: {
        result: (p, c) => {
          store.apply(p, c); serve?.apply(p, c);
          metrics?.latency.observe((performance.now() - batchStart) / 1000);
          // Once per batch and tier: the batch's first record's wait in Kafka included.
          if (batchAppendedAt !== undefined && !tiersSeen.has(p.tier)) { tiersSeen.add(p.tier); metrics?.appendToResult.observe({ tier: p.tier }, Math.max(0, Date.now() - batchAppendedAt) / 1000); }
        },
      },
      onBatch: (appendedAtMs) => { batchStart = performance.now(); batchAppendedAt = appendedAtMs; tiersSeen.clear(); },
      ...(archive ? { archive } : {}),
      brokers, groupId: opts.group, stateDir: opts.stateDir, resultsTopic: opts.resultsTopic,
      checkpointIntervalMs: interval, fromBeginning: opts.fromBeginning ?? false, maxGroups: opts.maxGroups, maxDedupIds: opts.maxDedupIds, log, onFatal,
    });
    // Before the first record: the shed log read back, metrics left shed by a stop still shed.
    const stopShedding = opts.shed ? startSheddingOn(single, opts, log) : undefined;
    await single.start().catch(async (err: unknown) => {
      stopShedding?.();
      await archive?.close().catch(() => undefined); // its writer thread would keep the process alive
      throw err;
    });
    // Open windows of metrics that emit on close, read every second as provisional rows for the
    // API and page (the results topic keeps each metric's emit contract).
    const feed = new ProvisionalFeed(single.engine);
    const provisional = setInterval(() => { for (const [p, c] of feed.changes()) { store.apply(p, c); serve?.apply(p, c); } }, 1000);
    provisional.unref();
    const backfillTimer = opts.backfill !== undefined && opts.archive ? scheduleBackfill(single, catalog, archive, opts.archive, opts.backfill, (p, c) => { store.apply(p, c); serve?.apply(p, c); }, log) : undefined;
    runner = {
      handle: {
        engine: single.engine, lag: () => single.lag, outboxes: () => single.outboxes(), lastCheckpointAt: () => single.lastCheckpointAt || undefined, checkpoint: () => single.checkpoint(), lastError: () => single.lastCheckpointError, groupError: () => undefined,
        ...(opts.shed ? { shed: () => single.engine.shedStats() } : {}),
        ...(single.enrichment() ? { enrichment: () => single.enrichment() ?? {} } : {}),
      },
      stop: () => { clearInterval(provisional); clearInterval(backfillTimer); stopShedding?.(); return single.stop(); },
      observe: (m) => {
        single.onCheckpoint = (ms, figures) => {
          m.checkpointSeconds.observe(ms / 1000);
          m.checkpointCaptureSeconds.observe(figures.captureMs / 1000);
          m.checkpointBytes.inc(figures.commit.bytes);
        };
      },
    };
  } else {
    const workers = opts.workers ?? defaultWorkers();
    if (archive) { archive.open(); await archive.ready(); }
    // --shed: the main thread owns the shed log (read back now: metrics left shed by a stop start shed in every member).
    let coordinator: ShedCoordinator | undefined;
    if (opts.shed) {
      const shedLog = new ShedLog();
      const path = attachShedFile(opts.stateDir, shedLog);
      coordinator = new ShedCoordinator(plans, shedLog, workers, (u) => { pool.shedUpdate(u); });
      if (coordinator.shed.length) log(`still shed from before the restart: ${coordinator.shed.join(', ')}`);
      log(`shedding by tier on (shed past ${opts.shedLag} ms or ${opts.shedRecords} records behind, resume under ${opts.resumeLag} ms and ${opts.resumeRecords}, ${opts.shedDwell} ms dwell; decided here for every member thread); intervals in ${path}`);
    }
    const shedding = coordinator;
    const pool: MemberPool = new MemberPool(catalog, plans, {
      workers, catalog: opts.catalog, queries: opts.queries, brokers, groupId: opts.group, stateDir: opts.stateDir, resultsTopic: opts.resultsTopic,
      checkpointIntervalMs: interval, fromBeginning: opts.fromBeginning ?? false, maxGroups: opts.maxGroups, maxDedupIds: opts.maxDedupIds,
      partialsPrefix: opts.partialsPrefix ?? opts.group, stateSync: opts.stateSync, ...(archive ? { archive } : {}),
      // Event→result: from the first input batch behind a flush reaching a member to the row it produced.
      onResult: (p, c, sinceMs) => { store.apply(p, c); serve?.apply(p, c); if (sinceMs !== undefined) metrics?.latency.observe(Math.max(0, Date.now() - sinceMs) / 1000); },
      ...(shedding ? { shed: shedding.initial(), onShedAck: (a: ShedAck) => shedding.ack(a) } : {}),
      log, onFatal,
    });
    // Sampling from the start, as with --single: members read while the others join (updates wait in their queues until they listen).
    const memberShed = shedding ? startMemberShedding(pool, shedding, plans, { shedLagMs: opts.shedLag, resumeLagMs: opts.resumeLag, shedRecords: opts.shedRecords, resumeRecords: opts.resumeRecords, dwellMs: opts.shedDwell }, opts.group, log) : undefined;
    await pool.start().catch(async (err: unknown) => {
      memberShed?.stop();
      await archive?.close().catch(() => undefined);
      throw err;
    });
    const stopBackfill = shedding && memberShed && opts.backfill !== undefined && opts.archive
      ? scheduleMemberBackfill(memberShed.source, shedding, catalog, archive, opts.archive, opts.backfill, { brokers, resultsTopic: opts.resultsTopic }, (p, c) => { store.apply(p, c); serve?.apply(p, c); }, log)
      : undefined;
    log(`${workers} member thread${workers === 1 ? '' : 's'} in group ${opts.group} (partials: ${opts.partialsPrefix ?? opts.group}.<metric>.partials; state moves through ${opts.stateSync === 'changelog' ? 'changelog topics' : `the shared state directory ${opts.stateDir}`})`);
    const view = pool.view();
    runner = {
      handle: {
        engine: view, lag: () => pool.lag(), outboxes: () => pool.outboxes(), lastCheckpointAt: () => pool.lastCheckpointAt(), checkpoint: () => pool.checkpoint(), lastError: () => pool.lastError(), groupError: () => pool.groupError(), group: () => pool.groupFigures(),
        ...(joinsExternalLookup(plans) ? { enrichment: () => pool.enrichment() } : {}),
        ...(shedding ? { shed: () => shedding.stats(pool.figures().map((f) => f?.shed)) } : {}),
      },
      stop: async () => { memberShed?.stop(); await stopBackfill?.(); await pool.stop(); },
      observe: () => undefined,
      share: () => pool.ownsEverything(),
    };
  }
  if (port > 0) {
    const handle: EngineHandle = {
      ...runner.handle, plans,
      notReadyReason: () => {
        const err = runner.handle.lastError();
        return stopping ? 'stopping' : runner.handle.groupError() ?? (err ? `last checkpoint failed: ${err.message}` : undefined);
      },
      ...(archive ? { archive } : {}),
    };
    if (!serve) throw new ExecutionError('PW_INTERNAL', 'the serving thread was not created');
    runner.observe(serve.metrics);
    const address = await serve.start(handle).catch(async (err: unknown) => {
      await runner.stop().catch(() => undefined);
      await archive?.close().catch(() => undefined);
      throw err;
    });
    log(`serving http://${opts.host}:${address.split(':').pop()}/ (API in its own thread)`);
  }
  let reconcileTimer: NodeJS.Timeout | undefined;
  if (opts.reconcileEvery !== undefined && archive && opts.archive) {
    const archiveDir = opts.reconcileArchive ?? opts.archive;
    let running = false;
    let skipped: string | undefined;
    // Once other processes shared the group, this process holds the final rows of the keys its
    // members merged (compared key by key from then on), and its own archive holds only the
    // input partitions they read: the recomputation needs every process's archive.
    let shared = false;
    reconcileTimer = setInterval(() => {
      if (running) return;
      const share = runner.share?.();
      if (share && !share.whole) shared = true;
      const skip = shared && opts.reconcileArchive === undefined
        ? `other processes share group ${opts.group} (this process's members own ${share?.owned ?? '?'} of its ${share?.total ?? '?'} input and partials partitions now), and --archive holds only this process's events; give --reconcile-archive the directory holding every process's --archive`
        : undefined;
      metrics?.reconcileSkipped.set(skip ? 1 : 0);
      if (skip !== skipped && skip) log(`self-reconcile skipped: ${skip}`);
      skipped = skip;
      if (skip) return;
      running = true;
      const keysOnly = shared;
      captureFinals(plans, store, () => archive.flush()).then((finals) => selfReconcile(catalog, plans, finals, archiveDir, opts.piiKey ?? process.env.PITWALL_PII_KEY, keysOnly)).then((summaries) => {
        for (const m of summaries) for (const [cls, n] of Object.entries(m.classes)) metrics?.reconcile.set({ metric: m.metric, class: cls }, n);
        const unexplained = summaries.reduce((n, m) => n + m.unexplained, 0);
        log(`self-reconcile: ${summaries.reduce((n, m) => n + m.rows, 0)} rows compared${keysOnly ? ' (the rows this process holds, key by key: the group spans other processes)' : ''}, ${unexplained} unexplained`);
      }, (err: unknown) => log(`self-reconcile failed: ${(err as Error).message}`)).finally(() => { running = false; });
    }, opts.reconcileEvery);
  }
  log(`running ${plans.length} metrics; results to ${opts.resultsTopic}; checkpoints in ${opts.stateDir} every ${interval} ms`);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  stopping = true;
  clearInterval(reconcileTimer);
  log(`stopping on ${signal}: final checkpoint`);
  // Bounded: a broker that never answers must not keep a stopped engine alive.
  const deadline = setTimeout(() => {
    log(`stop did not finish within ${STOP_TIMEOUT_MS / 1000} s; exiting: the last good checkpoint stays the recovery point`);
    process.exit(1);
  }, STOP_TIMEOUT_MS);
  const failures: string[] = [];
  const step = async (what: string, run: () => Promise<void> | undefined): Promise<void> => {
    try { await run(); } catch (err) { failures.push(`${what}: ${(err as Error).message}`); }
  };
  await step('final checkpoint', () => runner.stop());
  await step('archive', () => archive?.close());
  await step('server', () => serve?.stop());
  const status = failures.length ? 1 : 0;
  if (failures.length) log(`stop failed (${failures.join('; ')}); exiting with status 1: the last good checkpoint stays the recovery point`);
  else log('stopped');
  // Whatever still holds the event loop (a client that keeps a connection open) gets a moment, not forever.
  clearTimeout(deadline);
  setTimeout(() => process.exit(status), 2000).unref();
  return status;
}

/** --shed: the shed log in the state directory (read now, written on every change and before each checkpoint), and the controller's loop. */
function startSheddingOn(single: ObservedRunner, opts: RunOptions, log: (msg: string) => void): () => void {
  const engine = single.engine;
  const path = attachShedFile(opts.stateDir, engine.shedLog);
  engine.resumeShedLog();
  const open = engine.plans.filter((p) => engine.shedLog.isOpen(p.name)).map((p) => p.name);
  if (open.length) log(`still shed from before the restart: ${open.join(', ')}`);
  single.beforeCheckpoint = () => { engine.syncShedLog(); engine.shedLog.onChange?.(); };
  log(`shedding by tier on (shed past ${opts.shedLag} ms or ${opts.shedRecords} records behind, resume under ${opts.resumeLag} ms and ${opts.resumeRecords}, ${opts.shedDwell} ms dwell); intervals in ${path}`);
  return startShedding(engine, () => single.lag, { shedLagMs: opts.shedLag, resumeLagMs: opts.resumeLag, shedRecords: opts.shedRecords, resumeRecords: opts.resumeRecords, dwellMs: opts.shedDwell }, log);
}

/** --backfill D: recomputes due shed intervals from the archive on the schedule; rows go to the results topic (with the next checkpoint) and the serving store. */
function scheduleBackfill(single: ObservedRunner, catalog: Catalog, archive: ArchiveWriter | undefined, archiveDir: string, everyMs: number, serve: (p: MetricPlan, c: RowChange) => void, log: (msg: string) => void): NodeJS.Timeout {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    backfillDue(single.engine, catalog, archive, archiveDir, (p, c) => { single.publishResult(p, c); serve(p, c); })
      .then((n) => { if (n) log(`backfill: ${n} windows recomputed from the archive and published marked backfilled`); }, (err: unknown) => log(`backfill failed (will retry): ${(err as Error).message}`))
      .finally(() => { running = false; });
  }, everyMs);
  timer.unref();
  return timer;
}
