/**
 * Changelog topics: a group's state kept in the broker, so a partition moves to a member on
 * another machine together with its state (Kafka Streams' changelog topics and task model).
 *
 * The state of a group is split into tasks, each owned by one member at a time:
 * - an input task, one per partition `p` of an input topic: per stream of the topic, the
 *   partition's offset, watermark mark and floor (`meta ['partition', stream, p]`) and its
 *   dedup id blocks (`dedup [stream, p, …]`); changelog `<prefix>.<topic>.input-changelog`,
 *   partition `p`;
 * - a merge task, one per partition `q` of a metric's partials topic: phase two's windows,
 *   sessions and emitted rows (stored under `metric#q`) and its marks and offset (`meta
 *   ['merge', metric, q]`); changelog `<prefix>.<metric>.merge-changelog`, partition `q`.
 *
 * A changelog record is one key of the state store: the record key is the JSON text of
 * `[db, ...key]`, the value the stored bytes (state/lmdb-env.ts), a tombstone (null) for a key
 * removed. Topics are compacted, so a changelog holds about one record per live key. Only the
 * task's owner writes its changelog, inside the Kafka transaction that also commits the task's
 * output and input offsets (hot/member-runner.ts); a new owner first fences the previous one
 * (its transactional producer with the task's transactional id), then reads the changelog to
 * its end with read_committed and writes it into its local store.
 *
 * Errors: PW_KAFKA when a changelog cannot be read to its end within `timeoutMs`.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { ExecutionError } from '../errors.js';
import type { DbName, KeyChange, StateOp, StoreKey } from './layout.js';

/** A unit of state with one owner: an input partition, or a partials partition of a metric. */
export type Task =
  | { readonly kind: 'input'; readonly topic: string; readonly partition: number }
  | { readonly kind: 'merge'; readonly metric: string; readonly partition: number };

/** A task's stable id (also the suffix of its transactional id). */
export function taskId(t: Task): string {
  return t.kind === 'input' ? `input.${t.topic}.${t.partition}` : `merge.${t.metric}.${t.partition}`;
}

/** The changelog topic of a task (its partition is the task's partition). */
export function changelogTopic(prefix: string, t: Task): string {
  return t.kind === 'input' ? `${prefix}.${t.topic}.input-changelog` : `${prefix}.${t.metric}.merge-changelog`;
}

/** What the store's keys mean to a group: the topic each stream reads. */
export interface TaskLayout {
  readonly topicOf: (stream: string) => string | undefined;
  readonly streamsOf: (topic: string) => readonly string[];
}

/** The task a stored key belongs to; undefined for a member's own records (format, owners, counters). */
export function taskOfKey(layout: TaskLayout, db: DbName, key: StoreKey): Task | undefined {
  const merge = (storeName: unknown): Task | undefined => {
    if (typeof storeName !== 'string') return undefined;
    const at = storeName.lastIndexOf('#');
    if (at < 0) return undefined;
    const q = Number(storeName.slice(at + 1));
    return Number.isInteger(q) ? { kind: 'merge', metric: storeName.slice(0, at), partition: q } : undefined;
  };
  if (db === 'meta') {
    if (key[0] === 'partition' && typeof key[1] === 'string' && typeof key[2] === 'number') {
      const topic = layout.topicOf(key[1]);
      return topic === undefined ? undefined : { kind: 'input', topic, partition: key[2] };
    }
    if (key[0] === 'merge' && typeof key[1] === 'string' && typeof key[2] === 'number') return { kind: 'merge', metric: key[1], partition: key[2] };
    if (key[0] === 'metric') return merge(key[1]);
    return undefined;
  }
  if (db === 'dedup') {
    const topic = typeof key[0] === 'string' ? layout.topicOf(key[0]) : undefined;
    return topic === undefined || typeof key[1] !== 'number' ? undefined : { kind: 'input', topic, partition: key[1] };
  }
  return merge(key[0]);
}

/** The store operations that remove every key of a task (before its changelog is written in). */
export function clearTask(layout: TaskLayout, t: Task): StateOp[] {
  if (t.kind === 'input') {
    return layout.streamsOf(t.topic).flatMap((s): StateOp[] => [
      { op: 'del', db: 'meta', key: ['partition', s, t.partition] },
      { op: 'clear', db: 'dedup', prefix: [s, t.partition] },
    ]);
  }
  const name = `${t.metric}#${t.partition}`;
  return [
    { op: 'del', db: 'meta', key: ['merge', t.metric, t.partition] },
    { op: 'del', db: 'meta', key: ['metric', name] },
    ...(['groups', 'emitted', 'sessions', 'closed'] as const).map((db): StateOp => ({ op: 'clear', db, prefix: [name] })),
  ];
}

/** A store change as a changelog record (key: JSON of [db, ...key]; value: the stored bytes, null for a tombstone). */
export function changeRecord(c: KeyChange): { key: string; value: Buffer | null } {
  return { key: JSON.stringify([c.db, ...c.key]), value: c.value === null ? null : Buffer.from(c.value.buffer, c.value.byteOffset, c.value.byteLength) };
}

/** A changelog record back as a store operation (raw bytes, or a delete). */
export function recordOp(key: string, value: Buffer | null): StateOp {
  const [db, ...rest] = JSON.parse(key) as [DbName, ...StoreKey];
  return { op: 'raw', db, key: rest, value: value === null ? null : new Uint8Array(value) };
}

/**
 * Reads partitions of changelog topics from their start to their end (read_committed: only
 * committed transactions), through a consumer of a one-off group. Calls `onRecord` in offset
 * order per partition. Resolves once every partition reached the end offset it had when the
 * read started (call after fencing the tasks' producers, so no transaction of theirs is open).
 */
export async function readChangelogs(kafka: Kafka, wanted: ReadonlyMap<string, readonly number[]>, onRecord: (topic: string, partition: number, key: string, value: Buffer | null) => void, opts: { groupPrefix: string; timeoutMs?: number }): Promise<number> {
  if (wanted.size === 0) return 0;
  const admin = kafka.admin();
  const targets = new Map<string, number>();
  await admin.connect();
  try {
    for (const [topic, parts] of wanted) {
      const offsets = await admin.fetchTopicOffsets(topic);
      for (const o of offsets) if (parts.includes(o.partition) && Number(o.high) > Number(o.low)) targets.set(`${topic}\u0000${o.partition}`, Number(o.high));
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  if (targets.size === 0) return 0;
  const consumer = kafka.consumer({ groupId: `${opts.groupPrefix}.restore.${randomUUID()}`, maxWaitTimeInMs: 200, sessionTimeout: 30_000, readUncommitted: false, maxBytesPerPartition: 8 << 20 });
  let records = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => { finish = resolve; });
  const reached = (topic: string, partition: number, lastOffset: string): void => {
    const k = `${topic}\u0000${partition}`;
    const target = targets.get(k);
    if (target !== undefined && Number(lastOffset) + 1 >= target) targets.delete(k);
    if (targets.size === 0) finish();
  };
  // Batches of only transaction markers reach no eachBatch: their end is seen here.
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => reached(e.payload.topic, e.payload.partition, String(e.payload.lastOffset)));
  try {
    await consumer.connect();
    for (const topic of wanted.keys()) await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        if (!(wanted.get(batch.topic) ?? []).includes(batch.partition)) {
          consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
          return;
        }
        for (const m of batch.messages) {
          onRecord(batch.topic, batch.partition, m.key?.toString('utf8') ?? '', m.value);
          records++;
          resolveOffset(m.offset);
        }
      },
    });
    const timeoutMs = opts.timeoutMs ?? 120_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ExecutionError('PW_KAFKA', `reading the changelogs ${[...wanted.keys()].join(', ')} did not reach their end within ${timeoutMs} ms (${[...targets.keys()].map((k) => k.replace('\u0000', '[') + ']').join(', ')} behind); check the broker, the reload is retried`)), timeoutMs);
    });
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return records;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}
