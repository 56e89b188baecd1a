/**
 * Hostile producers on a real broker, through the engine's Kafka runner:
 * - two catalog streams on one topic both receive every record (each with its own fields);
 * - a redelivery produced with another partitioner (kcat's CRC32 default) onto another partition
 *   is counted as misrouted and still deduplicated;
 * - a payload that is not UTF-8 reaches `<topic>.dlq` byte for byte;
 * - a backlog whose quarantined payloads exceed the broker's request limit many times over still
 *   checkpoints (the DLQ is sent in requests below the limit).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { KafkaRunner } from '../../src/hot/kafka-runner.js';
import { loadQueries } from '../../src/plan/index.js';
import { readDlq } from '../../src/sources/dlq-tools.js';
import { keyPartition } from '../../src/sources/murmur2-partition.js';
import { brokers, createTopic, testKafka, uniqueName, waitFor } from './support.js';

const STREAM = (name: string, topic: string, extra = ''): string => `name: ${name}
topic: ${topic}
event_id: id
event_time: ts
watermark_delay: 0s
partition_key: k
fields:
  id: { type: string, required: true }
  ts: { type: timestamp, required: true }
  k: { type: string }
${extra}`;

describe.skipIf(!brokers)('hostile producers on the broker', () => {
  it('feeds two streams of one topic, dedups across partitioners, keeps non-UTF-8 bytes, splits a large DLQ', async () => {
    if (!brokers) return;
    const kafka = testKafka('hostile-test');
    const topic = uniqueName('hostile');
    const dir = mkdtempSync(join(tmpdir(), 'pw-hostile-'));
    mkdirSync(join(dir, 'catalog'));
    mkdirSync(join(dir, 'queries'));
    writeFileSync(join(dir, 'catalog', 'a.yaml'), STREAM('a', topic));
    writeFileSync(join(dir, 'catalog', 'b.yaml'), STREAM('b', topic, '  n: { type: int, required: true }\n'));
    writeFileSync(join(dir, 'queries', 'a_n.sql'), "CREATE VIEW a_n AS SELECT window_start, COUNT(*) AS n FROM TUMBLE(a, ts, INTERVAL '1 minute') GROUP BY window_start;");
    writeFileSync(join(dir, 'queries', 'b_n.sql'), "CREATE VIEW b_n AS SELECT window_start, SUM(n) AS total FROM TUMBLE(b, ts, INTERVAL '1 minute') GROUP BY window_start;");
    const catalog = loadCatalog(join(dir, 'catalog'));
    const plans = loadQueries(join(dir, 'queries'), catalog);
    await createTopic(kafka, topic, 3);

    const ts = '2026-06-01T00:00:30Z';
    const ev = (id: string, k: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ id, ts, k, n: 1, ...extra });
    const home = keyPartition(Buffer.from('r1'), 3);
    const away = (home + 1) % 3;
    // 3,000 payloads stream b rejects (n missing), about 700 bytes each: 2 MB of DLQ, twice the broker's 1 MiB limit.
    const bulky = Array.from({ length: 3000 }, (_, i) => ({ key: `r${i % 50}`, value: JSON.stringify({ id: `x${i}`, ts, k: `r${i % 50}`, pad: 'p'.repeat(640) }) }));
    const notUtf8 = Buffer.concat([Buffer.from('{"id":"u1","ts":"2026-06-01T00:00:31Z","k":"r'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [
      { key: 'r1', value: ev('dup-1', 'r1'), partition: away }, // kcat: CRC32 put r1 elsewhere
      { key: 'r1', value: ev('dup-1', 'r1'), partition: away },
      { key: 'r1', value: ev('dup-1', 'r1'), partition: home }, // a murmur2 producer: where r1 belongs
      { key: 'r2', value: ev('solo', 'r2'), partition: keyPartition(Buffer.from('r2'), 3) },
      { key: 'r3', value: notUtf8, partition: keyPartition(Buffer.from('r3'), 3) },
    ] });
    for (let i = 0; i < bulky.length; i += 500) await producer.send({ topic, acks: -1, messages: bulky.slice(i, i + 500) });
    await producer.disconnect();
    const total = 5 + bulky.length;

    const runner = new KafkaRunner(catalog, plans, { brokers: [brokers], groupId: uniqueName('hostile-group'), stateDir: join(dir, 'state'), resultsTopic: uniqueName('results'), checkpointIntervalMs: 60_000, fromBeginning: true });
    await runner.start();
    const both = await waitFor(() => ['a', 'b'].every((s) => (runner.engine.stats().streams[s]?.events ?? 0) >= total), 90_000);
    await runner.checkpoint(); // 3,000+ quarantined payloads of b: sent below the broker's limit
    await runner.stop();
    expect(both).toBe(true);
    const { streams } = runner.engine.stats();
    // Stream a: every record but the non-UTF-8 one is valid; dup-1 is one event whatever the partitioner.
    expect(streams.a).toMatchObject({ events: total, quarantined: 1, duplicates: 2, accepted: total - 3, misrouted: 2 });
    // Stream b needs n: the bulky payloads lack it.
    expect(streams.b).toMatchObject({ events: total, quarantined: 1 + bulky.length, duplicates: 2, misrouted: 2 });

    const dlq = await readDlq(kafka, catalog.streams.get('a') as never);
    // Both streams quarantine into the topic's one DLQ: the non-UTF-8 payload from each, b's bulky ones.
    expect(dlq).toHaveLength(2 + bulky.length);
    const bad = dlq.filter((m) => m.code === 'PW_PAYLOAD_NOT_JSON');
    expect(bad).toHaveLength(2);
    for (const m of bad) expect(m.reason).toContain('not valid UTF-8 (invalid byte sequence at byte 45)');
    const raw = await rawDlqValues(kafka, `${topic}.dlq`, dlq.length);
    expect(raw.filter((v) => v.equals(notUtf8))).toHaveLength(2);
  });
});

/** The DLQ's values as bytes (readDlq decodes them as text). */
async function rawDlqValues(kafka: ReturnType<typeof testKafka>, topic: string, count: number): Promise<Buffer[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('dlq-bytes') });
  const values: Buffer[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => { if (message.value) values.push(message.value); } });
  await waitFor(() => values.length >= count, 30_000);
  await consumer.disconnect();
  return values;
}

