/** `pitwall recompute` and `pitwall reconcile`: the cold path's commands. */
import type { PitwallCommand } from './pitwall-command.js';
import { ExecutionError } from '../errors.js';
import { loadDefinitions } from './load-definitions.js';
import { checkInputDir, checkOutputDir } from './path-options.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** Registers `recompute` and `reconcile`. */
export function registerColdCommands(program: PitwallCommand): void {
  program.command('recompute')
    .description('compute every metric in DuckDB (late events included) from input files or the Parquet archive')
    .requiredOption('--catalog <dir>', 'catalog directory')
    .requiredOption('--queries <dir>', 'queries directory')
    .option('--input <stream=file>', 'input file for a stream (repeatable)', collect, [])
    .option('--archive <dir>', 'archive directory, or the directory of a group\'s archives (instead of --input)')
    .requiredOption('--out <dir>', 'output directory')
    .action(async (opts: { catalog: string; queries: string; input: string[]; archive?: string; out: string }) => {
      if ((opts.input.length > 0) === Boolean(opts.archive)) {
        throw new ExecutionError('PW_INPUT_SPEC', 'give either --input STREAM=FILE (one or more) or --archive DIR');
      }
      if (opts.archive) checkInputDir('--archive', opts.archive, 'PW_ARCHIVE_MISSING', 'pass the directory given to --archive when the events were processed');
      const { catalog, plans } = await loadDefinitions(opts);
      checkOutputDir('--out', opts.out);
      const [{ parseInputs }, { recompute }] = await Promise.all([import('../hot/replay.js'), import('../cold/recompute.js')]);
      const source = opts.archive ? { archive: opts.archive } : { inputs: parseInputs(opts.input, catalog) };
      const started = performance.now();
      const summary = await recompute(catalog, plans, source, opts.out);
      for (const [name, s] of Object.entries(summary.streams)) {
        process.stdout.write(`${name}: ${s.events} events, ${s.accepted} accepted, ${s.quarantined} quarantined, ${s.duplicates ?? "(not archived)"} duplicates, ${s.late} late\n`);
      }
      for (const [name, m] of Object.entries(summary.metrics)) process.stdout.write(`  ${name}: ${m.rows} rows\n`);
      process.stdout.write(`wrote ${opts.out} in ${((performance.now() - started) / 1000).toFixed(2)}s\n`);
    });

  program.command('reconcile')
    .description('compare hot results with the cold recomputation; exits 1 on any unexplained difference')
    .requiredOption('--catalog <dir>', 'catalog directory')
    .requiredOption('--queries <dir>', 'queries directory')
    .requiredOption('--hot <dir>', 'hot results (pitwall replay --out)')
    .requiredOption('--cold <dir>', 'cold results (pitwall recompute --out)')
    .option('--format <format>', 'table or json', 'table')
    .option('--pii-key <key>', 'the archive\'s key for pii: hash fields (default: $PITWALL_PII_KEY)')
    .action(async (opts: { catalog: string; queries: string; hot: string; cold: string; format: string; piiKey?: string }) => {
      if (opts.format !== 'table' && opts.format !== 'json') throw new ExecutionError('PW_BAD_OPTION', `--format '${opts.format}': use table or json`);
      checkInputDir('--hot', opts.hot, 'PW_RECONCILE_INPUT', 'pass the --out directory of pitwall replay');
      checkInputDir('--cold', opts.cold, 'PW_RECONCILE_INPUT', 'pass the --out directory of pitwall recompute');
      const { plans } = await loadDefinitions(opts);
      const { formatReconciliation, reconcile } = await import('../reconcile/reconcile.js');
      const r = reconcile(plans, opts.hot, opts.cold, opts.piiKey ?? process.env.PITWALL_PII_KEY);
      process.stdout.write(opts.format === 'json' ? `${JSON.stringify(r, null, 2)}\n` : `${formatReconciliation(r)}\n`);
      return r.unexplained > 0 ? 1 : 0;
    });
}
