/**
 * One member of a pitwall group: several members (worker threads of one `pitwall run`, and
 * several `pitwall run` processes with the same --group) share the work through the broker's
 * consumer groups, as Kafka Streams instances do (DESIGN.md, "Scale-out").
 *
 * - Input partitions are spread over the members by the consumer group `<group>`; a member runs
 *   phase one of two-phase aggregation (hot/two-phase.ts) on the partitions it owns.
 * - Partials go through `<prefix>.<metric>.partials` (default prefix `pitwall`), partitioned by
 *   group key (by window for a top-N); its partitions are spread by the consumer group
 *   `<group>.merge`, and their owner merges, closes windows and publishes results.
 * - State lives in the state store (state/), shared by every member on the machine: per input
 *   partition its next offset, watermark mark and floor, and dedup ids; per partials partition
 *   its windows, marks, the flushes applied and its next offset. A rebalance hands a partition
 *   over with its state: the new owner records itself as owner (`owner` / `owner2` meta
 *   records) in a transaction, then reads the state; a member that lost a partition can no
 *   longer commit for it (every checkpoint is guarded by those records: PW_STATE_FENCED).
 *
 * Exactly-once, per checkpoint (every `checkpointIntervalMs`): phase one is drained into
 * partials messages; the archive, results and DLQ outputs are acknowledged; then one store
 * transaction commits the input partitions' state, the partials partitions' state and the
 * drained messages (an outbox record `['outbox', member, seq]`). Only then are the messages
 * produced; a member that dies in between leaves the record, and the member that next joins
 * produces it (phase two skips a flush it already applied: senders number their flushes).
 * Results are idempotent upserts, recomputed identically after a crash from the same partials.
 * On any rebalance a member drops its unsaved work and reloads what it owns, so nothing is
 * counted twice across the move.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Kafka, logLevel, Partitioners, type Consumer, type EachBatchPayload, type Producer } from 'kafkajs';
import type { ArchiveWriter } from '../archive/archive-writer.js';
import type { Catalog } from '../catalog/index.js';
import { ExecutionError } from '../errors.js';
import type { MetricPlan } from '../plan/index.js';
import { DlqSink } from '../sinks/dlq-topic.js';
import { ResultsTopicSink } from '../sinks/results-topic.js';
import { rawRecord } from '../sources/kafka-source.js';
import { ensureTopics } from '../sources/topics.js';
import { STATE_FORMAT, type StateOp } from '../state/layout.js';
import { StateStore } from '../state/state-store.js';
import type { EngineSink } from './engine.js';
import { PROCESS_SLICE, sendWhileFlushing, type KafkaRunOptions } from './kafka-runner.js';
import type { MetricStats } from './metric-operator.js';
import { evidenceFrom, evidenceTuple, type ForwardedEvent, type PartialWindow } from './operator-types.js';
import type { StreamRuntime, StreamStats } from './stream-runtime.js';
import { MergeStage, PartialStage, type PartialsMessage } from './two-phase.js';

export interface MemberRunnerOptions extends KafkaRunOptions {
  /** Partials topics are `<partialsPrefix>.<metric>.partials` (default: the group id). */
  readonly partialsPrefix?: string;
  /** Partitions of a partials topic created by this member (default: its stream topic's). */
  readonly partialsPartitions?: number;
  /** This member's id (default: host, pid and a random suffix). */
  readonly memberId?: string;
  /** The archive (an ArchiveWriter, or a worker thread's proxy of its process's one). */
  readonly archive?: MemberArchive;
}

/** What a member needs of the archive. */
export type MemberArchive = Pick<ArchiveWriter, 'accepted' | 'late' | 'quarantined' | 'flush' | 'relieve' | 'open' | 'ready' | 'broken'>;

/** The partials topic of a metric. */
export function partialsTopic(prefix: string, metric: string): string {
  return `${prefix}.${metric}.partials`;
}


/** A partials message on the wire (JSON): sender, flush sequence, marks, partials, events. */
interface WireMessage {
  readonly s: string;
  /** The sender's state store (StateStore.identity). */
  readonly st?: string;
  readonly n: number;
  /** PartialsMessage.sinceMs (wall clock, ms), when known. */
  readonly a?: number;
  /** [input partition, mark ms or null for −∞]. */
  readonly m: [number, number | null][];
  readonly w: [number, [string, unknown[], unknown[]][]][];
  /**
   * [group id, event id, event time, payload, partition, offset, arrival watermark (null: −∞),
   * its partition's own watermark (null: −∞), 1 if its partition was idle (LateEvidence)].
   */
  readonly e: [string, string, number, Record<string, unknown>, number, number, number | null, (number | null)?, (0 | 1)?][];
}

/** Most characters of one partials message (the broker refuses record batches over 1 MB by default). */
export const CHUNK_CHARS = 256 * 1024;
/** A flush's messages to one partials partition are numbered seq · CHUNKS_PER_FLUSH + chunk. */
const CHUNKS_PER_FLUSH = 1 << 20;

/**
 * A flush's message to one partials partition as wire messages of at most CHUNK_CHARS
 * characters (one group or event larger than that goes alone), numbered from `seq`; the marks
 * go with the last one, after every partial.
 */
export function encodeChunks(msg: PartialsMessage, source: string, seq: number, store = ''): string[] {
  const out: string[] = [];
  let windows: string[] = [];
  let events: string[] = [];
  let ws: number | undefined;
  let groups: string[] = [];
  let size = 0;
  const closeWindow = (): void => { if (ws !== undefined && groups.length > 0) windows.push(`[${ws},[${groups.join(',')}]]`); groups = []; };
  const cut = (last: boolean): void => {
    closeWindow();
    const marks = last ? JSON.stringify(msg.marks.map(([p, m]) => [p, Number.isFinite(m) ? m : null])) : '[]';
    const since = msg.sinceMs !== undefined ? `"a":${msg.sinceMs},` : '';
    out.push(`{"s":${JSON.stringify(source)},"st":${JSON.stringify(store)},"n":${seq + out.length},${since}"m":${marks},"w":[${windows.join(',')}],"e":[${events.join(',')}]}`);
    windows = [];
    events = [];
    size = 0;
  };
  const add = (text: string, into: () => string[]): void => {
    if (size > 0 && size + text.length > CHUNK_CHARS) cut(false);
    into().push(text);
    size += text.length + 1;
  };
  for (const w of msg.batch.windows) {
    closeWindow();
    ws = w.ws;
    for (const g of w.groups) add(JSON.stringify([g.id, g.keys, g.accs]), () => groups);
  }
  closeWindow();
  ws = undefined;
  for (const f of msg.batch.events) {
    const ev = f.evidence;
    const tail = ev ? evidenceTuple(ev) : [];
    add(JSON.stringify([f.id, f.event.eventId, f.event.eventTimeMs, f.event.payload, f.origin.partition, f.origin.offset, Number.isFinite(f.watermarkMs) ? f.watermarkMs : null, ...tail]), () => events);
  }
  cut(true);
  return out;
}

/** A wire message back as a partials message of `metric`'s partials partition `partition`, with its sender and sequence. */
export function decode(metric: string, partition: number, text: string): { msg: PartialsMessage; source: string; seq: number; store: string } {
  const w = JSON.parse(text) as WireMessage;
  const windows: PartialWindow[] = w.w.map(([ws, groups]) => ({ ws, groups: groups.map(([id, keys, accs]) => ({ id, keys: keys as PartialWindow['groups'][number]['keys'], accs })) }));
  const events: ForwardedEvent[] = w.e.map(([id, eventId, eventTimeMs, payload, p, offset, wm, pwm, idle]) => ({
    id, event: { ok: true, eventId, eventTimeMs, payload }, origin: { partition: p, offset }, watermarkMs: wm ?? Number.NEGATIVE_INFINITY,
    evidence: evidenceFrom(pwm, idle),
  }));
  return {
    msg: { metric, partition, batch: { windows, events }, marks: w.m.map(([p, m]) => [p, m ?? Number.NEGATIVE_INFINITY]), ...(w.a !== undefined ? { sinceMs: w.a } : {}) },
    source: w.s, seq: w.n, store: w.st ?? '',
  };
}

interface OutboxRecord { readonly messages: { topic: string; partition: number; value: string }[] }

export class MemberRunner {
  readonly id: string;
  readonly store: StateStore;
  readonly plans: readonly MetricPlan[];
  readonly #catalog: Catalog;
  readonly #opts: MemberRunnerOptions;
  readonly #kafka: Kafka;
  readonly #producer: Producer;
  readonly #results: ResultsTopicSink;
  readonly #dlq: DlqSink;
  readonly #sink: EngineSink;
  readonly #prefix: string;
  #c1: Consumer | undefined;
  #c2: Consumer | undefined;
  #p1: PartialStage;
  #p2: MergeStage;
  /** Stream names per input topic, and the topic of each stream. */
  readonly #streamsOf = new Map<string, string[]>();
  readonly #topicOf = new Map<string, string>();
  /** Metric per partials topic. */
  readonly #metricOf = new Map<string, string>();
  readonly #partitions = new Map<string, number>();
  /** `${topic}:${partition}` → records behind the high watermark at the last batch. */
  readonly lag = new Map<string, number>();
  #assigned1: Record<string, number[]> = {};
  #assigned2: Record<string, number[]> = {};
  #ready1: Promise<void> = Promise.resolve();
  #ready2: Promise<void> = Promise.resolve();
  #seq = 0;
  /** Flushes committed to the store but not yet produced (in order), and produced ones whose record is still stored. */
  #unsent: { seq: number; record: OutboxRecord }[] = [];
  #sentSeqs: number[] = [];
  #checkpointing: Promise<void> | undefined;
  /** Store transactions (checkpoints, ownership claims) run one at a time, in order. */
  #lock: Promise<void> = Promise.resolve();
  #timers: NodeJS.Timeout[] = [];
  #stopped = false;
  checkpoints = 0;
  /** The last scheduled checkpoint's failure, until one succeeds. */
  lastCheckpointError: Error | undefined;
  lastCheckpointAt = 0;
  lastCheckpointMs = 0;
  /** Flushes applied twice and skipped (re-sent after their sender died), and fenced checkpoints. */
  readonly counters = { skippedFlushes: 0, fenced: 0, rebalances: 0, foreignFlushes: 0 };
  /** This member's state store (StateStore.identity), sent with its partials. */
  readonly #storeId: string;
  /** Senders seen keeping their state in another store (each logged once). */
  readonly #foreign = new Set<string>();
  /**
   * Set once partials arrive from a member with another state directory: partitions cannot move
   * between them with their state, so results are not exact (readiness reports it).
   */
  groupError: string | undefined;
  onCheckpoint: ((ms: number) => void) | undefined;
  /**
   * While phase two applies a partials message: when the first input batch behind it reached
   * its sender (wall clock, ms; PartialsMessage.sinceMs), for the result rows it emits.
   */
  resultSinceMs: number | undefined;

  constructor(catalog: Catalog, plans: readonly MetricPlan[], opts: MemberRunnerOptions) {
    this.#catalog = catalog;
    this.plans = plans;
    this.#opts = opts;
    this.id = opts.memberId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.#prefix = opts.partialsPrefix ?? opts.groupId;
    this.#kafka = new Kafka({ clientId: `pitwall-${this.id}`, brokers: [...opts.brokers], logLevel: logLevel.ERROR, retry: { retries: 20, maxRetryTime: 10_000 } });
    this.#producer = this.#kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    this.#results = new ResultsTopicSink(this.#producer, opts.resultsTopic);
    this.#dlq = new DlqSink(this.#producer);
    const extra = opts.sink ?? {};
    const archive = opts.archive;
    this.#sink = {
      ...extra,
      result: (p, c) => { this.#results.write(p, c); extra.result?.(p, c); },
      quarantine: (r) => { this.#dlq.write(this.#topicOf.get(r.stream) ?? r.stream, r); archive?.quarantined(r); extra.quarantine?.(r); },
      ...(archive ? {
        accepted: (s, e, o, raw) => { archive.accepted(s, e, o, raw); extra.accepted?.(s, e, o, raw); },
        late: (p, pair) => { archive.late(p, pair); extra.late?.(p, pair); },
      } : {}),
    };
    for (const p of plans) {
      const topic = p.stream.topic;
      const names = this.#streamsOf.get(topic) ?? [];
      if (!names.includes(p.stream.name)) names.push(p.stream.name);
      this.#streamsOf.set(topic, names);
      this.#topicOf.set(p.stream.name, topic);
      this.#metricOf.set(partialsTopic(this.#prefix, p.name), p.name);
    }
    this.store = new StateStore(opts.stateDir);
    this.#storeId = this.store.identity;
    this.#p1 = this.#newPartialStage();
    this.#p2 = this.#newMergeStage();
  }

  #newPartialStage(): PartialStage {
    return new PartialStage(this.#catalog, this.plans, this.#sink, {
      ...(this.#opts.maxGroups !== undefined ? { maxGroups: this.#opts.maxGroups } : {}),
      ...(this.#opts.maxDedupIds !== undefined ? { maxDedupIds: this.#opts.maxDedupIds } : {}),
      futureReference: 'processing-time',
      partialsPartitions: (metric) => this.#partitions.get(partialsTopic(this.#prefix, metric)) ?? 1,
    });
  }

  #newMergeStage(): MergeStage {
    return new MergeStage(this.plans, this.#sink, {
      ...(this.#opts.maxGroups !== undefined ? { maxGroups: this.#opts.maxGroups } : {}),
      inputPartitions: (stream) => this.#partitions.get(this.#topicOf.get(stream) ?? '') ?? 0,
    });
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn);
    this.#lock = run.then(() => undefined, () => undefined);
    return run;
  }

  /**
   * Runs a reload under the store lock; a failed one (the store or broker briefly unavailable)
   * is retried every second until it succeeds or the member stops. Never rejects.
   */
  async #reload(what: string, run: () => Promise<void>): Promise<void> {
    for (let attempt = 1; !this.#stopped; attempt++) {
      try {
        await this.#exclusive(run);
        return;
      } catch (err) {
        this.#log(`taking over ${what} partitions failed (attempt ${attempt}, will retry): ${(err as Error).message}`);
        if (this.store.broken) { this.#opts.onFatal?.(err as Error); return; }
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** Seeks not applied yet (the consumer was not running yet): applied before its next batch. */
  readonly #pendingSeeks = new Map<Consumer, { topic: string; partition: number; offset: string }[]>();

  #seek(consumer: Consumer, topic: string, partition: number, offset: number): void {
    const s = { topic, partition, offset: String(offset) };
    try { consumer.seek(s); } catch { this.#pendingSeeks.set(consumer, [...(this.#pendingSeeks.get(consumer) ?? []), s]); }
  }

  /** Applies pending seeks; true when one of them moved `topic`/`partition` (the batch in hand is stale). */
  #applySeeks(consumer: Consumer, topic: string, partition: number): boolean {
    const list = this.#pendingSeeks.get(consumer);
    if (!list) return false;
    this.#pendingSeeks.delete(consumer);
    let hit = false;
    for (const s of list) {
      try { consumer.seek(s); } catch { continue; } // no longer assigned
      if (s.topic === topic && s.partition === partition) hit = true;
    }
    return hit;
  }

  #log(msg: string): void { this.#opts.log?.(`[${this.id}] ${msg}`); }

  /** Phase one's stream runtimes (the member's watermark, dedup and counters per stream). */
  get streams(): readonly StreamRuntime[] { return this.#p1.streams; }

  /** Phase one's counters for work committed by checkpoints (work a reload dropped is counted when redone). */
  readonly #committed: { streams: Record<string, StreamStats>; metrics: Record<string, MetricStats> } = { streams: {}, metrics: {} };
  /** Counters of the checkpoint being committed (and of failed ones, carried into the next). */
  #carried: { streams: Record<string, StreamStats>; metrics: Record<string, MetricStats> } = { streams: {}, metrics: {} };

  static #add(into: { streams: Record<string, StreamStats>; metrics: Record<string, MetricStats> }, from: { streams: Record<string, StreamStats>; metrics: Record<string, MetricStats> }): void {
    for (const [k, v] of Object.entries(from.streams)) {
      const t = into.streams[k] ??= { events: 0, accepted: 0, quarantined: 0, duplicates: 0, late: 0, misrouted: 0 };
      for (const f of Object.keys(v) as (keyof StreamStats)[]) t[f] += v[f];
    }
    for (const [k, v] of Object.entries(from.metrics)) {
      const t = into.metrics[k] ??= { rows: 0, updates: 0, late: 0, overflow: 0 };
      t.late += v.late;
      t.overflow += v.overflow;
    }
  }

  /**
   * Counters per stream (phase one) and per metric (phase one's late pairs and overflows, phase
   * two's rows), exact across rebalances: phase one's committed work plus its work since, and
   * phase two's counters as stored with each partials partition.
   */
  stats(): { streams: Record<string, StreamStats>; metrics: Record<string, MetricStats> } {
    const one = { streams: {}, metrics: {} } as { streams: Record<string, StreamStats>; metrics: Record<string, MetricStats> };
    MemberRunner.#add(one, this.#committed);
    MemberRunner.#add(one, this.#carried);
    MemberRunner.#add(one, this.#p1.stats());
    const two = this.#p2.stats();
    const metrics: Record<string, MetricStats> = {};
    for (const p of this.plans) {
      const a = one.metrics[p.name];
      const b = two[p.name];
      metrics[p.name] = {
        rows: b?.rows ?? 0, updates: b?.updates ?? 0, late: (a?.late ?? 0) + (b?.late ?? 0), overflow: (a?.overflow ?? 0) + (b?.overflow ?? 0),
        partialsAfterClose: b?.partialsAfterClose ?? 0,
      };
    }
    return { streams: one.streams, metrics };
  }

  stateSize(): Record<string, { groups: number; bytes: number }> { return this.#p2.stateSize(); }

  /** Phase two's watermark (ms) per owned partials partition, as `metric[q]`. */
  mergeWatermarks(): Record<string, number> {
    return Object.fromEntries(this.#p2.owned().map(([m, q]) => [`${m}[${q}]`, this.#p2.watermark(m, q)]));
  }

  /** Messages buffered for the broker per output topic. */
  outboxes(): Map<string, number> {
    return new Map([[this.#results.topic, this.#results.buffered], ...this.#dlq.buffered()]);
  }

  /** Input partitions and partials partitions this member owns (by topic), and every such topic's partition count. */
  owned(): { input: Record<string, number[]>; partials: Record<string, number[]>; counts: Record<string, number> } {
    return { input: { ...this.#assigned1 }, partials: { ...this.#assigned2 }, counts: Object.fromEntries(this.#partitions) };
  }

  async start(): Promise<void> {
    const inputTopics = [...this.#streamsOf.keys()];
    const admin = this.#kafka.admin();
    try {
      await ensureTopics(this.#kafka, [
        { topic: this.#opts.resultsTopic, partitions: 3, compacted: true },
        ...this.plans.flatMap((p) => [{ topic: p.stream.topic, partitions: p.stream.partitions }, { topic: `${p.stream.topic}.dlq`, partitions: 1 }]),
      ]);
      await admin.connect();
      const meta = await admin.fetchTopicMetadata({ topics: inputTopics });
      for (const t of meta.topics) this.#partitions.set(t.name, t.partitions.length);
      await ensureTopics(this.#kafka, this.plans.map((p) => ({
        topic: partialsTopic(this.#prefix, p.name),
        partitions: this.#opts.partialsPartitions ?? this.#partitions.get(p.stream.topic) ?? 1,
      })));
      const pmeta = await admin.fetchTopicMetadata({ topics: [...this.#metricOf.keys()] });
      for (const t of pmeta.topics) this.#partitions.set(t.name, t.partitions.length);
    } catch (err) {
      throw new ExecutionError('PW_KAFKA', `cannot reach or prepare Kafka at ${this.#opts.brokers.join(',')}: ${(err as Error).message}; check --brokers and that the broker is up`, { cause: err });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    this.#checkStoreMode();
    this.#opts.archive?.open();
    await this.#opts.archive?.ready();
    await this.#producer.connect();
    // maxWaitTimeInMs: a fetch of a quiet partition returns within 1 s (stop, rebalances and
    // partials reach phase two sooner).
    const c1 = this.#kafka.consumer({ groupId: this.#opts.groupId, maxWaitTimeInMs: 1000, sessionTimeout: 10_000, heartbeatInterval: 2_000, rebalanceTimeout: 30_000, maxBytesPerPartition: 1 << 20, maxBytes: 8 << 20, retry: { retries: 20 } });
    const c2 = this.#kafka.consumer({ groupId: `${this.#opts.groupId}.merge`, maxWaitTimeInMs: 1000, sessionTimeout: 10_000, heartbeatInterval: 2_000, rebalanceTimeout: 30_000, maxBytesPerPartition: 4 << 20, maxBytes: 16 << 20, retry: { retries: 20 } });
    this.#c1 = c1;
    this.#c2 = c2;
    c1.on(c1.events.GROUP_JOIN, (e) => { this.#assigned1 = e.payload.memberAssignment as Record<string, number[]>; this.#ready1 = this.#reload('input', () => this.#reloadInput(c1)); });
    c2.on(c2.events.GROUP_JOIN, (e) => { this.#assigned2 = e.payload.memberAssignment as Record<string, number[]>; this.#ready2 = this.#reload('partials', () => this.#reloadMerge(c2)); });
    await Promise.all([c1.connect(), c2.connect()]);
    for (const topic of inputTopics) await c1.subscribe({ topic, fromBeginning: this.#opts.fromBeginning });
    for (const topic of this.#metricOf.keys()) await c2.subscribe({ topic, fromBeginning: true });
    await c1.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: (b) => this.#onInput(b) });
    await c2.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: (b) => this.#onPartials(b) });
    this.#timers.push(setInterval(() => this.#tick(Date.now()), 1000));
    let failures = 0;
    this.#timers.push(setInterval(() => {
      this.checkpoint().then(() => { failures = 0; this.lastCheckpointError = undefined; }, (err: unknown) => {
        failures++;
        this.lastCheckpointError = err as Error;
        this.#log(`checkpoint failed (${failures} in a row, will retry): ${(err as Error).message}`);
        if (failures >= 24 || this.#opts.archive?.broken || this.store.broken) this.#opts.onFatal?.(err as Error);
      });
    }, this.#opts.checkpointIntervalMs));
  }

  /** A store written by a single-process run holds windows no member can merge: refuse it. */
  #checkStoreMode(): void {
    const format = this.store.reader.get('meta', ['format']);
    if (format === undefined) return;
    if (format !== STATE_FORMAT) throw new ExecutionError('PW_CHECKPOINT_VERSION', `state store format ${String(format)} is not supported (expected ${STATE_FORMAT}); remove the state directory to start fresh`);
    if (this.store.reader.get('meta', ['mode']) !== 'group') {
      throw new ExecutionError('PW_STATE_MODE', `the state directory ${this.#opts.stateDir} was written by a single-process run (pitwall run --single), whose open windows a group cannot take over; finish it with --single, or give the group a new --state-dir`);
    }
  }

  /** Produces flushes other members committed but did not get to send (they died in between). */
  async #sendLeftovers(): Promise<void> {
    this.store.refresh();
    const left: { key: unknown[]; record: OutboxRecord }[] = [];
    for (const { key, value } of this.store.reader.scan('meta', ['outbox'])) if (key[1] !== this.id) left.push({ key: [...key], record: value as OutboxRecord });
    if (left.length === 0) return;
    for (const l of left) await this.#produce(l.record);
    await this.store.send(left.map((l): StateOp => ({ op: 'del', db: 'meta', key: l.key as (string | number)[] })));
    await this.store.commit();
    this.#log(`sent ${left.length} flushes left by members that stopped`);
  }

  /**
   * Produces a flush's messages in rounds of at most one message per partials partition (the
   * client puts a request's messages for one partition into one record batch, which the broker
   * limits to 1 MB), in order per partition.
   */
  async #produce(record: OutboxRecord): Promise<void> {
    const queues = new Map<string, { topic: string; partition: number; value: string }[]>();
    for (const m of record.messages) {
      const key = `${m.topic}\u0000${m.partition}`;
      const q = queues.get(key);
      if (q) q.push(m); else queues.set(key, [m]);
    }
    for (let round = 0; queues.size > 0; round++) {
      const byTopic = new Map<string, { partition: number; value: string }[]>();
      for (const [key, q] of queues) {
        const m = q[round];
        if (m === undefined) { queues.delete(key); continue; }
        const list = byTopic.get(m.topic);
        if (list) list.push({ partition: m.partition, value: m.value }); else byTopic.set(m.topic, [{ partition: m.partition, value: m.value }]);
      }
      if (byTopic.size > 0) await this.#producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    }
  }

  /**
   * After a rebalance of the input group: drops every unsaved change (a new phase one), records
   * this member as owner of its partitions, reads their state and seeks to their offsets.
   */
  async #reloadInput(consumer: Consumer, claim = true): Promise<void> {
    this.counters.rebalances++;
    await this.store.discard();
    this.#carried = { streams: {}, metrics: {} };
    this.#p1 = this.#newPartialStage();
    if (claim) {
      const claims: StateOp[] = [{ op: 'put', db: 'meta', key: ['format'], value: STATE_FORMAT }, { op: 'put', db: 'meta', key: ['mode'], value: 'group' }];
      for (const [topic, parts] of Object.entries(this.#assigned1)) {
        for (const stream of this.#streamsOf.get(topic) ?? []) for (const p of parts) claims.push({ op: 'put', db: 'meta', key: ['owner', stream, p], value: this.id });
        for (const p of parts) this.lag.delete(`${topic}:${p}`);
      }
      await this.store.send(claims);
      await this.store.commit();
    } else {
      // Fenced: a newer generation gave some of these partitions to others; keep only what the
      // store says is still this member's (the group tells the rest at its next rebalance).
      this.store.refresh();
      this.#assigned1 = Object.fromEntries(Object.entries(this.#assigned1).map(([topic, parts]) => [topic, parts.filter((p) =>
        (this.#streamsOf.get(topic) ?? []).every((stream) => this.store.reader.get('meta', ['owner', stream, p]) === this.id))]));
    }
    // A member that left may have committed a flush it did not get to send.
    await this.#sendLeftovers();
    const now = Date.now();
    const started = performance.now();
    let restored = 0;
    for (const [topic, parts] of Object.entries(this.#assigned1)) {
      for (const p of parts) {
        let low: number | undefined;
        for (const stream of this.#streamsOf.get(topic) ?? []) {
          const off = this.#p1.restorePartition(this.store.reader, stream, p, now);
          if (off !== undefined) { low = low === undefined ? off : Math.min(low, off); restored++; }
        }
        if (low !== undefined) this.#seek(consumer, topic, p, low);
      }
    }
    this.#log(`assigned input partitions ${Object.entries(this.#assigned1).map(([t, ps]) => `${t}[${ps.join(',')}]`).join(' ') || 'none'}`
      + (restored ? `; restored state store in ${Math.round(performance.now() - started)} ms (${restored} partitions)` : ''));
  }

  /** After a rebalance of the merge group: the same for partials partitions. */
  async #reloadMerge(consumer: Consumer, claim = true): Promise<void> {
    await this.store.discard();
    this.#p2 = this.#newMergeStage();
    if (claim) {
      const claims: StateOp[] = [{ op: 'put', db: 'meta', key: ['format'], value: STATE_FORMAT }, { op: 'put', db: 'meta', key: ['mode'], value: 'group' }];
      for (const [topic, parts] of Object.entries(this.#assigned2)) {
        const metric = this.#metricOf.get(topic);
        if (metric !== undefined) for (const q of parts) claims.push({ op: 'put', db: 'meta', key: ['owner2', metric, q], value: this.id });
      }
      await this.store.send(claims);
      await this.store.commit();
    } else {
      this.store.refresh();
      this.#assigned2 = Object.fromEntries(Object.entries(this.#assigned2).map(([topic, parts]) => [topic, parts.filter((q) =>
        this.store.reader.get('meta', ['owner2', this.#metricOf.get(topic) ?? '', q]) === this.id)]));
    }
    this.store.refresh();
    for (const [topic, parts] of Object.entries(this.#assigned2)) {
      const metric = this.#metricOf.get(topic);
      if (metric === undefined) continue;
      for (const q of parts) {
        const off = await this.#p2.restoreTask(this.store.reader, metric, q);
        if (off !== undefined) this.#seek(consumer, topic, q, off);
      }
    }
    this.#p2.track();
    this.#log(`assigned partials partitions ${Object.entries(this.#assigned2).map(([t, ps]) => `${t}[${ps.join(',')}]`).join(' ') || 'none'}`);
  }

  async #onInput({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    await this.#ready1;
    if (this.#c1 && this.#applySeeks(this.#c1, batch.topic, batch.partition)) return;
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const streams = this.#streamsOf.get(batch.topic) ?? [];
    const stage = this.#p1;
    if (!streams.every((s) => stage.owned(s).includes(batch.partition))) {
      // A batch of a partition this member's state does not hold (fetched before a rebalance
      // or a fencing settled): not processed and not resolved; fetched again from its first
      // offset, by whoever then owns it.
      this.#seek(this.#c1 as Consumer, batch.topic, batch.partition, Number(batch.messages[0]?.offset));
      await new Promise((r) => setTimeout(r, 100));
      return;
    }
    const partitions = this.#partitions.get(batch.topic);
    const records = batch.messages.map((m) => rawRecord(batch.partition, Number(m.offset), m.value, m.key, partitions));
    for (const stream of streams) {
      for (let i = 0; i < records.length; i += PROCESS_SLICE) {
        if (i > 0) await yieldToLoop();
        stage.process(stream, records.length <= PROCESS_SLICE ? records : records.slice(i, i + PROCESS_SLICE), Date.now());
      }
    }
    // A reload replaced the stage meanwhile: this batch's work was dropped with it, and the
    // reload moved the partition back to its stored offset.
    if (stage !== this.#p1) return;
    const last = batch.messages[batch.messages.length - 1]?.offset as string;
    resolveOffset(last);
    this.lag.set(`${batch.topic}:${batch.partition}`, Math.max(0, Number(batch.highWatermark) - Number(last) - 1));
    await this.#dlq.relieve();
    await this.#opts.archive?.relieve();
    await heartbeat();
  }

  async #onPartials({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    await this.#ready2;
    if (this.#c2 && this.#applySeeks(this.#c2, batch.topic, batch.partition)) return;
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const metric = this.#metricOf.get(batch.topic);
    if (metric === undefined) return;
    const stage = this.#p2;
    if (!stage.owned().some(([m, q]) => m === metric && q === batch.partition)) {
      this.#seek(this.#c2 as Consumer, batch.topic, batch.partition, Number(batch.messages[0]?.offset));
      await new Promise((r) => setTimeout(r, 100));
      return;
    }
    for (const m of batch.messages) {
      if (!m.value) continue;
      const { msg, source, seq, store } = decode(metric, batch.partition, m.value.toString('utf8'));
      if (store !== this.#storeId) this.#foreignSender(source, store);
      this.resultSinceMs = msg.sinceMs;
      try {
        if (!stage.receive(msg, { source, seq, offset: Number(m.offset) })) this.counters.skippedFlushes++;
      } finally {
        this.resultSinceMs = undefined;
      }
    }
    if (stage !== this.#p2) return;
    resolveOffset(batch.messages[batch.messages.length - 1]?.offset as string);
    await this.#results.relieve();
    await heartbeat();
  }

  /**
   * A member of this group keeps its state in another state directory (another machine, or
   * another --state-dir here): partitions moving between it and this member lose their state,
   * so results are not exact. Said loudly, once per sender, and kept for readiness.
   */
  #foreignSender(source: string, store: string): void {
    this.counters.foreignFlushes++;
    if (this.#foreign.has(source)) return;
    this.#foreign.add(source);
    this.groupError = `member ${source} of group ${this.#opts.groupId} keeps its state in another state store (${store || 'unknown'}; this member's is ${this.#storeId}): every member of a group must open the same --state-dir on one machine, or partitions moving between members lose their state and results are not exact; stop the members with another --state-dir or give them their own --group`;
    this.#log(`ERROR ${this.groupError}`);
  }

  /**
   * Processing-time tick: an owned partition whose last batch left records unread never goes
   * idle; one caught up (or not read since its assignment) and silent for idle_timeout stops
   * holding this member's watermark.
   */
  #tick(now: number): void {
    for (const s of this.#p1.streams) {
      const topic = s.stream.topic;
      for (const p of this.#p1.owned(s.stream.name)) {
        const lag = this.lag.get(`${topic}:${p}`);
        s.watermark.hold(p, lag !== undefined && lag > 0, now);
      }
    }
    this.#p1.tick(now);
  }

  /** Drain → acknowledge outputs → commit state and outbox → produce the flush → commit group offsets. */
  checkpoint(): Promise<void> {
    this.#checkpointing ??= (async () => {
      const started = performance.now();
      try {
        await this.#ready1;
        await this.#ready2;
        await this.#exclusive(() => this.#checkpointBody(started));
      } finally {
        this.#checkpointing = undefined;
      }
    })();
    return this.#checkpointing;
  }

  async #checkpointBody(started: number): Promise<void> {
    {
      {
        const p1 = this.#p1;
        const p2 = this.#p2;
        const seq = ++this.#seq;
        const flush = p1.flush(false, false);
        const cut1 = p1.captureChanges(this.id);
        MemberRunner.#add(this.#carried, p1.takeStats());
        this.store.refresh();
        const prev = (this.store.reader.get('meta', ['checkpoint']) as { seq: number } | undefined)?.seq ?? 0;
        const ops2 = p2.captureChanges(this.id);
        const record: OutboxRecord = { messages: [] };
        for (const m of flush.messages) {
          if (m.marks.length === 0 && m.batch.windows.length === 0 && m.batch.events.length === 0) continue;
          const topic = partialsTopic(this.#prefix, m.metric);
          for (const value of encodeChunks(m, this.id, seq * CHUNKS_PER_FLUSH, this.#storeId)) record.messages.push({ topic, partition: m.partition, value });
        }
        const sent = this.#sentSeqs;
        this.#sentSeqs = [];
        const ops: StateOp[] = [
          ...cut1.ops, ...ops2,
          { op: 'put', db: 'meta', key: ['outbox', this.id, seq], value: record },
          { op: 'put', db: 'meta', key: ['checkpoint'], value: { takenAt: new Date().toISOString(), seq: prev + 1, member: this.id } },
          ...sent.map((n): StateOp => ({ op: 'del', db: 'meta', key: ['outbox', this.id, n] })),
        ];
        await sendWhileFlushing(this.store, ops, [this.#opts.archive, this.#results, this.#dlq]);
        try {
          await this.store.commit();
        } catch (err) {
          this.#sentSeqs = sent.concat(this.#sentSeqs);
          if ((err as ExecutionError).code === 'PW_STATE_FENCED') {
            // Another member owns some of this: reload everything this member still owns.
            this.counters.fenced++;
            this.#log((err as Error).message);
            const c1 = this.#c1;
            const c2 = this.#c2;
            if (c1) this.#ready1 = this.#reload('input', () => this.#reloadInput(c1, false));
            if (c2) this.#ready2 = this.#reload('partials', () => this.#reloadMerge(c2, false));
          }
          throw err;
        }
        cut1.committed();
        MemberRunner.#add(this.#committed, this.#carried);
        this.#carried = { streams: {}, metrics: {} };
        this.#unsent.push({ seq, record });
        while (this.#unsent.length > 0) {
          const next = this.#unsent[0] as { seq: number; record: OutboxRecord };
          await this.#produce(next.record);
          this.#unsent.shift();
          this.#sentSeqs.push(next.seq);
        }
        await this.#commitGroupOffsets(p1, p2);
        this.checkpoints++;
        this.lastCheckpointAt = Date.now();
        this.lastCheckpointMs = performance.now() - started;
        this.onCheckpoint?.(this.lastCheckpointMs);
      }
    }
  }

  /** The offsets the store holds, committed to the groups too (for tools that read group lag). */
  async #commitGroupOffsets(p1: PartialStage, p2: MergeStage): Promise<void> {
    const input: { topic: string; partition: number; offset: string }[] = [];
    for (const s of p1.streams) {
      for (const p of p1.owned(s.stream.name)) {
        const off = s.offsets.get(p);
        if (off !== undefined) input.push({ topic: s.stream.topic, partition: p, offset: String(off) });
      }
    }
    const partials: { topic: string; partition: number; offset: string }[] = [];
    for (const [metric, q] of p2.owned()) {
      const meta = this.store.reader.get('meta', ['merge', metric, q]) as { offset: number | null } | undefined;
      if (meta?.offset !== null && meta?.offset !== undefined) partials.push({ topic: partialsTopic(this.#prefix, metric), partition: q, offset: String(meta.offset) });
    }
    // Best effort: the store is the source of truth; a commit refused during a rebalance is harmless.
    if (input.length) await this.#c1?.commitOffsets(input).catch(() => undefined);
    if (partials.length) await this.#c2?.commitOffsets(partials).catch(() => undefined);
  }

  /** Stops consuming, writes a final checkpoint (and sends it), leaves both groups, closes. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    let failure: unknown;
    try {
      this.#c1?.pause([...this.#streamsOf.keys()].map((topic) => ({ topic })));
      this.#c2?.pause([...this.#metricOf.keys()].map((topic) => ({ topic })));
      await this.#checkpointing?.catch(() => undefined);
      await this.checkpoint();
    } catch (err) {
      failure = err;
    }
    // Both groups are left at once (each waits for its fetch in flight).
    for (const r of await Promise.allSettled([this.#c1?.disconnect(), this.#c2?.disconnect()])) if (r.status === 'rejected') failure ??= r.reason;
    for (const close of [() => this.#producer.disconnect(), () => this.store.close()]) {
      try { await close(); } catch (err) { failure ??= err; }
    }
    if (failure !== undefined) throw failure;
  }
}
