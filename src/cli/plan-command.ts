/** `pitwall plan <file.sql>`: the logical plan, the hot operator pipeline and the DuckDB SQL. */
import type { PitwallCommand } from './pitwall-command.js';
import type { MetricPlan } from '../plan/index.js';
import { checkCatalogDir, checkInputFile, checkQueriesDir } from './path-options.js';

/** The three parts `pitwall plan` prints for one metric. */
export async function renderPlan(plan: MetricPlan): Promise<string> {
  const [{ compileDuckDb }, { describeHotPipeline }, { explainPlan }] = await Promise.all([
    import('../cold/index.js'), import('../hot/describe-pipeline.js'), import('../plan/index.js'),
  ]);
  const compiled = compileDuckDb(plan);
  const params = compiled.parameters.map((p, i) => `--   $${i + 1} = ${JSON.stringify(p)}`);
  return [
    `== ${plan.name} (${plan.file}) ==`,
    '-- logical plan',
    explainPlan(plan),
    '-- hot path',
    ...describeHotPipeline(plan).map((op, i) => `  ${i === 0 ? '  ' : '->'} ${op}`),
    '-- DuckDB SQL (over the canonical events relation)',
    compiled.sql + ';',
    ...(params.length ? ['-- parameters:', ...params] : []),
    '',
  ].join('\n');
}

/** Registers `plan`. */
export function registerPlanCommand(program: PitwallCommand): void {
  program.command('plan')
    .description('print the logical plan, the hot-path operators and the DuckDB SQL of a metric')
    .argument('[file.sql]', 'metric file (CREATE VIEW … AS SELECT …)')
    .option('--catalog <dir>', 'catalog directory', 'catalog')
    .option('--queries <dir>', 'queries directory (with --all)', 'queries')
    .option('--all', 'plan every metric of --queries')
    .action(async (file: string | undefined, opts: { catalog: string; queries: string; all?: boolean }) => {
      if (!file && !opts.all) {
        program.error('pitwall plan: give a metric file, or --all for every metric in --queries');
      }
      checkCatalogDir(opts.catalog);
      if (file) checkInputFile('metric file', file, 'PW_BAD_OPTION', 'pass a .sql file with one CREATE VIEW');
      else checkQueriesDir(opts.queries);
      const [{ loadCatalog }, { loadQueries, planFile }] = await Promise.all([import('../catalog/index.js'), import('../plan/index.js')]);
      const catalog = loadCatalog(opts.catalog);
      const plans = file ? [planFile(file, catalog)] : loadQueries(opts.queries, catalog);
      process.stdout.write((await Promise.all(plans.map(renderPlan))).join('\n'));
    });
}
