/** `pitwall gen <scenario>`: seeded scenario events to a file, stdout, or a broker topic. */
import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { ExecutionError } from '../errors.js';
import { generate, SCENARIO_STREAM, SCENARIOS, type Scenario } from '../sources/generator.js';
import { parseCatalogDuration } from '../util/duration.js';

interface GenFlags { rate: string; duration: string; out?: string; brokers?: string; catalog: string; seed: string; start?: string; duplicates: string; late: string; malformed: string }

export function registerGenCommand(program: Command): void {
  program.command('gen')
    .description(`generate a scenario's events (${SCENARIOS.join(', ')}), seeded and deterministic`)
    .argument('<scenario>', SCENARIOS.join(' | '))
    .option('--rate <n>', 'mean events per second of event time', '200')
    .option('--duration <d>', 'event-time span (e.g. 10m)', '1m')
    .option('--out <file>', 'write NDJSON here (default: stdout)')
    .option('--brokers <list>', "produce to the scenario stream's topic instead")
    .option('--catalog <dir>', 'catalog (for the topic and partition key)', 'catalog')
    .option('--seed <n>', 'random seed', '42')
    .option('--start <iso>', 'event time of the first event (default: 2024-03-15T19:00:00Z)')
    .option('--duplicates <fraction>', 'redelivered duplicates', '0.03')
    .option('--late <fraction>', 'events delivered 2 minutes late', '0.01')
    .option('--malformed <fraction>', 'malformed payloads', '0.005')
    .action(async (name: string, f: GenFlags) => {
      if (!(SCENARIOS as readonly string[]).includes(name)) throw new ExecutionError('PW_BAD_OPTION', `unknown scenario '${name}'; scenarios: ${SCENARIOS.join(', ')}`);
      const scenario = name as Scenario;
      const durationMs = parseCatalogDuration(f.duration);
      const rate = Number(f.rate);
      if (!durationMs || !(rate > 0)) throw new ExecutionError('PW_BAD_OPTION', '--rate must be positive and --duration a duration like 10m');
      const startMs = f.start ? Date.parse(f.start) : Date.UTC(2024, 2, 15, 19, 0, 0);
      const count = Math.max(1, Math.round((rate * durationMs) / 1000));
      const records = generate(scenario, count, {
        seed: Number(f.seed), startMs, ratePerSec: rate, duplicateRate: Number(f.duplicates), lateRate: Number(f.late), lateByMs: 120_000, malformedRate: Number(f.malformed),
      });
      if (f.brokers) {
        const [{ Kafka, logLevel, Partitioners }, { loadCatalog }, { ensureTopics }] = await Promise.all([
          import('kafkajs'), import('../catalog/index.js'), import('../sources/topics.js'),
        ]);
        const stream = loadCatalog(f.catalog).streams.get(SCENARIO_STREAM[scenario]);
        if (!stream) throw new ExecutionError('PW_UNKNOWN_STREAM', `the catalog has no stream '${SCENARIO_STREAM[scenario]}' for scenario ${scenario}`);
        const kafka = new Kafka({ clientId: 'pitwall-gen', brokers: f.brokers.split(','), logLevel: logLevel.ERROR });
        await ensureTopics(kafka, [{ topic: stream.topic, partitions: stream.partitions }]);
        const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
        for (let i = 0; i < records.length; i += 2000) {
          await producer.send({ topic: stream.topic, acks: -1, messages: records.slice(i, i + 2000).map((r) => ({ key: r.key, value: r.value })) });
        }
        await producer.disconnect();
        process.stderr.write(`produced ${records.length} events to ${stream.topic}\n`);
        return;
      }
      const out: NodeJS.WritableStream = f.out ? createWriteStream(f.out) : process.stdout;
      for (const r of records) if (!out.write(`${r.value}\n`)) await new Promise((res) => out.once('drain', res));
      if (f.out) await new Promise<void>((res) => { out.end(() => res()); });
      process.stderr.write(`${records.length} events (${records.filter((r) => r.kind === 'duplicate').length} duplicates, ${records.filter((r) => r.kind === 'late').length} late, ${records.filter((r) => r.kind === 'malformed').length} malformed)${f.out ? ` to ${f.out}` : ''}\n`);
    });
}
