/** `pitwall validate`: checks the whole catalog and every metric, listing all errors. */
import { fieldsRead, versionReads, type MetricPlan } from '../plan/index.js';
import type { PitwallCommand } from './pitwall-command.js';
import { loadDefinitions } from './load-definitions.js';

/**
 * For a metric over a stream with catalog `versions`: the fields it reads, then one line per
 * version saying where that version carries each of them (`declared ← where`), which it lacks
 * (`reads NULL`), and that the others are where declared. Nothing for other streams.
 */
export function versionLines(plan: MetricPlan): string[] {
  const versions = plan.stream.versions;
  if (!versions) return [];
  const missing = versions.missing ? `, version ${versions.missing.version} when absent` : '';
  const lines = [`    reads ${fieldsRead(plan).join(', ')}; by version (${versions.field}${missing}):`];
  for (const v of versionReads(plan)) {
    const moved = v.fields.filter((f) => f.from !== f.field).map((f) => (f.from === null ? `${f.field} reads NULL` : `${f.field} ← ${f.from}`));
    const rest = moved.length === 0 ? 'all where declared' : moved.length < v.fields.length ? 'others where declared' : undefined;
    lines.push(`      ${String(v.version).padEnd(4)} ${[...moved, ...(rest ? [rest] : [])].join('; ')}`);
  }
  return lines;
}

/** Registers `validate`. */
export function registerValidateCommand(program: PitwallCommand): void {
  program.command('validate')
    .description('check every catalog file and every metric; exits non-zero listing all errors; shows where each catalog version carries the fields a metric reads')
    .option('--catalog <dir>', 'catalog directory', 'catalog')
    .option('--queries <dir>', 'queries directory', 'queries')
    .action(async (opts: { catalog: string; queries: string }) => {
      const { catalog, plans } = await loadDefinitions(opts);
      const streams = [...catalog.streams.values()];
      process.stdout.write(`ok: ${streams.length} catalog entries (${streams.filter((s) => s.kind === 'stream').length} streams), ${plans.length} metrics\n`);
      for (const p of plans) {
        process.stdout.write(`  ${p.name.padEnd(28)} ${p.stream.name.padEnd(14)} emit=${p.emit.padEnd(16)} tier=${p.tier.padEnd(9)} hash=${p.hash}\n`);
        for (const line of versionLines(p)) process.stdout.write(`${line}\n`);
      }
    });
}
