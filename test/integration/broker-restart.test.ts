/**
 * Fault injection: the test broker goes down (`scripts/kafka.sh down`: SIGTERM, data kept) and
 * comes back (`scripts/kafka.sh up`: same address, data and cluster id). A send while it is down
 * fails within the producer's retry budget and writes nothing; the same idempotent producer then
 * resumes, and a new consumer group reads all 2,000 messages from both sides of the outage
 * exactly once, in order. Only for the broker scripts/kafka.sh started (skipped with
 * PITWALL_TEST_BROKERS, which may point at a broker we must not stop).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { brokers, testKafka, uniqueName, waitFor } from './support.js';

const PER_SIDE = 1000;
const KEYS = 31;
const PROBE_SEQ = 1_000_000;

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(root, 'scripts', 'kafka.sh');

/** Runs `bash scripts/kafka.sh <cmd>`; returns the last stdout line and the wall time. */
function kafkaSh(cmd: 'down' | 'up'): { last: string; seconds: number } {
  const t0 = performance.now();
  const out = execFileSync('bash', [script, cmd], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  const lines = out.trim().split('\n');
  return { last: (lines[lines.length - 1] ?? '').trim(), seconds: (performance.now() - t0) / 1000 };
}

function batch(from: number, count: number): { key: string; value: string }[] {
  const messages = [];
  for (let seq = from; seq < from + count; seq++) messages.push({ key: `k${seq % KEYS}`, value: JSON.stringify({ seq }) });
  return messages;
}

describe.skipIf(!brokers || process.env.PITWALL_TEST_BROKERS)('broker down/up via scripts/kafka.sh', () => {
  const kafka = brokers ? testKafka('broker-restart') : null;
  // Own client with a short retry budget so a send against the downed broker gives up in seconds
  // (an idempotent kafkajs producer otherwise retries forever).
  const producerKafka = brokers
    ? new Kafka({
      clientId: 'broker-restart-producer', brokers: [brokers], logLevel: logLevel.NOTHING,
      connectionTimeout: 1000, retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 1000 },
    })
    : null;
  const admin = kafka?.admin();
  afterAll(async () => {
    // Never leave the shared broker down for the next test file, even when this one failed.
    if (spawnSync('bash', [script, 'status'], { cwd: root, stdio: 'ignore' }).status !== 0) {
      spawnSync('bash', [script, 'up'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
    }
    await admin?.disconnect();
  });

  it('keeps 2,000 idempotently produced messages exactly once, in order, across down/up', async () => {
    if (!kafka || !producerKafka || !admin || !brokers) return;
    const topic = uniqueName('restart');
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });

    const producer = producerKafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1,
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 1000 },
    });
    await producer.connect();
    for (let base = 0; base < PER_SIDE; base += 250) await producer.send({ topic, acks: -1, messages: batch(base, 250) });

    const down = kafkaSh('down');
    expect(spawnSync('bash', [script, 'status'], { cwd: root, encoding: 'utf8' }).stdout).toBe('');

    // While down: the send must fail within the retry budget (not hang) and write nothing.
    const t0 = performance.now();
    const probe = await producer.send({ topic, acks: -1, messages: batch(PROBE_SEQ, 10) }).then(() => null, (err: unknown) => err);
    const probeSeconds = (performance.now() - t0) / 1000;
    expect(probe).toBeInstanceOf(Error);
    expect(probeSeconds).toBeLessThan(30);

    const up = kafkaSh('up');
    expect(up.last).toBe(brokers);

    // The same producer (same producer id, continuing sequence numbers) resumes after the outage.
    for (let base = PER_SIDE; base < 2 * PER_SIDE; base += 250) await producer.send({ topic, acks: -1, messages: batch(base, 250) });
    await producer.disconnect();
    process.stderr.write(`broker-restart: down ${down.seconds.toFixed(2)} s, up ${up.seconds.toFixed(2)} s, send while down failed after ${probeSeconds.toFixed(2)} s\n`);

    const seqs: number[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName('restart-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seqs.push((JSON.parse(message.value?.toString() ?? 'null') as { seq: number }).seq);
      },
    });
    const complete = await waitFor(() => seqs.length >= 2 * PER_SIDE, 60_000);
    await new Promise((r) => setTimeout(r, 500)); // let any duplicate or stray probe message show up
    await consumer.disconnect();
    await admin.deleteTopics({ topics: [topic] });

    expect(complete).toBe(true);
    expect(seqs.length).toBe(2 * PER_SIDE);
    expect(seqs).toEqual(Array.from({ length: 2 * PER_SIDE }, (_, i) => i));
  });
});
