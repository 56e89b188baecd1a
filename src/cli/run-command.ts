/**
 * `pitwall run`: the engine continuously over Kafka, with checkpoints and the results topic. The
 * options live here; the work in run-action.ts, loaded only when the command runs.
 */
import type { Command } from 'commander';

export interface RunOptions {
  catalog: string; queries: string; brokers?: string; stateDir: string; group: string;
  resultsTopic: string; checkpointInterval: string; fromBeginning?: boolean; maxGroups: number; archive?: string; piiKey?: string;
  port: string; host: string; tokens?: string; cors?: string; reconcileEvery?: string;
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
      const { runAction } = await import('./run-action.js');
      await runAction(opts);
    });
}
