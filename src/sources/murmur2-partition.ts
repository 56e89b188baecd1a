/**
 * The partition a keyed record belongs on under Kafka's default partitioner: murmur2 of the key
 * bytes (Austin Appleby's MurmurHash2, 32-bit, seed 0x9747b28c, as Apache Kafka's
 * `Utils.murmur2`), made positive by masking the sign bit, modulo the partition count. The Java
 * client, kafkajs' DefaultPartitioner, Redpanda Connect's `murmur2_hash` partitioner and
 * librdkafka's `murmur2_random` all place keys this way; librdkafka's own default
 * (`consistent_random`, CRC32), used by kcat and confluent-kafka for Python, Go and .NET, does
 * not, and a redelivery produced through it lands on another partition.
 */

/** Kafka's murmur2 of `bytes` as a signed 32-bit integer. */
export function murmur2(bytes: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = bytes.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = (bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & 3;
  if (tail >= 3) h ^= (bytes[whole + 2] as number) << 16;
  if (tail >= 2) h ^= (bytes[whole + 1] as number) << 8;
  if (tail >= 1) h = Math.imul(h ^ (bytes[whole] as number), m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner gives `key` among `partitions`. */
export function keyPartition(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
