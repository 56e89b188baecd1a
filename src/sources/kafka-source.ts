/**
 * Kafka input through kafkajs: one consumer group over every stream topic, `eachBatch` with
 * manual offset resolution and no auto-commit (offsets are committed only after a checkpoint
 * that covers them). Consumer lag per partition is tracked from each batch's high watermark.
 */
import { isUtf8 } from 'node:buffer';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { firstInvalidUtf8 } from '../util/utf8.js';
import { keyPartition } from './murmur2-partition.js';
import type { RawRecord } from '../hot/stream-runtime.js';
import './kafkajs.js'; // snappy, and the read_committed filter

export interface KafkaSourceOptions {
  readonly groupId: string;
  /** topic → the catalog streams reading it (several streams may read one topic, each with its own fields). */
  readonly topics: ReadonlyMap<string, readonly string[]>;
  readonly fromBeginning: boolean;
}

/**
 * A message as a raw record; a value that is not valid UTF-8 keeps its bytes and where it breaks
 * (quarantined downstream). A keyed message on another partition than Kafka's default
 * partitioner gives its key (`partitions` known) carries `keyPartition`: its producer used
 * another partitioner, and dedup looks for its copies where the key belongs.
 */
export function rawRecord(partition: number, offset: number, value: Buffer | null, key: Buffer | null, partitions: number | undefined): RawRecord {
  const expected = key && partitions ? keyPartition(key, partitions) : partition;
  const routing = expected === partition ? {} : { keyPartition: expected };
  if (!value) return { partition, offset, value: '', ...routing };
  if (isUtf8(value)) return { partition, offset, value: value.toString('utf8'), ...routing };
  return { partition, offset, value: value.toString('utf8'), invalidUtf8At: firstInvalidUtf8(value), bytes: value, ...routing };
}

/**
 * Handles one batch of a stream; `heartbeat` keeps the group membership alive while a handler
 * waits long (an enrichment stage waiting for its lookups): kafkajs sends one at most every
 * heartbeat interval however often it is called.
 */
/**
 * Handles one batch of a stream's records; `appendedAtMs` is the Kafka timestamp (ms since the
 * epoch) of the batch's first record: when the producer sent it, or when the broker appended it
 * under `message.timestamp.type=LogAppendTime`.
 */
export type BatchHandler = (stream: string, records: readonly RawRecord[], heartbeat: () => Promise<void>, appendedAtMs: number | undefined) => Promise<void>;

/** Called after every rebalance with the partitions this process now owns, per stream. */
export type AssignmentHandler = (owned: ReadonlyMap<string, readonly number[]>) => void;

export class KafkaSource {
  readonly #consumer: Consumer;
  readonly #opts: KafkaSourceOptions;
  /** `${topic}:${partition}` → messages behind the partition's high watermark. */
  readonly lag = new Map<string, number>();

  readonly #kafka: Kafka;

  constructor(kafka: Kafka, opts: KafkaSourceOptions) {
    this.#kafka = kafka;
    this.#opts = opts;
    // A short session lets a restarted process take its partitions back within seconds of a crash.
    this.#consumer = kafka.consumer({
      groupId: opts.groupId, sessionTimeout: 10_000, heartbeatInterval: 2_000, rebalanceTimeout: 30_000,
      maxBytesPerPartition: 1 << 20, maxBytes: 8 << 20, retry: { retries: 20 },
    });
  }

  /** Partition count per topic (from the broker's metadata), for the key-routing check and watermarks. */
  readonly #partitions = new Map<string, number>();

  /** The partition count of `topic` read at start (undefined before). */
  partitionCount(topic: string): number | undefined { return this.#partitions.get(topic); }

  async #readPartitionCounts(): Promise<void> {
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [...this.#opts.topics.keys()] });
      for (const t of topics) this.#partitions.set(t.name, t.partitions.length);
    } finally {
      await admin.disconnect();
    }
  }

  /** Reports partition ownership after each rebalance (watermarks wait for owned partitions). */
  onAssignment(handler: AssignmentHandler): void {
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, (event) => {
      const owned = new Map<string, number[]>();
      for (const [topic, partitions] of Object.entries(event.payload.memberAssignment)) {
        for (const stream of this.#opts.topics.get(topic) ?? []) owned.set(stream, partitions);
        // Not read since this assignment: its backlog is unknown until its first batch.
        for (const p of partitions) this.lag.delete(`${topic}:${p}`);
      }
      handler(owned);
    });
  }

  get consumer(): Consumer { return this.#consumer; }

  /**
   * Starts consuming; `handler` runs per batch and its promise is awaited before the next fetch
   * of that partition (backpressure). `seekTo` positions partitions at checkpoint offsets.
   */
  async start(handler: BatchHandler, seekTo: readonly { topic: string; partition: number; offset: number }[]): Promise<void> {
    await this.#readPartitionCounts();
    await this.#consumer.connect();
    for (const topic of this.#opts.topics.keys()) await this.#consumer.subscribe({ topic, fromBeginning: this.#opts.fromBeginning });
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload: EachBatchPayload) => {
        const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const partitions = this.#partitions.get(batch.topic);
        const records = batch.messages.map((m) => rawRecord(batch.partition, Number(m.offset), m.value, m.key, partitions));
        // Every stream of the topic sees every record (each skips offsets its state already holds).
        const first = Number(batch.messages[0]?.timestamp);
        const appendedAtMs = Number.isFinite(first) && first > 0 ? first : undefined;
        for (const stream of this.#opts.topics.get(batch.topic) ?? []) await handler(stream, records, heartbeat, appendedAtMs);
        const last = batch.messages[batch.messages.length - 1]?.offset as string;
        resolveOffset(last);
        this.lag.set(`${batch.topic}:${batch.partition}`, Math.max(0, Number(batch.highWatermark) - Number(last) - 1));
        await heartbeat();
      },
    });
    // Seek once the group is joined (seeking before that throws). Correctness does not hang on
    // it: records below the checkpointed offsets are skipped by the engine anyway.
    const pending = [...seekTo];
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, (event) => {
      const owned = event.payload.memberAssignment;
      for (const s of pending.splice(0)) {
        if (!owned[s.topic]?.includes(s.partition)) continue;
        try { this.#consumer.seek({ topic: s.topic, partition: s.partition, offset: String(s.offset) }); } catch { /* skipped by offset */ }
      }
    });
  }

  pause(): void { this.#consumer.pause([...this.#opts.topics.keys()].map((topic) => ({ topic }))); }
  resume(): void { this.#consumer.resume([...this.#opts.topics.keys()].map((topic) => ({ topic }))); }

  /** Commits the offsets a checkpoint covers (next offset to read per partition). */
  async commit(offsets: readonly { topic: string; partition: number; offset: number }[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.#consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })));
  }

  async stop(): Promise<void> {
    await this.#consumer.stop();
    await this.#consumer.disconnect();
  }
}
