/**
 * The demo through a real broker: the scenario generators produce to the streams' topics
 * (keyed by partition key), and `KafkaRunner` — the same engine `pitwall run` uses, with
 * checkpoints, results topic, DLQ and archive — consumes them and feeds the page.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Producer } from 'kafkajs';
import { Kafka, logLevel, Partitioners } from '../sources/kafkajs.js';
import { ArchiveWriter } from '../archive/archive-writer.js';
import { KafkaRunner } from '../hot/kafka-runner.js';
import type { PitwallMetrics } from '../serve/prom-metrics.js';
import { listenOn } from '../serve/listen.js';
import { createServer } from '../serve/server.js';
import { SCENARIO_STREAM, SCENARIOS } from '../sources/generator.js';
import { LiveGenerator } from '../sources/live-generator.js';
import { DemoOutputs } from './demo-outputs.js';
import type { DemoStatus } from './demo-outputs.js';
import type { DemoOptions } from './embedded-demo.js';

export class BrokerDemo {
  readonly runner: KafkaRunner;
  readonly archive: ArchiveWriter;
  readonly #opts: DemoOptions & { brokers: readonly string[] };
  readonly #outputs: DemoOutputs;
  readonly #producer: Producer;
  readonly #generators: { topic: string; gen: LiveGenerator }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #app: FastifyInstance | undefined;
  #metrics: PitwallMetrics | undefined;
  #batchStart = performance.now();
  #sending: Promise<unknown> = Promise.resolve();
  url = '';

  constructor(opts: DemoOptions & { brokers: readonly string[] }) {
    this.#opts = opts;
    this.#outputs = new DemoOutputs(opts.plans, opts.outDir);
    this.archive = new ArchiveWriter(join(opts.outDir, 'archive'), opts.catalog, { piiKey: opts.piiKey });
    const stamp = Date.now().toString(36);
    this.runner = new KafkaRunner(opts.catalog, opts.plans, {
      brokers: opts.brokers, groupId: `pitwall-demo-${stamp}`, stateDir: join(opts.outDir, 'state'), resultsTopic: 'pitwall.demo.results',
      checkpointIntervalMs: 5000, fromBeginning: false, archive: this.archive,
      sink: {
        result: (p, c) => { this.#outputs.result(p, c); this.#metrics?.latency.observe((performance.now() - this.#batchStart) / 1000); },
        late: (p, pair) => this.#outputs.late(p, pair),
      },
      onBatch: () => { this.#batchStart = performance.now(); },
    });
    const kafka = new Kafka({ clientId: 'pitwall-demo-producer', brokers: [...opts.brokers], logLevel: logLevel.ERROR });
    this.#producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    const now = Date.now();
    SCENARIOS.forEach((scenario, i) => {
      const stream = opts.catalog.streams.get(SCENARIO_STREAM[scenario]);
      if (!stream || !opts.plans.some((p) => p.stream.name === stream.name)) return;
      this.#generators.push({ topic: stream.topic, gen: new LiveGenerator(scenario, { startMs: now, ratePerSec: opts.rate, seed: (opts.seed ?? 7) + i, keys: scenario === 'esports' ? 6 : 20 }) });
    });
  }

  async start(): Promise<void> {
    await this.runner.start(); // creates the topics
    await this.#producer.connect();
    const handle = { plans: this.#opts.plans, engine: this.runner.engine, lag: () => this.runner.lag, outboxes: () => this.runner.outboxes(), lastCheckpointAt: () => this.runner.lastCheckpointAt || undefined, checkpoint: () => this.runner.checkpoint(), archive: this.archive };
    const { app, metrics } = await createServer({ store: this.#outputs.store, handle });
    this.#app = app;
    this.#metrics = metrics;
    let address: string;
    try {
      address = await listenOn(app, this.#opts.port, this.#opts.host);
    } catch (err) {
      await this.#producer.disconnect().catch(() => undefined);
      await this.runner.stop().catch(() => undefined);
      await this.archive.close().catch(() => undefined);
      throw err;
    }
    this.url = `${address.replace('0.0.0.0', '127.0.0.1')}/`;
    this.#timer = setInterval(() => {
      const now = Date.now();
      const sends = this.#generators.map((g) => {
        const due = g.gen.take(now);
        return due.length ? this.#producer.send({ topic: g.topic, messages: due.map((a) => ({ key: a.key, value: a.value })) }) : undefined;
      }).filter(Boolean);
      this.#sending = Promise.all([this.#sending, ...sends]);
    }, 100);
  }

  status(): DemoStatus {
    return this.#outputs.status(this.runner.engine, [...this.runner.lag.values()].reduce((a, b) => a + b, 0));
  }

  /** Stops producing, lets the engine catch up briefly, checkpoints, closes windows, writes results. */
  async stop(): Promise<{ hotDir: string; archiveDir: string }> {
    clearInterval(this.#timer);
    await this.#sending;
    await this.#producer.disconnect();
    const deadline = Date.now() + 10_000;
    while ([...this.runner.lag.values()].some((l) => l > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    await this.runner.stop();
    this.runner.engine.endOfInput();
    await this.archive.close();
    this.#outputs.writeHotResults(this.runner.engine);
    await this.#app?.close();
    return { hotDir: this.#outputs.hotDir, archiveDir: join(this.#opts.outDir, 'archive') };
  }
}
