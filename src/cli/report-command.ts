/** `pitwall report` (metrics over the archive as Parquet, CSV and one HTML page) and `pitwall sql` (ad-hoc SQL over the archive). */
import { existsSync } from 'node:fs';
import type { PitwallCommand } from './pitwall-command.js';
import { ExecutionError } from '../errors.js';
import { SQL_FORMATS, type SqlFormat } from '../report/sql-formats.js';
import { loadDefinitions } from './load-definitions.js';
import { checkCatalogDir, checkInputDir, checkOutputDir } from './path-options.js';

const ARCHIVE_FIX = 'pass the directory given to --archive when the events were processed';

/** Registers `report` and `sql`. */
export function registerReportCommands(program: PitwallCommand): void {
  program.command('report')
    .description('recompute every metric over the whole archive; write <metric>.parquet, <metric>.csv and a self-contained report.html; with --hot, exits 1 on any unexplained difference')
    .requiredOption('--archive <dir>', 'archive directory (replay/run --archive), or the directory of a group\'s archives')
    .option('--catalog <dir>', 'catalog directory', 'catalog')
    .option('--queries <dir>', 'queries directory', 'queries')
    .option('--hot <dir>', 'hot results (pitwall replay --out) to reconcile against and take duplicate counts from')
    .option('--pii-key <key>', 'the archive\'s key for pii: hash fields, to reconcile hashed keys (default: $PITWALL_PII_KEY)')
    .requiredOption('--out <dir>', 'output directory (the recomputation itself goes to <out>/cold)')
    .action(async (opts: { archive: string; catalog: string; queries: string; hot?: string; piiKey?: string; out: string }) => {
      checkInputDir('--archive', opts.archive, 'PW_ARCHIVE_MISSING', ARCHIVE_FIX);
      if (opts.hot !== undefined) checkInputDir('--hot', opts.hot, 'PW_RECONCILE_INPUT', 'pass the --out directory of pitwall replay');
      const { catalog, plans } = await loadDefinitions(opts);
      checkOutputDir('--out', opts.out);
      const { buildReport } = await import('../report/build-report.js');
      const started = performance.now();
      const r = await buildReport(catalog, plans, { archive: opts.archive, out: opts.out, hot: opts.hot, piiKey: opts.piiKey ?? process.env.PITWALL_PII_KEY });
      for (const s of r.streams) {
        process.stdout.write(`${s.stream}: ${s.events} events archived, ${s.accepted} accepted, ${s.quarantined} quarantined, ${s.duplicates ?? 'unknown'} duplicates, ${s.lateEvents} late\n`);
      }
      for (const m of r.metrics) process.stdout.write(`  ${m.name}: ${m.rows} rows\n`);
      if (r.reconciliation) {
        process.stdout.write(`reconciliation: ${r.reconciliation.unexplained === 0 ? 'ok' : `${r.reconciliation.unexplained} unexplained difference(s)`}\n`);
        for (const c of r.reconciliation.causes) process.stdout.write(`  ${r.reconciliation.unexplained === 0 ? 'note' : 'possible cause'}: ${c.message}\n`);
      }
      process.stdout.write(`wrote ${r.html} in ${((performance.now() - started) / 1000).toFixed(2)}s\n`);
      // The report is written either way; the status says whether anything was left unexplained, as reconcile's does.
      return r.reconciliation && r.reconciliation.unexplained > 0 ? 1 : 0;
    });

  program.command('sql')
    .description('run ad-hoc SQL over the archive: each stream is a view (raw nested columns), plus <stream>_quarantine and <stream>_late')
    .argument('<query>', 'the SQL, e.g. "SELECT data.restaurantId, count(*) FROM orders GROUP BY ALL"')
    .requiredOption('--archive <dir>', 'archive directory (replay/run --archive), or the directory of a group\'s archives')
    .option('--catalog <dir>', 'catalog directory: streams with nothing archived become empty views (default: ./catalog when it exists)')
    .option('--format <format>', `output format: ${SQL_FORMATS.join(', ')}`, 'table')
    .action(async (query: string, opts: { archive: string; catalog?: string; format: string }) => {
      if (!(SQL_FORMATS as readonly string[]).includes(opts.format)) throw new ExecutionError('PW_BAD_OPTION', `--format '${opts.format}': use ${SQL_FORMATS.join(', ')}`);
      checkInputDir('--archive', opts.archive, 'PW_ARCHIVE_MISSING', ARCHIVE_FIX);
      if (opts.catalog !== undefined) checkCatalogDir(opts.catalog);
      const catalogDir = opts.catalog ?? (existsSync('catalog') ? 'catalog' : undefined);
      const [{ runArchiveSql }, { formatResult }, { loadCatalog }] = await Promise.all([
        import('../report/archive-sql.js'), import('../report/format-results.js'), import('../catalog/index.js'),
      ]);
      const result = await runArchiveSql(opts.archive, query, catalogDir ? loadCatalog(catalogDir) : undefined);
      process.stdout.write(`${formatResult(result, opts.format as SqlFormat)}\n`);
    });
}
