/** `pitwall replay`: the hot-path operators over files, final rows per metric. */
import type { PitwallCommand } from './pitwall-command.js';
import type { ArchiveWriter } from '../archive/archive-writer.js';
import { loadDefinitions } from './load-definitions.js';
import { positiveInt } from './option-values.js';
import { checkOutputDir } from './path-options.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** Registers `replay`. */
export function registerReplayCommand(program: PitwallCommand): void {
  program.command('replay')
    .description('run the hot-path operators over NDJSON/Parquet files and write final rows per metric')
    .requiredOption('--catalog <dir>', 'catalog directory')
    .requiredOption('--queries <dir>', 'queries directory')
    .requiredOption('--input <stream=file>', 'input file for a stream or reference table (repeatable, read in order; tables first)', collect, [])
    .requiredOption('--out <dir>', 'output directory')
    .option('--archive <dir>', 'also archive accepted, quarantined and late events as Parquet under DIR')
    .option('--pii-key <key>', 'key for pii: hash fields (default: $PITWALL_PII_KEY)')
    .option('--max-groups <n>', 'cap on open (window, key) groups per metric', positiveInt('--max-groups'), 1_000_000)
    .option('--max-dedup-ids <n>', 'cap on remembered event ids per stream partition (past it the oldest are forgotten, counted)', positiveInt('--max-dedup-ids'), 2_000_000)
    .action(async (opts: { catalog: string; queries: string; input: string[]; out: string; maxGroups: number; maxDedupIds: number; archive?: string; piiKey?: string }) => {
      const { catalog, plans } = await loadDefinitions(opts);
      const [{ parseInputs, replay }, { ArchiveWriter }] = await Promise.all([import('../hot/replay.js'), import('../archive/archive-writer.js')]);
      const inputs = parseInputs(opts.input, catalog);
      checkOutputDir('--out', opts.out);
      if (opts.archive) checkOutputDir('--archive', opts.archive);
      const started = performance.now();
      let archive: ArchiveWriter | undefined;
      if (opts.archive) {
        archive = new ArchiveWriter(opts.archive, catalog, { piiKey: opts.piiKey ?? process.env.PITWALL_PII_KEY });
        archive.open();
      }
      const summary = await replay(catalog, plans, inputs, opts.out, { maxGroups: opts.maxGroups, maxDedupIds: opts.maxDedupIds, ...(archive ? { archive } : {}) }).catch(async (err: unknown) => {
        await archive?.close().catch(() => undefined); // its writer thread would keep the process alive
        throw err;
      });
      await archive?.close();
      if (archive) process.stdout.write(`archived ${archive.stats.events} events, ${archive.stats.quarantined} quarantined, ${archive.stats.late} late pairs in ${archive.stats.segments} segments (${archive.stats.bytes} bytes) under ${opts.archive}${archive.stats.skipped ? `; ${archive.stats.skipped} already archived` : ''}\n`);
      const secs = (performance.now() - started) / 1000;
      for (const [name, s] of Object.entries(summary.streams)) {
        const evicted = s.dedupEvicted ? `, ${s.dedupEvicted} event ids forgotten at the dedup cap (raise --max-dedup-ids)` : '';
        process.stdout.write(`${name}: ${s.events} events, ${s.accepted} accepted, ${s.quarantined} quarantined, ${s.duplicates} duplicates, ${s.late} late${evicted}\n`);
      }
      for (const [name, m] of Object.entries(summary.metrics)) {
        process.stdout.write(`  ${name}: ${m.rows} rows${m.late ? `, ${m.late} late pairs` : ''}${m.overflow ? `, ${m.overflow} OVERFLOW (raise --max-groups)` : ''}${m.joinMisses ? `, ${m.joinMisses} join misses` : ''}\n`);
      }
      for (const [name, t] of Object.entries(summary.tables ?? {})) {
        const outcomes = Object.entries(t.streams).map(([s, x]) => `${s}: ${x.applied} applied, ${x.late} late${x.overflow ? `, ${x.overflow} OVERFLOW (raise max_versions)` : ''}`).join('; ');
        process.stdout.write(`${name} (table): ${t.records} changes, ${t.quarantined} quarantined; ${outcomes}\n`);
      }
      process.stdout.write(`wrote ${opts.out} in ${secs.toFixed(2)}s\n`);
    });
}
