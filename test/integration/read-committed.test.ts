/**
 * read_committed on the real broker through pitwall's kafkajs (src/sources/kafkajs.ts): three
 * transactional producers interleave records on one partition and all abort (as group members
 * fencing each other leave a partials partition), one more transaction commits; a consumer
 * fetching a few hundred bytes at a time (so fetches start inside the aborted transactions)
 * receives exactly the committed records. kafkajs 2.2.4's own filter delivered six of the nine
 * aborted records here.
 */
import { assertReadCommittedFilter, Kafka, logLevel } from '../../src/sources/kafkajs.js';
import { describe, expect, it } from 'vitest';
import { brokers, createTopic, uniqueName, waitFor } from './support.js';

describe.skipIf(!brokers)('read_committed through pitwall\'s kafkajs', () => {
  it('delivers no record of aborted transactions, however fetches cut them', async () => {
    if (!brokers) return;
    assertReadCommittedFilter();
    const kafka = new Kafka({ clientId: 'read-committed', brokers: [brokers], logLevel: logLevel.NOTHING });
    const topic = uniqueName('read-committed');
    await createTopic(kafka, topic, 1);
    const producers = await Promise.all([0, 1, 2, 3].map(async (i) => {
      const p = kafka.producer({ transactionalId: `${topic}-${i}`, idempotent: true, maxInFlightRequests: 1 });
      await p.connect();
      return p;
    }));
    const consumer = kafka.consumer({ groupId: uniqueName('read-committed'), maxWaitTimeInMs: 200, maxBytesPerPartition: 150, maxBytes: 150 });
    try {
      const txns = await Promise.all(producers.map((p) => p.transaction()));
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 4; i++) await txns[i]?.send({ topic, messages: [{ partition: 0, value: `${i === 3 ? 'committed' : 'aborted'}-${i}-${round}` }] });
      }
      for (const t of txns.slice(0, 3)) await t.abort();
      await txns[3]?.commit();
      const got: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => { got.push(message.value?.toString() ?? ''); } });
      expect(await waitFor(() => got.length >= 3, 30_000, 100)).toBe(true);
      await new Promise((r) => setTimeout(r, 1500)); // anything aborted would have come by now
      expect(got).toEqual(['committed-3-0', 'committed-3-1', 'committed-3-2']);
    } finally {
      await consumer.disconnect();
      for (const p of producers) await p.disconnect();
    }
  });
});
