import { Partitioners } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { brokers, testKafka, uniqueName, waitFor } from './support.js';

const EVENTS = 50_000;
const KEYS = 97;

describe.skipIf(!brokers)('real Kafka broker round trip', () => {
  const kafka = brokers ? testKafka('roundtrip') : null;
  const admin = kafka?.admin();
  afterAll(async () => { await admin?.disconnect(); });

  it('delivers 50,000 keyed JSON events exactly once, in order per partition', async () => {
    if (!kafka || !admin) return;
    const topic = uniqueName('roundtrip');
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]?.partitions).toHaveLength(3);

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let base = 0; base < EVENTS; base += 1000) {
      const messages = [];
      for (let seq = base; seq < base + 1000; seq++) {
        const key = `k${seq % KEYS}`;
        messages.push({ key, value: JSON.stringify({ eventId: `e${seq}`, seq, key, eventTime: 1_700_000_000_000 + seq }) });
      }
      await producer.send({ topic, acks: -1, messages });
    }
    await producer.disconnect();

    const seen = new Set<number>();
    let duplicates = 0;
    const perPartition = new Map<number, number[]>();
    const keyPartition = new Map<string, number>();
    let keyOnTwoPartitions = 0;
    const consumer = kafka.consumer({ groupId: uniqueName('roundtrip-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const seqs = perPartition.get(batch.partition) ?? [];
        perPartition.set(batch.partition, seqs);
        for (const m of batch.messages) {
          const ev = JSON.parse(m.value?.toString() ?? 'null') as { seq: number; key: string };
          if (seen.has(ev.seq)) duplicates++;
          seen.add(ev.seq);
          seqs.push(ev.seq);
          const p = keyPartition.get(ev.key);
          if (p !== undefined && p !== batch.partition) keyOnTwoPartitions++;
          keyPartition.set(ev.key, batch.partition);
        }
      },
    });
    const complete = await waitFor(() => seen.size >= EVENTS, 90_000);
    await consumer.disconnect();
    await admin.deleteTopics({ topics: [topic] });

    expect(complete).toBe(true);
    expect(seen.size).toBe(EVENTS);
    expect(duplicates).toBe(0);
    expect(keyOnTwoPartitions).toBe(0);
    expect([...perPartition.keys()].sort()).toEqual([0, 1, 2]);
    for (const seqs of perPartition.values()) {
      // Each partition's sequence numbers come back in the order they were produced.
      const sorted = [...seqs].sort((a, b) => a - b);
      expect(seqs).toEqual(sorted);
    }
  });
});
