/**
 * `pitwall backfill`: the windows metrics were shed from, recomputed from the archive and
 * published to the results topic marked backfilled (README "Shedding and backfill"). For an
 * engine that is stopped; a running one backfills itself with `pitwall run --backfill D`.
 */
import type { PitwallCommand } from './pitwall-command.js';
import { ExecutionError } from '../errors.js';
import { brokersFrom } from './brokers.js';
import { loadDefinitions, withoutLookupJoins } from './load-definitions.js';
import { checkInputDir } from './path-options.js';

interface BackfillOptions { catalog: string; queries: string; stateDir: string; archive: string; brokers?: string; resultsTopic: string; dryRun?: boolean }

/** Registers `backfill`. */
export function registerBackfillCommand(program: PitwallCommand): void {
  program.command('backfill')
    .description('recompute the windows shed metrics left incomplete (pitwall run --shed) from the archive, publish them marked backfilled, and mark their intervals done')
    .option('--catalog <dir>', 'catalog directory', 'catalog')
    .option('--queries <dir>', 'queries directory', 'queries')
    .option('--state-dir <dir>', 'the state directory of the pitwall run that shed (holds shed-intervals.json)', '.pitwall/state')
    .requiredOption('--archive <dir>', 'the archive of that run (pitwall run --archive)')
    .option('--brokers <list>', 'Kafka bootstrap brokers (default: $PITWALL_BROKERS)')
    .option('--results-topic <topic>', 'compacted results topic', 'pitwall.results')
    .option('--dry-run', 'list the intervals and windows without publishing or marking anything')
    .action(async (opts: BackfillOptions) => backfillAction(opts));
}

async function backfillAction(opts: BackfillOptions): Promise<number> {
  checkInputDir('--state-dir', opts.stateDir, 'PW_BAD_OPTION', 'pass the --state-dir of the pitwall run that shed');
  checkInputDir('--archive', opts.archive, 'PW_ARCHIVE_MISSING', 'pass the directory given to pitwall run --archive');
  const { catalog, plans } = withLoaded(await loadDefinitions(opts));
  const brokers = opts.dryRun ? [] : brokersFrom(opts.brokers);
  const [{ ShedLog }, { readShedFile, writeShedFile, SHED_FILE }, { backfillWindows }, { backfillChanges }] = await Promise.all([
    import('../hot/shed-log.js'), import('../state/shed-file.js'), import('../cold/backfill.js'), import('../hot/backfill-changes.js'),
  ]);
  const stored = readShedFile(opts.stateDir);
  const log = new ShedLog();
  if (stored) log.load(stored);
  const pending = log.pending().filter((i) => plans.some((p) => p.name === i.metric));
  const open = plans.filter((p) => log.isOpen(p.name)).map((p) => p.name);
  if (open.length) process.stdout.write(`still shed (interval open, backfilled once it closes): ${open.join(', ')}\n`);
  if (pending.length === 0) {
    process.stdout.write(`nothing to backfill in ${opts.stateDir}/${SHED_FILE}\n`);
    return 0;
  }
  const done = await backfillWindows(catalog, plans, { archive: opts.archive }, pending.map((i) => ({ id: i.id, metric: i.metric, fromMs: i.fromMs, toMs: i.toMs as number })));
  for (const d of done) {
    const windows = d.done.reduce((n, x) => n + x.windows, 0);
    process.stdout.write(`${d.plan.name}: ${d.done.length} interval(s), ${windows} windows, ${d.rows.length} rows${opts.dryRun ? ' (dry run)' : ''}\n`);
  }
  if (opts.dryRun) return 0;
  const [{ Kafka, logLevel }, { ResultsTopicSink }] = await Promise.all([import('kafkajs'), import('../sinks/results-topic.js')]);
  const producer = new Kafka({ clientId: 'pitwall-backfill', brokers, logLevel: logLevel.ERROR }).producer({ idempotent: true });
  await producer.connect();
  try {
    const sink = new ResultsTopicSink(producer, opts.resultsTopic);
    for (const d of done) {
      const toChange = backfillChanges(d.plan);
      for (const row of d.rows) {
        sink.write(d.plan, toChange(row));
        await sink.relieve();
      }
    }
    await sink.flush();
  } finally {
    await producer.disconnect();
  }
  // Marked done only once the broker acknowledged every row: a failure above leaves them pending for the next run.
  log.markBackfilled(done.flatMap((d) => d.done), Date.now());
  writeShedFile(`${opts.stateDir}/${SHED_FILE}`, log);
  process.stdout.write(`published to ${opts.resultsTopic} marked backfilled; intervals marked done in ${opts.stateDir}/${SHED_FILE}\n`);
  return 0;
}

function withLoaded(loaded: Awaited<ReturnType<typeof loadDefinitions>>): { catalog: typeof loaded.catalog; plans: typeof loaded.plans } {
  const { plans } = withoutLookupJoins(loaded.plans);
  if (plans.length === 0) throw new ExecutionError('PW_BAD_OPTION', 'no metrics to backfill in --queries');
  return { catalog: loaded.catalog, plans };
}
