/** Shared helpers for integration tests: the injected broker/Connect and unique names. */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { ResultRow } from '../../src/util/result-row.js';
import { inject } from 'vitest';

export const brokers = inject('brokers');
export const connectBin = inject('connectBin');

/** A topic or group name no other test run shares. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A kafkajs client against the test broker (only call when `brokers` is set). */
export function testKafka(clientId: string): Kafka {
  if (!brokers) throw new Error('no test broker');
  return new Kafka({ clientId, brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 8 } });
}

/** Polls `check` every `intervalMs` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return check();
}

/** Creates `topic` with `partitions` partitions on the test broker and waits for its leaders. */
export async function createTopic(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/**
 * A temporary project directory (`<dir>/catalog`, `<dir>/queries`): the sample orders stream
 * reading `topic`, and the sample metrics over orders.
 */
export function sampleOrdersProject(prefix: string, topic: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, 'catalog'));
  writeFileSync(join(dir, 'catalog', 'orders.yaml'), readFileSync('catalog/orders.yaml', 'utf8').replace(/^topic: orders$/m, `topic: ${topic}`));
  mkdirSync(join(dir, 'queries'));
  for (const f of readdirSync('queries')) {
    const sql = readFileSync(join('queries', f), 'utf8');
    if (sql.includes('(orders,')) writeFileSync(join(dir, 'queries', f), sql);
  }
  return dir;
}

/**
 * A temporary project directory with the sample orders stream reading `topic` (idle_timeout
 * 10m: partitions silent while a killed process is down never let the watermark pass them) and
 * the given metrics, `name → SQL`.
 */
export function ordersProjectWith(prefix: string, topic: string, metrics: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, 'catalog'));
  mkdirSync(join(dir, 'queries'));
  writeFileSync(join(dir, 'catalog', 'orders.yaml'), readFileSync('catalog/orders.yaml', 'utf8').replace(/^topic: orders$/m, `topic: ${topic}`).replace(/^idle_timeout: .*$/m, 'idle_timeout: 10m'));
  for (const [name, sql] of Object.entries(metrics)) writeFileSync(join(dir, 'queries', `${name}.sql`), sql);
  return dir;
}

interface ResultValue { metric: string; final: boolean; row: ResultRow }

/** A reader of a compacted results topic from its start: the latest value per key. */
export interface ResultsReader {
  /** Final rows per metric (each of `metrics` present), windows starting at or before `untilMs`. */
  finals(metrics: readonly string[], untilMs: number): Map<string, ResultRow[]>;
  /** Final rows read so far, all windows. */
  finalCount(): number;
  /** True once every message the topic holds now has been read (waits up to `timeoutMs`). */
  drained(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

export async function readResults(kafka: Kafka, topic: string): Promise<ResultsReader> {
  const latest = new Map<string, ResultValue | null>();
  const readUpTo = new Map<number, number>();
  const consumer = kafka.consumer({ groupId: uniqueName('results-reader') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        latest.set(message.key?.toString() ?? '', message.value ? JSON.parse(message.value.toString()) as ResultValue : null);
        readUpTo.set(batch.partition, Number(message.offset));
      }
    },
  });
  return {
    finals(metrics, untilMs) {
      const out = new Map<string, ResultRow[]>(metrics.map((m) => [m, []]));
      for (const v of latest.values()) if (v?.final && v.row.window_start !== undefined && Date.parse(String(v.row.window_start)) <= untilMs) out.get(v.metric)?.push(v.row);
      return out;
    },
    finalCount: () => [...latest.values()].reduce((n, v) => n + (v?.final ? 1 : 0), 0),
    async drained(timeoutMs) {
      const admin = kafka.admin();
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.disconnect();
      return waitFor(() => ends.every((e) => Number(e.high) === 0 || (readUpTo.get(e.partition) ?? -1) >= Number(e.high) - 1), timeoutMs, 200);
    },
    stop: () => consumer.disconnect(),
  };
}

/** A record for an explicit partition. */
export interface PartitionedDelivery { readonly partition: number; readonly value: string }

/** The records with offsets per partition from 0, in the order given (what a topic receiving them in that order holds). */
export function withOffsets(deliveries: readonly PartitionedDelivery[]): { partition: number; offset: number; value: string }[] {
  const next = new Map<number, number>();
  return deliveries.map((d) => {
    const offset = next.get(d.partition) ?? 0;
    next.set(d.partition, offset + 1);
    return { partition: d.partition, offset, value: d.value };
  });
}

/** Sends `deliveries[from, to)` to their partitions of `topic`, 1,000 per request, pausing `paceMs` between requests. */
export async function sendToPartitions(producer: Producer, topic: string, deliveries: readonly PartitionedDelivery[], from: number, to: number, paceMs = 0): Promise<void> {
  for (let i = from; i < to; i += 1000) {
    const byPartition = new Map<number, { value: string; partition: number }[]>();
    for (const d of deliveries.slice(i, Math.min(to, i + 1000))) {
      const list = byPartition.get(d.partition) ?? [];
      list.push({ value: d.value, partition: d.partition });
      byPartition.set(d.partition, list);
    }
    await producer.sendBatch({ acks: -1, topicMessages: [...byPartition.values()].map((messages) => ({ topic, messages })) });
    if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
  }
}
