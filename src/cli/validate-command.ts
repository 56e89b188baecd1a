/** `pitwall validate`: checks the whole catalog and every metric, listing all errors. */
import type { PitwallCommand } from './pitwall-command.js';
import { loadDefinitions } from './load-definitions.js';

/** Registers `validate`. */
export function registerValidateCommand(program: PitwallCommand): void {
  program.command('validate')
    .description('check every catalog file and every metric; exits non-zero listing all errors')
    .option('--catalog <dir>', 'catalog directory', 'catalog')
    .option('--queries <dir>', 'queries directory', 'queries')
    .action(async (opts: { catalog: string; queries: string }) => {
      const { catalog, plans } = await loadDefinitions(opts);
      const streams = [...catalog.streams.values()];
      process.stdout.write(`ok: ${streams.length} catalog entries (${streams.filter((s) => s.kind === 'stream').length} streams), ${plans.length} metrics\n`);
      for (const p of plans) process.stdout.write(`  ${p.name.padEnd(28)} ${p.stream.name.padEnd(14)} emit=${p.emit.padEnd(16)} hash=${p.hash}\n`);
    });
}
