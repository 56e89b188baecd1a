/**
 * Runs the engine continuously over Kafka with exactly-once state:
 *
 * 1. on start, restore the state store (state/state-store.ts) and seek every partition to the
 *    offsets it holds;
 * 2. per batch, process records (records below a partition's checkpointed offset are skipped);
 * 3. every `checkpointIntervalMs` and on shutdown: capture the changes since the last checkpoint
 *    (O(changes), the only step on the processing path) → hand them to the store's writer
 *    thread in slices while processing goes on, and meanwhile wait until the archive's buffers
 *    are on disk and the results topic and DLQs acknowledged → commit the changes and the
 *    offsets they cover in one store transaction → commit those offsets to the group.
 *
 * External lookups (catalog `kind: lookup`): the records of a stream whose metrics join one
 * pass its enrichment stage (hot/enrichment) before the engine: each waits for its answers in
 * the stage's bounded window and reaches the engine in arrival order. A checkpoint therefore
 * covers only events enriched and folded (the engine's offsets never pass an event still
 * waiting), and every answer used is archived with its event (the `<lookup>.enrichment.<stream>`
 * lane), so recompute from the archive replays it exactly. While the window is full the batch
 * handler waits, so the consumer fetches nothing more (backpressure, as for the outboxes).
 *
 * A crash at any point restarts from the last checkpoint and re-sends results for the same
 * keys (idempotent upserts), so final results equal an uninterrupted run. Backpressure: when
 * the results outbox passes its bound, the next batch waits until the previous send is acked;
 * when the archive has too many segments waiting for its writer, until the oldest is written.
 */
import type { Producer } from 'kafkajs';
import { Kafka, logLevel, Partitioners } from '../sources/kafkajs.js';
import type { ArchiveWriter } from '../archive/archive-writer.js';
import type { Catalog } from '../catalog/index.js';
import { ExecutionError } from '../errors.js';
import type { MetricPlan } from '../plan/index.js';
import { DlqSink } from '../sinks/dlq-topic.js';
import { ResultsTopicSink } from '../sinks/results-topic.js';
import { KafkaSource } from '../sources/kafka-source.js';
import { ensureTopics, retryRetriable } from '../sources/topics.js';
import { renameSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { StateStore, type CommitInfo } from '../state/state-store.js';
import type { StateOp } from '../state/layout.js';
import { CheckpointStore } from './checkpoint-store.js';
import { Engine, type EngineSink } from './engine.js';
import { enrichmentsOf, type EnrichmentFigures, type Enrichments } from './enrichment/build-stages.js';
import { enrichThenProcess } from './enrichment/enrichment-stage.js';
import type { RawRecord } from './stream-runtime.js';
import type { RowChange } from './operator-types.js';

/** What every way of running over Kafka is given (single process, group member). */
export interface KafkaRunBase {
  readonly brokers: readonly string[];
  readonly groupId: string;
  readonly stateDir: string;
  readonly resultsTopic: string;
  readonly checkpointIntervalMs: number;
  readonly fromBeginning: boolean;
}

/** The limits and hooks every way of running over Kafka takes. */
export interface KafkaRunOptions extends KafkaRunBase {
  /** Cap on open (window, key) groups per metric (EngineOptions.maxGroups). */
  readonly maxGroups?: number;
  /** Cap on remembered event ids per stream partition (EngineOptions.maxDedupIds). */
  readonly maxDedupIds?: number;
  /** Extra sink (serving store) fed alongside the results topic. */
  readonly sink?: Partial<EngineSink>;
  readonly log?: (msg: string) => void;
  /**
   * Called when checkpoints keep failing (24 in a row: results not acknowledged, state not
   * written) or the store or archive broke. The process should exit: a restart resumes from
   * the last good checkpoint.
   */
  readonly onFatal?: (err: Error) => void;
}

export interface KafkaRunnerOptions extends KafkaRunOptions {
  readonly clientId?: string;
  /** The archive: accepted events and both lanes, flushed before each checkpoint. */
  readonly archive?: ArchiveWriter;
  /**
   * Called as each batch reaches the engine (for event-to-result latency), with the Kafka
   * timestamp (ms) of its first record (undefined when the record has none).
   */
  readonly onBatch?: (appendedAtMs: number | undefined) => void;
}

interface StreamSnap { offsets: [number, number][] }

/** Most records processed without yielding to the event loop (about 10–20 ms of work). */
export const PROCESS_SLICE = 2048;


/** What the last checkpoint did. */
export interface CheckpointFigures {
  /** Wall time from capture to offsets committed (ms). */
  readonly ms: number;
  /** Time the capture held the processing thread (ms). */
  readonly captureMs: number;
  /** Bytes and operations the store's transaction wrote, and its time on the writer thread. */
  readonly commit: CommitInfo;
}

/**
 * Hands a checkpoint's operations to the store's writer thread (in slices) while the outputs
 * are flushed in order: nothing the checkpoint covers may be lost, so archive segments are
 * written and the results topic and DLQs acknowledged before it commits. Rejects with the first
 * failure, once the hand-over has settled.
 */
export async function sendWhileFlushing(store: StateStore, ops: Iterable<StateOp>, outputs: readonly ({ flush(): Promise<void> } | undefined)[]): Promise<void> {
  const sending = store.send(ops);
  try {
    for (const o of outputs) await o?.flush();
  } finally {
    await sending.catch(() => undefined);
  }
  await sending;
}

/**
 * One offset per (topic, partition): the lowest, i.e. what every stream reading that topic has
 * processed (several catalog streams may read one topic; each skips offsets it already holds).
 */
export function lowestPerPartition(offsets: readonly { topic: string; partition: number; offset: number }[]): { topic: string; partition: number; offset: number }[] {
  const low = new Map<string, { topic: string; partition: number; offset: number }>();
  for (const o of offsets) {
    const k = `${o.topic}\u0000${o.partition}`;
    const seen = low.get(k);
    if (!seen || o.offset < seen.offset) low.set(k, o);
  }
  return [...low.values()];
}

export class KafkaRunner {
  readonly engine: Engine;
  readonly store: StateStore;
  readonly #opts: KafkaRunnerOptions;
  readonly #kafka: Kafka;
  readonly #producer: Producer;
  readonly #results: ResultsTopicSink;
  readonly #dlq: DlqSink;
  readonly #source: KafkaSource;
  readonly #topicOf = new Map<string, string>();
  #timers: NodeJS.Timeout[] = [];
  /** The enrichment stages of streams whose metrics join an external lookup (undefined: none). */
  readonly #enrich: Enrichments | undefined;
  /** The batch being handled (stop() waits for it before the final checkpoint). */
  #handling: Promise<void> | undefined;
  #checkpointing: Promise<void> | undefined;
  checkpoints = 0;
  lastCheckpointAt = 0;
  lastCheckpointMs = 0;
  /** Figures of the last committed checkpoint. */
  lastCheckpoint: CheckpointFigures | undefined;
  /** A checkpoint.json from an earlier pitwall, migrated into the store by the first checkpoint. */
  #legacy: string | undefined;
  /** Observer of each committed checkpoint: its duration (ms) and figures. */
  onCheckpoint: ((ms: number, figures: CheckpointFigures) => void) | undefined;

  constructor(catalog: Catalog, plans: readonly MetricPlan[], opts: KafkaRunnerOptions) {
    this.#opts = opts;
    this.#kafka = new Kafka({ clientId: opts.clientId ?? 'pitwall', brokers: [...opts.brokers], logLevel: logLevel.ERROR, retry: { retries: 20, maxRetryTime: 10_000 } });
    this.#producer = this.#kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    this.#results = new ResultsTopicSink(this.#producer, opts.resultsTopic);
    this.#dlq = new DlqSink(this.#producer);
    const extra = opts.sink ?? {};
    const archive = opts.archive;
    const enrich = enrichmentsOf(plans, 'processing-time');
    this.#enrich = enrich;
    const sink: EngineSink = {
      ...extra,
      result: (p: MetricPlan, c: RowChange) => {
        this.#results.write(p, c);
        extra.result?.(p, c);
      },
      quarantine: (r) => {
        this.#dlq.write(this.#topicOf.get(r.stream) ?? r.stream, r);
        archive?.quarantined(r);
        extra.quarantine?.(r);
      },
      ...(archive ? {
        accepted: (s, e, o, raw, enriched) => {
          archive.accepted(s, e, o, raw);
          // Every answer used, as replay archives it: recompute joins the same rows.
          enrich?.archive(archive, s.name, e, o, enriched);
          extra.accepted?.(s, e, o, raw, enriched);
        },
        late: (p, pair) => { archive.late(p, pair); extra.late?.(p, pair); },
      } : {}),
    };
    // Live input: the far-future rule measures against the wall clock passed to process().
    this.engine = new Engine(catalog, plans, sink, { maxGroups: opts.maxGroups, maxDedupIds: opts.maxDedupIds, futureReference: 'processing-time' });
    this.store = new StateStore(opts.stateDir);
    this.engine.trackChanges(this.store.reader);
    const topics = new Map<string, string[]>();
    for (const s of this.engine.streams) {
      if (s.metrics.length === 0) continue;
      topics.set(s.stream.topic, [...(topics.get(s.stream.topic) ?? []), s.stream.name]);
      this.#topicOf.set(s.stream.name, s.stream.topic);
    }
    this.#source = new KafkaSource(this.#kafka, { groupId: opts.groupId, topics, fromBeginning: opts.fromBeginning });
  }

  get lag(): ReadonlyMap<string, number> { return this.#source.lag; }

  /** Writes a row change to the results topic (sent with the next checkpoint's flush): backfilled rows. */
  publishResult(plan: MetricPlan, change: RowChange): void { this.#results.write(plan, change); }

  /** Messages buffered for the broker per output topic (the results topic and each DLQ). */
  outboxes(): Map<string, number> {
    return new Map([[this.#results.topic, this.#results.buffered], ...this.#dlq.buffered()]);
  }

  async start(): Promise<void> {
    const log = this.#opts.log ?? (() => undefined);
    try {
      const created = await retryRetriable(() => ensureTopics(this.#kafka, [
        { topic: this.#opts.resultsTopic, partitions: 3, compacted: true },
        ...this.engine.streams.filter((s) => s.metrics.length > 0).flatMap((s) => [
          { topic: s.stream.topic, partitions: s.stream.partitions },
          { topic: `${s.stream.topic}.dlq`, partitions: 1 },
        ]),
      ]));
      if (created.length) log(`created topics: ${created.join(', ')}`);
    } catch (err) {
      throw new ExecutionError('PW_KAFKA', `cannot reach or prepare Kafka at ${this.#opts.brokers.join(',')}: ${(err as Error).message}; check --brokers and that the broker is up`, { cause: err });
    }
    this.#opts.archive?.open();
    await this.#opts.archive?.ready();
    let seek: { topic: string; partition: number; offset: number }[] = [];
    const offsetsOf = (streams: Record<string, [number, number][]>): void => {
      for (const [stream, offsets] of Object.entries(streams)) {
        const topic = this.#topicOf.get(stream);
        if (topic) for (const [partition, offset] of offsets) seek.push({ topic, partition, offset });
      }
    };
    const legacy = new CheckpointStore(this.#opts.stateDir);
    const old = this.store.empty ? legacy.load() : undefined;
    if (old) {
      // An earlier pitwall's whole-state checkpoint: restored once, then written to the store.
      const changed = this.engine.restore(old);
      if (changed.length) log(`definition changed, starting empty: ${changed.join(', ')}`);
      offsetsOf(Object.fromEntries(Object.entries(old.streams).map(([n, j]) => [n, (j as StreamSnap).offsets])));
      this.#legacy = legacy.path;
      log(`restored checkpoint.json of ${old.takenAt}; the first checkpoint moves it into the state store`);
    } else if (!this.store.empty && this.store.reader.get('meta', ['mode']) === 'group') {
      throw new ExecutionError('PW_STATE_MODE', `the state directory ${this.#opts.stateDir} was written by a group of members (pitwall run without --single), whose state a single process cannot take over; run it as a group again, or give --single a new --state-dir`);
    } else if (!this.store.empty) {
      const started = performance.now();
      const changed = await this.engine.restoreStored(this.store.reader);
      if (changed.length) log(`definition changed, starting empty: ${changed.join(', ')}`);
      offsetsOf(Object.fromEntries(this.engine.streams.map((s) => [s.stream.name, [...s.offsets]])));
      log(`restored state store in ${Math.round(performance.now() - started)} ms`);
    }
    seek = lowestPerPartition(seek); // streams sharing a topic: one seek per partition, to the lowest
    if (seek.length) log(`resuming ${seek.length} partition offsets`);
    await this.#producer.connect();
    this.#source.onAssignment((owned) => {
      this.#owned = owned;
      this.#holdPartitions(Date.now(), true);
      log(`assigned ${[...owned].map(([stream, ps]) => `${stream}[${ps.join(',')}]`).join(' ')}`);
    });
    await this.#source.start((stream, records, heartbeat, appendedAtMs) => {
      const handling = this.#handle(stream, records, heartbeat, appendedAtMs);
      this.#handling = handling;
      return handling.finally(() => { if (this.#handling === handling) this.#handling = undefined; });
    }, seek);
    this.#timers.push(setInterval(() => { const now = Date.now(); this.#holdPartitions(now, false); this.engine.tick(now); }, 1000));
    const archive = this.#opts.archive;
    if (archive) this.#timers.push(setInterval(() => { const n = archive.applyRetention(); if (n) log(`retention removed ${n} archive segments`); }, 600_000));
    let failures = 0;
    this.#timers.push(setInterval(() => {
      this.checkpoint().then(() => { failures = 0; }, (err: unknown) => {
        // A broker outage fails checkpoints until it is back: keep the last good one and retry;
        // give up (exit, restart from the last checkpoint) only after a long run of failures.
        failures++;
        log(`checkpoint failed (${failures} in a row, will retry): ${(err as Error).message}`);
        // Events lost with the archive's worker thread come back only by reading the input again.
        if (failures >= 24 || this.#opts.archive?.broken || this.store.broken) this.#opts.onFatal?.(err as Error);
      });
    }, this.#opts.checkpointIntervalMs));
  }

  async #handle(stream: string, records: readonly RawRecord[], heartbeat: () => Promise<void>, appendedAtMs: number | undefined): Promise<void> {
    this.#opts.onBatch?.(appendedAtMs);
    const stage = this.#enrich?.stages.get(stream);
    if (stage) {
      await enrichThenProcess(stage, records, (ready) => this.engine.process(stream, ready, Date.now()), heartbeat);
    } else {
      // A fetch can hold tens of thousands of records: process them in slices with a turn of the
      // event loop between, so the API, timers and checkpoints never wait for a whole fetch.
      for (let i = 0; i < records.length; i += PROCESS_SLICE) {
        if (i > 0) await yieldToLoop();
        this.engine.process(stream, i === 0 && records.length <= PROCESS_SLICE ? records : records.slice(i, i + PROCESS_SLICE), Date.now());
      }
    }
    // Backpressure: the next batch waits while a full outbox is still being sent.
    await this.#results.relieve();
    await this.#dlq.relieve();
    await this.#opts.archive?.relieve();
  }

  /** Per external lookup, what /metrics shows (undefined when no metric joins one). */
  enrichment(): Record<string, EnrichmentFigures> | undefined { return this.#enrich?.figures(); }

  /** Partitions this process owns per stream, from the last rebalance. */
  #owned: ReadonlyMap<string, readonly number[]> = new Map();

  /**
   * Watermarks wait for every partition of a stream's topic (the count from the broker's
   * metadata): one this process does not own is held (its owner may have died with records
   * unread), and so is an owned one whose last batch left records behind. Only an owned
   * partition that is caught up (or not read yet since its assignment) and silent for
   * idle_timeout may go idle.
   * `assigned`: a rebalance just happened (owned partitions get a fresh idle_timeout).
   */
  #holdPartitions(now: number, assigned: boolean): void {
    for (const s of this.engine.streams) {
      if (s.metrics.length === 0) continue;
      const topic = s.stream.topic;
      const count = this.#source.partitionCount(topic) ?? 0;
      const mine = new Set(this.#owned.get(s.stream.name) ?? []);
      for (let p = 0; p < count; p++) {
        const lag = this.#source.lag.get(`${topic}:${p}`);
        const held = !mine.has(p) || (lag !== undefined && lag > 0);
        if (assigned && mine.has(p)) s.watermark.hold(p, true, now); // a fresh start for the new owner
        s.watermark.hold(p, held, now);
      }
    }
  }

  /** Snapshot → flush results → save → commit. Concurrent calls share one run. */
  checkpoint(): Promise<void> {
    this.#checkpointing ??= (async () => {
      const started = performance.now();
      try {
        const cut = this.engine.captureChanges();
        const captureMs = performance.now() - started;
        // The changes go to the writer thread in slices while the outputs are flushed.
        await sendWhileFlushing(this.store, (function* () { yield { op: 'put', db: 'meta', key: ['mode'], value: 'single' } as const; yield* cut.ops; })(),
          [this.#opts.archive, this.#results, this.#dlq]);
        const commit = await this.store.commit();
        cut.committed();
        if (this.#legacy) { renameSync(this.#legacy, `${this.#legacy}.migrated`); this.#legacy = undefined; }
        const offsets = Object.entries(cut.offsets).flatMap(([stream, list]) => {
          const topic = this.#topicOf.get(stream);
          return topic ? list.map(([partition, offset]) => ({ topic, partition, offset })) : [];
        });
        // Streams sharing a topic: commit what every one of them has processed.
        await this.#source.commit(lowestPerPartition(offsets));
        this.lastCheckpoint = { ms: performance.now() - started, captureMs, commit };
        this.checkpoints++;
        this.lastCheckpointAt = Date.now();
        this.lastCheckpointMs = performance.now() - started;
        this.onCheckpoint?.(this.lastCheckpointMs, this.lastCheckpoint);
      } finally {
        this.#checkpointing = undefined;
      }
    })();
    return this.#checkpointing;
  }

  /**
   * Stops consuming, writes a final checkpoint, disconnects. The consumer and the producer are
   * closed even when the checkpoint fails (the last good one stays the recovery point); then
   * the first error is thrown.
   */
  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    // Pause, then checkpoint while the group is still joined (offsets can only be committed
    // by a member), then leave the group.
    this.#source.pause();
    let failure: unknown;
    try {
      // A batch waiting for its lookups finishes first (each waits at most the lookup's
      // timeout; an open breaker answers at once), so the final checkpoint covers it.
      await this.#handling?.catch(() => undefined);
      await this.#checkpointing?.catch(() => undefined); // one already running took its snapshot before the last batch
      await this.checkpoint();
    } catch (err) {
      failure = err;
    }
    this.#enrich?.close(); // the breakers' timers
    for (const close of [() => this.#source.stop(), () => this.#producer.disconnect(), () => this.store.close()]) {
      try { await close(); } catch (err) { failure ??= err; }
    }
    if (failure !== undefined) throw failure;
  }
}
