/** (c) Kafka end-to-end throughput vs a bare kafkajs eachBatch consumer on the same topic. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ArchiveWriter } from '../src/archive/archive-writer.js';
import { KafkaRunner } from '../src/hot/kafka-runner.js';
import { fillBenchTopic } from './bench-topic.js';
import { benchCatalog, type Figure } from './common.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('bench timed out');
    await sleep(2);
  }
  return performance.now();
}

/** Seconds a bare kafkajs eachBatch consumer doing nothing takes to read `n` records of `topic` (first batch to last). */
export async function bare(kafka: Kafka, topic: string, n: number): Promise<number> {
  let count = 0;
  let first = 0;
  const consumer = kafka.consumer({ groupId: `bare-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachBatch: async ({ batch }) => { if (count === 0) first = performance.now(); count += batch.messages.length; } });
  const end = await waitUntil(() => count >= n, 300_000);
  await consumer.disconnect();
  return (end - first) / 1000;
}

async function pitwall(brokers: string, topic: string, n: number, archive = false): Promise<number> {
  const { catalog, plan } = benchCatalog(topic);
  const archiveWriter = archive ? new ArchiveWriter(mkdtempSync(join(tmpdir(), 'pw-bench-arch-')), catalog) : undefined;
  const runner = new KafkaRunner(catalog, [plan], {
    brokers: [brokers], groupId: `pw-${Date.now()}`, stateDir: mkdtempSync(join(tmpdir(), 'pw-bench-state-')),
    resultsTopic: `bench-results-${Date.now()}`, checkpointIntervalMs: 5000, fromBeginning: true,
    ...(archiveWriter ? { archive: archiveWriter } : {}),
  });
  await runner.start();
  const events = (): number => runner.engine.stats().streams.orders?.events ?? 0;
  const first = await waitUntil(() => events() > 0, 120_000);
  const end = await waitUntil(() => events() >= n, 300_000);
  await runner.stop();
  await archiveWriter?.close();
  return (end - first) / 1000;
}

export async function kafkaThroughput(brokers: string, n = 300_000): Promise<Figure[]> {
  const kafka = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING });
  const topic = `bench-orders-${Date.now()}`;
  await fillBenchTopic(brokers, topic, n);
  // Side by side, twice each, alternating; the better of each is reported (the machine is shared).
  const bareSecs = Math.min(await bare(kafka, topic, n), await bare(kafka, topic, n));
  const off: number[] = [];
  const on: number[] = [];
  for (let round = 0; round < 2; round++) {
    off.push(await pitwall(brokers, topic, n));
    on.push(await pitwall(brokers, topic, n, true));
  }
  const pwSecs = Math.min(...off);
  const archSecs = Math.min(...on);
  const ratio = bareSecs / pwSecs;
  return [{
    id: 'c2', what: 'Kafka end to end with the archive on (raw events handed in chunks to the archive\'s worker thread, which builds Arrow batches and writes Parquet segments) vs archive off',
    value: `${Math.round(n / archSecs).toLocaleString('en-US')} events/s vs ${Math.round(n / pwSecs).toLocaleString('en-US')} events/s`, ratio: (pwSecs / archSecs).toFixed(2), target: '≥ 0.8 of archive off', met: pwSecs / archSecs >= 0.8,
  }, {
    id: 'c', what: `Kafka end to end (3 partitions, ${n.toLocaleString('en-US')} events, decode + validate + dedup + 1-min TUMBLE + results topic + checkpoints) vs bare kafkajs eachBatch doing nothing`,
    value: `${Math.round(n / pwSecs).toLocaleString('en-US')} events/s vs ${Math.round(n / bareSecs).toLocaleString('en-US')} events/s`, ratio: ratio.toFixed(2), target: '≥ 0.8 of the bare consumer', met: ratio >= 0.8,
  }];
}
