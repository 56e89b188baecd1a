/** `pitwall demo`: the live demo on an embedded engine (no broker), or through a real broker. */
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PitwallCommand } from './pitwall-command.js';
import { loadDefinitions, lookupJoinWarning, withoutExternalLookups, withoutLookupJoins } from './load-definitions.js';
import { durationMs, portNumber, positiveNumber } from './option-values.js';
import { checkOutputDir } from './path-options.js';

/** The package's own sample catalog and queries, wherever pitwall is run from. */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface DemoFlags { port: number; host: string; catalog: string; queries: string; rate: number; duration?: number; out: string; piiKey?: string; brokers?: string }

/** Registers `demo`. */
export function registerDemoCommand(program: PitwallCommand): void {
  program.command('demo')
    .description('live demo: generated events through the hot path, archive, API and pit-wall page on localhost')
    .option('--port <n>', 'HTTP port (0: any free port)', portNumber('--port'), 8080)
    .option('--host <addr>', 'listen address', '127.0.0.1')
    .option('--catalog <dir>', 'catalog directory', join(PACKAGE_ROOT, 'catalog'))
    .option('--queries <dir>', 'queries directory', join(PACKAGE_ROOT, 'queries'))
    .option('--rate <n>', 'mean events per second per scenario', positiveNumber('--rate'), 300)
    .option('--duration <d>', 'stop by itself after this long (e.g. 30s); default: until Ctrl-C', durationMs('--duration'))
    .option('--out <dir>', 'where the archive and the results of this run go', join('.pitwall', 'demo', new Date().toISOString().replace(/[:.]/g, '-')))
    .option('--brokers <list>', 'run through a real broker: producer → topics → engine (default: embedded, no broker)')
    .option('--pii-key <key>', 'key for pii: hash fields (default: $PITWALL_PII_KEY, else a demo key)')
    .action(async (flags: DemoFlags) => {
      const { port, rate, duration } = flags;
      const loaded = await loadDefinitions(flags);
      const { catalog } = loaded;
      // Through a broker the engine is `pitwall run`'s (KafkaRunner), which reads no reference tables.
      // Embedded, external lookups are left out (only replay runs the enrichment stage yet).
      const { plans, joined } = flags.brokers ? withoutLookupJoins(loaded.plans) : withoutExternalLookups(loaded.plans);
      for (const p of joined) process.stderr.write(`pitwall: ${lookupJoinWarning(p)}\n`);
      const outExisted = existsSync(flags.out);
      checkOutputDir('--out', flags.out);
      const piiKey = flags.piiKey ?? process.env.PITWALL_PII_KEY ?? 'pitwall-demo-key-not-for-production';
      const options = { catalog, plans, outDir: flags.out, port, host: flags.host, rate, piiKey };
      const demo = flags.brokers
        ? new (await import('../demo/broker-demo.js')).BrokerDemo({ ...options, brokers: flags.brokers.split(',') })
        : new (await import('../demo/embedded-demo.js')).EmbeddedDemo({ ...options, definitions: { catalog: flags.catalog, queries: flags.queries } });
      await demo.start().catch((err: unknown) => {
        if (!outExisted) rmSync(flags.out, { recursive: true, force: true }); // nothing ran: leave no empty run behind
        throw err;
      });
      const tty = process.stderr.isTTY;
      process.stdout.write(`pitwall demo${flags.brokers ? ` through ${flags.brokers}` : ''}: ${plans.length} metrics live at ${demo.url}  (Ctrl-C to stop)\n`);
      const status = setInterval(() => {
        const s = demo.status();
        const line = `events/s ${Math.round(s.ratePerSec).toString().padStart(5)} | events ${s.events} | lag ${s.lag} | late ${s.late} | quarantined ${s.quarantined} | duplicates ${s.duplicates} | ${demo.url}`;
        process.stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
      }, tty ? 1000 : 5000);
      // Ctrl-C, a kill, or the terminal closing (SIGHUP) all end the run the same way: every
      // window closed, results and archive written. A second signal while stopping is ignored.
      const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
      const ignore = (): void => undefined;
      const stopBy = await new Promise<string>((resolve) => {
        for (const sig of signals) process.once(sig, () => resolve(sig));
        if (duration) setTimeout(() => resolve('duration'), duration).unref();
      });
      for (const sig of signals) process.on(sig, ignore);
      if (stopBy === 'SIGHUP') { process.stdout.on('error', ignore); process.stderr.on('error', ignore); } // the terminal may be gone
      clearInterval(status);
      const { hotDir, archiveDir } = await demo.stop();
      const rel = (p: string): string => relative(process.cwd(), p) || '.';
      const cold = join(dirname(hotDir), 'cold');
      const cat = rel(flags.catalog);
      const q = rel(flags.queries);
      // The archive holds pii: hash fields hashed with this run's key; reconcile needs the same key.
      const keyFlag = process.env.PITWALL_PII_KEY && !flags.piiKey ? '' : ` --pii-key '${piiKey}'`;
      process.stdout.write(`\nstopped. ${demo.archive.stats.events} events archived under ${rel(archiveDir)}; hot results in ${rel(hotDir)}.\nreconcile this run:\n`
        + `  npx pitwall recompute --catalog ${cat} --queries ${q} --archive ${rel(archiveDir)} --out ${rel(cold)} && npx pitwall reconcile --catalog ${cat} --queries ${q} --hot ${rel(hotDir)} --cold ${rel(cold)}${keyFlag}\n`);
    });
}
