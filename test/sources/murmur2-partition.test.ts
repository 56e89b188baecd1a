/** Kafka's default key placement, checked against kafkajs' own DefaultPartitioner (Java-compatible). */
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyPartition } from '../../src/sources/murmur2-partition.js';

describe('keyPartition', () => {
  it('places every key where kafkajs\' DefaultPartitioner (murmur2, as the Java client) does', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    let checked = 0;
    for (let i = 0; i < 3000; i++) {
      const key = i % 3 === 0 ? `r${i}` : i % 3 === 1 ? `${'x'.repeat(i % 37)}${i}` : `🍕${i}ü`; // every tail length, multi-byte UTF-8
      for (const n of [1, 3, 6, 7, 64]) {
        const partitionMetadata = Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0, offlineReplicas: [] }));
        const want = partitioner({ topic: 't', partitionMetadata, message: { key, value: 'v' } });
        expect(keyPartition(Buffer.from(key), n), `${key} / ${n}`).toBe(want);
        checked++;
      }
    }
    expect(checked).toBe(15_000);
  });
});
