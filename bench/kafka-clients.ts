/**
 * (c3) The Kafka client behind the source: kafkajs (what `src/sources/kafka-source.ts` uses) vs
 * @platformatic/kafka (pure JS) vs @confluentinc/kafka-javascript (librdkafka), consuming the
 * same 3-partition topic. Each consumer is in a fresh group from the earliest offset, with the
 * source's fetch sizes and no auto-commit, and decodes every value to a string as the source
 * does; events/s runs from the first message to the N-th. Side by side, alternating, the better
 * of 2 runs each. The other clients are not dependencies: they are imported by a computed name
 * and their rows say "not installed" when absent (`npm install --no-save <name>` to measure).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { fillBenchTopic } from './bench-topic.js';
import { gc, type Figure } from './common.js';

const COMMAND = '`npm run bench -- c3`';
/** As `src/sources/kafka-source.ts` asks kafkajs for. */
const MAX_BYTES_PER_PARTITION = 1 << 20;
const MAX_BYTES = 8 << 20;
const TIMEOUT_MS = 300_000;

/** What one consumer run saw: seconds from the first message to the N-th, and the decoded characters. */
interface Run { readonly secs: number; readonly chars: number }

interface Client {
  readonly name: string;
  readonly version: string;
  consume(brokers: string, topic: string, n: number): Promise<Run>;
}

/** Counts messages (decoding each value as the source does) and resolves at the N-th. */
class Tally {
  count = 0;
  chars = 0;
  first = 0;
  readonly done: Promise<number>;
  #resolve: (end: number) => void = () => undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly n: number, what: string) {
    this.done = new Promise<number>((resolve, reject) => {
      this.#resolve = resolve;
      this.#timer = setTimeout(() => reject(new Error(`bench c3: ${what} saw ${this.count} of ${n} events after ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    });
  }

  add(value: Buffer | null | undefined): void {
    if (this.count === 0) this.first = performance.now();
    if (value) this.chars += value.toString('utf8').length;
    if (++this.count === this.n) {
      clearTimeout(this.#timer);
      this.#resolve(performance.now());
    }
  }

  async run(): Promise<Run> {
    const end = await this.done;
    return { secs: (end - this.first) / 1000, chars: this.chars };
  }
}

function installedVersion(name: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(process.cwd(), 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

const kafkajs: Client = {
  name: 'kafkajs',
  version: installedVersion('kafkajs') ?? '?',
  async consume(brokers, topic, n) {
    const tally = new Tally(n, 'kafkajs');
    const kafka = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `c3-kafkajs-${Date.now()}`, maxBytesPerPartition: MAX_BYTES_PER_PARTITION, maxBytes: MAX_BYTES });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatch: async ({ batch }) => { for (const m of batch.messages) tally.add(m.value); } });
      return await tally.run();
    } finally {
      await consumer.disconnect();
    }
  },
};

/** The part of @platformatic/kafka's API this bench uses (it is not a dependency, so no types). */
interface PlatformaticModule {
  Consumer: new (options: {
    groupId: string; clientId: string; bootstrapBrokers: string[]; autocommit: boolean;
    maxBytesPerPartition: number; maxBytes: number;
  }) => {
    consume(options: { topics: string[]; mode: 'committed'; fallbackMode: 'earliest' }): Promise<{
      on(event: 'data', listener: (message: { value: Buffer | null | undefined }) => void): unknown;
      on(event: 'error', listener: (error: Error) => void): unknown;
      close(): Promise<void>;
    }>;
    close(force?: boolean): Promise<void>;
  };
}

function platformatic(mod: PlatformaticModule, version: string): Client {
  return {
    name: '@platformatic/kafka',
    version,
    async consume(brokers, topic, n) {
      const tally = new Tally(n, '@platformatic/kafka');
      const consumer = new mod.Consumer({
        groupId: `c3-platformatic-${Date.now()}`, clientId: 'pitwall-bench', bootstrapBrokers: [brokers], autocommit: false,
        maxBytesPerPartition: MAX_BYTES_PER_PARTITION, maxBytes: MAX_BYTES,
      });
      try {
        // The source's semantics: resume from the group's committed offsets, else from the earliest.
        const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest' });
        const failed = new Promise<never>((_, reject) => { stream.on('error', reject); });
        stream.on('data', (message) => tally.add(message.value));
        const run = await Promise.race([tally.run(), failed]);
        await stream.close();
        return run;
      } finally {
        await consumer.close(true);
      }
    },
  };
}

/** The part of @confluentinc/kafka-javascript's KafkaJS-compatible API this bench uses. */
interface ConfluentKafkaJS {
  Kafka: new (config: { kafkaJS: { brokers: string[]; logLevel: number } }) => {
    consumer(config: { kafkaJS: { groupId: string; fromBeginning: boolean; autoCommit: boolean } }): {
      connect(): Promise<void>;
      subscribe(options: { topics: string[] }): Promise<void>;
      run(options: { eachBatch: (payload: { batch: { messages: { value: Buffer | null }[] } }) => Promise<void> }): Promise<void>;
      disconnect(): Promise<void>;
    };
  };
}

function confluent(api: ConfluentKafkaJS, version: string): Client {
  return {
    name: '@confluentinc/kafka-javascript',
    version,
    async consume(brokers, topic, n) {
      const tally = new Tally(n, '@confluentinc/kafka-javascript');
      const kafka = new api.Kafka({ kafkaJS: { brokers: [brokers], logLevel: 0 } });
      const consumer = kafka.consumer({ kafkaJS: { groupId: `c3-confluent-${Date.now()}`, fromBeginning: true, autoCommit: false } });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic] });
        await consumer.run({ eachBatch: async ({ batch }) => { for (const m of batch.messages) tally.add(m.value); } });
        return await tally.run();
      } finally {
        await consumer.disconnect();
      }
    },
  };
}

/** Imports a package that may be absent; the name is a variable so the type checker does not resolve it. */
async function optional<T>(name: string, pick: (mod: Record<string, unknown>) => T | undefined): Promise<{ client?: T; version?: string; error?: string }> {
  const version = installedVersion(name);
  if (!version) return { error: 'not installed' };
  try {
    const mod = await import(name) as Record<string, unknown>;
    const client = pick(mod);
    return client ? { client, version } : { error: `${name} ${version} does not export what the bench uses` };
  } catch (err) {
    return { error: `${name} ${version} failed to load: ${(err as Error).message.split('\n')[0]}` };
  }
}

const perSec = (n: number, secs: number): string => `${Math.round(n / secs).toLocaleString('en-US')} events/s`;

export async function kafkaClientFigures(brokers: string): Promise<Figure[]> {
  const n = Number(process.env.PITWALL_BENCH_CLIENT_EVENTS ?? 300_000);
  const clients: Client[] = [kafkajs];
  const absent: { name: string; error: string }[] = [];

  const plat = await optional('@platformatic/kafka', (m) => (typeof m.Consumer === 'function' ? m as unknown as PlatformaticModule : undefined));
  if (plat.client && plat.version) clients.push(platformatic(plat.client, plat.version));
  else absent.push({ name: '@platformatic/kafka', error: plat.error ?? '?' });
  const conf = await optional('@confluentinc/kafka-javascript', (m) => {
    const api = (m.KafkaJS ?? (m.default as { KafkaJS?: unknown } | undefined)?.KafkaJS) as ConfluentKafkaJS | undefined;
    return typeof api?.Kafka === 'function' ? api : undefined;
  });
  if (conf.client && conf.version) clients.push(confluent(conf.client, conf.version));
  else absent.push({ name: '@confluentinc/kafka-javascript', error: conf.error ?? '?' });

  const topic = `bench-clients-${Date.now()}`;
  const chars = await fillBenchTopic(brokers, topic, n);
  // Alternating, twice each; the better of each is reported (the machine is shared).
  const best = new Map<string, number>();
  for (let round = 0; round < 2; round++) {
    for (const client of clients) {
      gc();
      const run = await client.consume(brokers, topic, n);
      if (run.chars !== chars) throw new Error(`bench c3: ${client.name} decoded ${run.chars} characters, the topic holds ${chars}`);
      process.stderr.write(`c3 round ${round + 1}: ${client.name} ${client.version}: ${perSec(n, run.secs)} (${run.secs.toFixed(2)} s)\n`);
      best.set(client.name, Math.min(best.get(client.name) ?? Infinity, run.secs));
    }
  }

  const baseSecs = best.get(kafkajs.name) as number;
  const what = (name: string, version?: string): string =>
    `Kafka client: ${version ? `${name} ${version}` : name} vs kafkajs ${kafkajs.version} consuming the same topic (3 partitions, ${n.toLocaleString('en-US')} events, fresh group from the earliest offset, values decoded to strings, best of 2 alternating; ${COMMAND})`;
  const target = '> 1 to adopt it (and it must install from the npm registry alone)';
  const figures: Figure[] = clients.filter((c) => c !== kafkajs).map((c) => {
    const secs = best.get(c.name) as number;
    const ratio = baseSecs / secs;
    return { id: 'c3', what: what(c.name, c.version), value: `${perSec(n, secs)} vs ${perSec(n, baseSecs)}`, ratio: ratio.toFixed(2), target, met: ratio > 1 };
  });
  for (const a of absent) {
    figures.push({ id: 'c3', what: what(a.name), value: `not measured (${a.error}); kafkajs ${perSec(n, baseSecs)}`, target, met: undefined });
  }
  return figures;
}
