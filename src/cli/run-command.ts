/**
 * `pitwall run`: the engine continuously over Kafka, with checkpoints and the results topic. The
 * options live here; the work in run-action.ts, loaded only when the command runs.
 */
import { Option } from 'commander';
import { availableParallelism } from 'node:os';
import { DEFAULT_SHED_THRESHOLDS as SHED } from '../hot/shed-controller.js';
import { durationMs, nonNegativeInt, portNumber, positiveInt } from './option-values.js';
import type { PitwallCommand } from './pitwall-command.js';

/** The options of `pitwall run`, numbers and durations already read (milliseconds). */
export interface RunOptions {
  catalog: string; queries: string; brokers?: string; stateDir: string; group: string;
  resultsTopic: string; checkpointInterval: number; fromBeginning?: boolean; maxGroups: number; maxDedupIds: number;
  archive?: string; piiKey?: string; port: number; host: string; tokens?: string; cors?: string; reconcileEvery?: number; reconcileArchive?: string;
  workers?: number; single?: boolean; partialsPrefix?: string; stateSync: 'shared' | 'changelog';
  shed?: boolean; shedLag: number; resumeLag: number; shedRecords: number; resumeRecords: number; shedDwell: number; backfill?: number;
}

/** Registers `run`. */
export function registerRunCommand(program: PitwallCommand): void {
  program.command('run')
    .description('run every metric continuously over Kafka (checkpointed, exactly-once state)')
    .option('--catalog <dir>', 'catalog directory', 'catalog')
    .option('--queries <dir>', 'queries directory', 'queries')
    .option('--brokers <list>', 'Kafka bootstrap brokers (default: $PITWALL_BROKERS)')
    .option('--state-dir <dir>', 'checkpoint directory', '.pitwall/state')
    .option('--group <id>', 'consumer group id', 'pitwall')
    .option('--results-topic <topic>', 'compacted results topic', 'pitwall.results')
    .addOption(new Option('--checkpoint-interval <duration>', 'time between checkpoints').default(5000, '5s').argParser(durationMs('--checkpoint-interval')))
    .option('--archive <dir>', 'archive accepted, quarantined and late events as Parquet under DIR')
    .option('--pii-key <key>', 'key for pii: hash fields (default: $PITWALL_PII_KEY)')
    .option('--from-beginning', 'with no committed offsets, start at the beginning of each topic')
    .option('--port <n>', 'serve the API, page and /metrics on this port (0: none)', portNumber('--port'), 8080)
    .option('--host <addr>', 'listen address of the API', '127.0.0.1')
    .option('--tokens <list>', 'bearer tokens as token:scope pairs, comma-separated (scope read or admin); default: open')
    .option('--cors <origins>', 'allowed browser origins, comma-separated')
    .option('--reconcile-every <duration>', 'with --archive: recompute the archive on this schedule and expose the reconciliation in /metrics', durationMs('--reconcile-every'))
    .option('--reconcile-archive <dir>', 'the archive --reconcile-every recomputes (default: --archive); in a group of several processes, the directory holding every process\'s --archive')
    .option('--max-groups <n>', 'cap on open (window, key) groups per metric', positiveInt('--max-groups'), 1_000_000)
    .addOption(new Option('--workers <n>', 'member threads of this process, each owning some input and partials partitions (the group spreads them over every member of every process)').argParser(positiveInt('--workers')).default(undefined, `the number of cores (${availableParallelism()} here)`))
    .option('--single', 'one thread that reads every partition itself, without partials (no other process may join the group; state directories are not interchangeable with a group\'s)')
    .addOption(new Option('--state-sync <how>', 'how partitions move between members with their state: shared (every member on this machine opens --state-dir) or changelog (compacted changelog topics written in Kafka transactions: members on any machine)').choices(['shared', 'changelog']).default('shared'))
    .option('--partials-prefix <name>', 'partials topics are <name>.<metric>.partials (default: the --group id, so `pitwall.<metric>.partials` for the default group)')
    .option('--shed', 'with --single: under load, stop computing batch metrics on the hot path, then standard ones (never critical); their windows are recorded and recomputed by backfill (README "Shedding and backfill")')
    .addOption(new Option('--shed-lag <duration>', 'event-time lag (processing time - watermark) above which --shed sheds one more tier').default(SHED.shedLagMs, '30s').argParser(durationMs('--shed-lag')))
    .addOption(new Option('--resume-lag <duration>', 'event-time lag below which (with --resume-records) a tier resumes').default(SHED.resumeLagMs, '5s').argParser(durationMs('--resume-lag')))
    .addOption(new Option('--shed-records <n>', 'consumer lag (records behind the partition ends) above which --shed sheds one more tier').default(SHED.shedRecords).argParser(nonNegativeInt('--shed-records')))
    .addOption(new Option('--resume-records <n>', 'consumer lag below which (with --resume-lag) a tier resumes').default(SHED.resumeRecords).argParser(nonNegativeInt('--resume-records')))
    .addOption(new Option('--shed-dwell <duration>', 'minimum time between two shedding steps').default(SHED.dwellMs, '30s').argParser(durationMs('--shed-dwell')))
    .option('--backfill <duration>', 'with --shed and --archive: on this schedule, recompute the windows shed metrics left incomplete from the archive and publish them marked backfilled', durationMs('--backfill'))
    .option('--max-dedup-ids <n>', 'cap on remembered event ids per stream partition (past it the oldest are forgotten, counted)', positiveInt('--max-dedup-ids'), 2_000_000)
    .action(async (opts: RunOptions) => {
      const { runAction } = await import('./run-action.js');
      return runAction(opts);
    });
}
