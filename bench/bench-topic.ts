/** Bench topics: a fresh 3-partition topic filled with `benchPayload` events keyed by restaurant id. */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { benchPayload } from './common.js';

/**
 * Creates `topic` (3 partitions) and produces events 0..n-1 (`benchPayload(i, keys)`, keyed by
 * their restaurant id, in sends of 5,000 or 10,000). Returns the characters of JSON produced
 * (consumers check they decoded all of it).
 */
export async function fillBenchTopic(brokers: string, topic: string, n: number, keys?: number, perSend = 5000): Promise<number> {
  const kafka = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  let chars = 0;
  for (let i = 0; i < n; i += perSend) {
    const messages = [];
    for (let j = i; j < Math.min(n, i + perSend); j++) {
      const p = benchPayload(j, keys);
      const value = JSON.stringify(p);
      chars += value.length;
      messages.push({ key: (p.data as { restaurantId: string }).restaurantId, value });
    }
    await producer.send({ topic, messages });
  }
  await producer.disconnect();
  return chars;
}
