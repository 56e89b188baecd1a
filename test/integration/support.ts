/** Shared helpers for integration tests: the injected broker/Connect and unique names. */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
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
