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

/** Attempts and first delay of {@link retryRetriable}: 8 tries over about 12 s in all. */
const RETRIES = { attempts: 8, firstDelayMs: 200, maxDelayMs: 3_000 } as const;

/**
 * Runs `step` again while it fails with an error the Kafka protocol marks retriable (kafkajs sets
 * `retriable: true`, e.g. UNKNOWN_TOPIC_OR_PARTITION while a topic another process just created
 * reaches every broker's metadata, LEADER_NOT_AVAILABLE), with doubling delays: at most
 * {@link RETRIES}.attempts tries, then the last error. Other errors are thrown at once.
 */
export async function retryRetriable<T>(step: () => Promise<T>): Promise<T> {
  let delay: number = RETRIES.firstDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (attempt >= RETRIES.attempts || !isRetriable(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, RETRIES.maxDelayMs);
    }
  }
}

/** True for a kafkajs error (or one wrapping it) that the protocol marks retriable. */
function isRetriable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { retriable?: unknown }).retriable === true) return true;
    if (e.name === 'KafkaJSNumberOfRetriesExceeded' || e.name === 'KafkaJSTopicMetadataNotLoaded') return true;
  }
  return false;
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
