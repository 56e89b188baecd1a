/** `pitwall run`: the engine continuously over Kafka, with checkpoints and the results topic. */
import type { Command } from 'commander';
import { ArchiveWriter } from '../archive/archive-writer.js';
import { loadCatalog } from '../catalog/index.js';
import { ExecutionError } from '../errors.js';
import type { FastifyInstance } from 'fastify';
import { KafkaRunner } from '../hot/kafka-runner.js';
import { captureFinals, selfReconcile } from '../reconcile/self-reconcile.js';
import type { TokenConfig } from '../serve/auth.js';
import type { EngineHandle } from '../serve/engine-handle.js';
import type { PitwallMetrics } from '../serve/prom-metrics.js';
import { createServer } from '../serve/server.js';
import { ServingStore } from '../serve/serving-store.js';
import { loadQueries } from '../plan/index.js';
import { parseCatalogDuration } from '../util/duration.js';

export interface RunOptions {
  catalog: string; queries: string; brokers?: string; stateDir: string; group: string;
  resultsTopic: string; checkpointInterval: string; fromBeginning?: boolean; maxGroups: number; archive?: string; piiKey?: string;
  port: string; host: string; tokens?: string; cors?: string; reconcileEvery?: string;
}

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

/** Brokers from --brokers or PITWALL_BROKERS, with a clear error when neither is set. */
export function brokersFrom(flag: string | undefined): string[] {
  const value = flag ?? process.env.PITWALL_BROKERS;
  if (!value) throw new ExecutionError('PW_NO_BROKERS', 'no Kafka brokers: pass --brokers host:port[,host:port] or set PITWALL_BROKERS');
  return value.split(',').map((b) => b.trim()).filter(Boolean);
}

export function registerRunCommand(program: Command): void {
  program.command('run')
    .description('run every metric continuously over Kafka (checkpointed, exactly-once state)')
    .option('--catalog <dir>', 'catalog directory', 'catalog')
    .option('--queries <dir>', 'queries directory', 'queries')
    .option('--brokers <list>', 'Kafka bootstrap brokers (default: $PITWALL_BROKERS)')
    .option('--state-dir <dir>', 'checkpoint directory', '.pitwall/state')
    .option('--group <id>', 'consumer group id', 'pitwall')
    .option('--results-topic <topic>', 'compacted results topic', 'pitwall.results')
    .option('--checkpoint-interval <duration>', 'time between checkpoints', '5s')
    .option('--archive <dir>', 'archive accepted, quarantined and late events as Parquet under DIR')
    .option('--pii-key <key>', 'key for pii: hash fields (default: $PITWALL_PII_KEY)')
    .option('--from-beginning', 'with no committed offsets, start at the beginning of each topic')
    .option('--port <n>', 'serve the API, page and /metrics on this port (0: none)', '8080')
    .option('--host <addr>', 'listen address of the API', '127.0.0.1')
    .option('--tokens <list>', 'bearer tokens as token:scope pairs, comma-separated (scope read or admin); default: open')
    .option('--cors <origins>', 'allowed browser origins, comma-separated')
    .option('--reconcile-every <duration>', 'with --archive: recompute the archive on this schedule and expose the reconciliation in /metrics')
    .option('--max-groups <n>', 'cap on open (window, key) groups per metric', (v) => Number.parseInt(v, 10), 1_000_000)
    .action(async (opts: RunOptions) => {
      const catalog = loadCatalog(opts.catalog);
      const plans = loadQueries(opts.queries, catalog);
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
        log(`serving http://${opts.host}:${(await app.listen({ port, host: opts.host })).split(':').pop()}/`);
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
    });
}
