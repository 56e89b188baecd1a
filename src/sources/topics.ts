/**
 * Topic management through the kafkajs admin client: creates missing stream, DLQ and results
 * topics with the configured partitions (the results topic compacted, so the latest row per
 * key is kept).
 */
import type { Kafka } from 'kafkajs';
import type { Catalog } from '../catalog/index.js';

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly compacted?: boolean;
}

/** The topics a catalog needs: each stream's topic and its `.dlq`. */
export function catalogTopics(catalog: Catalog): TopicSpec[] {
  return [...catalog.streams.values()].filter((s) => s.kind === 'stream').flatMap((s) => [
    { topic: s.topic, partitions: s.partitions },
    { topic: `${s.topic}.dlq`, partitions: 1 },
  ]);
}

/** Creates the topics that do not exist yet; returns the names created. */
export async function ensureTopics(kafka: Kafka, specs: readonly TopicSpec[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const known = new Set(await admin.listTopics());
    // Several catalog streams may read one topic: create each topic once (the first spec wins).
    const missing: TopicSpec[] = [];
    for (const s of specs) {
      if (known.has(s.topic)) continue;
      known.add(s.topic);
      missing.push(s);
    }
    if (missing.length === 0) return [];
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic, numPartitions: s.partitions,
        configEntries: s.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
      })),
    });
    return missing.map((s) => s.topic);
  } finally {
    await admin.disconnect();
  }
}
