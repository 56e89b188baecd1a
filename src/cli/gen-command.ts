/** `pitwall gen <scenario>`: seeded scenario events to a file, stdout, or a broker topic. */
import { createWriteStream } from 'node:fs';
import { Option } from 'commander';
import type { PitwallCommand } from './pitwall-command.js';
import { ExecutionError } from '../errors.js';
import { generate, SCENARIO_STREAM, SCENARIOS, type Scenario } from '../sources/generator.js';
import { durationMs, fraction, nonNegativeInt, positiveNumber, timestampMs } from './option-values.js';
import { checkCatalogDir, openOutputFile } from './path-options.js';

/** The options of `pitwall gen`, read (durations and instants in milliseconds). */
interface GenFlags { rate: number; duration: number; out?: string; brokers?: string; catalog: string; seed: number; start?: number; duplicates: number; late: number; malformed: number }

/** Events generated at most, so a typo in --rate or --duration fails fast instead of filling memory. */
const MAX_EVENTS = 50_000_000;

/** Registers `gen`. */
export function registerGenCommand(program: PitwallCommand): void {
  program.command('gen')
    .description(`generate a scenario's events (${SCENARIOS.join(', ')}), seeded and deterministic`)
    .argument('<scenario>', SCENARIOS.join(' | '))
    .option('--rate <n>', 'mean events per second of event time', positiveNumber('--rate'), 200)
    .addOption(new Option('--duration <d>', 'event-time span (e.g. 10m)').default(60_000, '1m').argParser(durationMs('--duration', Number.MAX_SAFE_INTEGER)))
    .option('--out <file>', 'write NDJSON here (default: stdout)')
    .option('--brokers <list>', "produce to the scenario stream's topic instead")
    .option('--catalog <dir>', 'catalog (for the topic and partition key)', 'catalog')
    .option('--seed <n>', 'random seed (0 to 4294967295)', nonNegativeInt('--seed', 4_294_967_295), 42)
    .option('--start <iso>', 'event time of the first event (default: 2024-03-15T19:00:00Z)', timestampMs('--start'))
    .option('--duplicates <fraction>', 'redelivered duplicates (0 to 1)', fraction('--duplicates'), 0.03)
    .option('--late <fraction>', 'events delivered 2 minutes late (0 to 1)', fraction('--late'), 0.01)
    .option('--malformed <fraction>', 'malformed payloads (0 to 1)', fraction('--malformed'), 0.005)
    .action(async (name: string, f: GenFlags) => {
      if (!(SCENARIOS as readonly string[]).includes(name)) throw new ExecutionError('PW_BAD_OPTION', `unknown scenario '${name}'; scenarios: ${SCENARIOS.join(', ')}`);
      const scenario = name as Scenario;
      const rate = f.rate;
      const startMs = f.start ?? Date.UTC(2024, 2, 15, 19, 0, 0);
      const count = Math.max(1, Math.round((rate * f.duration) / 1000));
      if (count > MAX_EVENTS) throw new ExecutionError('PW_BAD_OPTION', `--rate ${rate} over --duration ${f.duration} ms makes ${count} events, more than ${MAX_EVENTS}; lower --rate or --duration`);
      if (f.brokers) checkCatalogDir(f.catalog);
      const fd = !f.brokers && f.out !== undefined ? openOutputFile('--out', f.out) : undefined;
      const records = generate(scenario, count, {
        seed: f.seed, startMs, ratePerSec: rate, duplicateRate: f.duplicates, lateRate: f.late, lateByMs: 120_000, malformedRate: f.malformed,
      });
      if (f.brokers) {
        const [{ Kafka, logLevel, Partitioners }, { loadCatalog }, { ensureTopics }, { sendInRequests }] = await Promise.all([
          import('kafkajs'), import('../catalog/index.js'), import('../sources/topics.js'), import('../sinks/topic-outbox.js'),
        ]);
        const stream = loadCatalog(f.catalog).streams.get(SCENARIO_STREAM[scenario]);
        if (!stream) throw new ExecutionError('PW_UNKNOWN_STREAM', `the catalog has no stream '${SCENARIO_STREAM[scenario]}' for scenario ${scenario}`);
        const kafka = new Kafka({ clientId: 'pitwall-gen', brokers: f.brokers.split(','), logLevel: logLevel.ERROR });
        await ensureTopics(kafka, [{ topic: stream.topic, partitions: stream.partitions }]);
        const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
        // In slices (bounded memory), each sent in requests below the broker's size limit.
        for (let i = 0; i < records.length; i += 2000) {
          await sendInRequests(producer, stream.topic, records.slice(i, i + 2000).map((r) => ({ key: r.key, value: r.value })));
        }
        await producer.disconnect();
        process.stderr.write(`produced ${records.length} events to ${stream.topic}\n`);
        return;
      }
      const out: NodeJS.WritableStream = fd !== undefined ? createWriteStream('', { fd }) : process.stdout;
      for (const r of records) if (!out.write(`${r.value}\n`)) await new Promise((res) => out.once('drain', res));
      if (fd !== undefined) await new Promise<void>((res) => { out.end(() => res()); });
      process.stderr.write(`${records.length} events (${records.filter((r) => r.kind === 'duplicate').length} duplicates, ${records.filter((r) => r.kind === 'late').length} late, ${records.filter((r) => r.kind === 'malformed').length} malformed)${f.out ? ` to ${f.out}` : ''}\n`);
    });
}
