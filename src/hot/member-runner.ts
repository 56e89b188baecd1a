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
import type { Admin, Consumer, EachBatchPayload, Producer } from 'kafkajs';
import { assertReadCommittedFilter, Kafka, logLevel, Partitioners } from '../sources/kafkajs.js';
import type { ArchiveWriter } from '../archive/archive-writer.js';
import type { Catalog } from '../catalog/index.js';
import { ExecutionError } from '../errors.js';
import type { MetricPlan } from '../plan/index.js';
import { ProvisionalFeed } from '../serve/provisional-feed.js';
import { DlqSink } from '../sinks/dlq-topic.js';
import { ResultsTopicSink } from '../sinks/results-topic.js';
import { rawRecord } from '../sources/kafka-source.js';
import { ensureTopics, retryRetriable } from '../sources/topics.js';
import { changeRecord, changelogTopic, clearTask, readChangelogs, recordOp, taskId, taskOfKey, type Task, type TaskLayout } from '../state/changelog.js';
import { STATE_FORMAT, type StateOp } from '../state/layout.js';
import { StateStore } from '../state/state-store.js';
import type { EngineSink } from './engine.js';
import { PROCESS_SLICE, sendWhileFlushing, type KafkaRunOptions } from './kafka-runner.js';
import type { MetricStats } from './metric-operator.js';
import { evidenceFrom, evidenceTuple, type ForwardedEvent, type PartialWindow, type RowChange } from './operator-types.js';
import type { StreamRuntime, StreamStats } from './stream-runtime.js';
import { enrichmentsOf, type EnrichmentFigures, type Enrichments } from './enrichment/build-stages.js';
import { enrichThenProcess } from './enrichment/enrichment-stage.js';
import { TaskLosses } from './task-losses.js';
import { MergeStage, PartialStage, type PartialsMessage } from './two-phase.js';
import { MemberShed, type ShedAck, type ShedUpdate } from './member-shed.js';

export interface MemberRunnerOptions extends KafkaRunOptions {
  /** Partials topics are `<partialsPrefix>.<metric>.partials` (default: the group id). */
  readonly partialsPrefix?: string;
  /** Partitions of a partials topic created by this member (default: its stream topic's). */
  readonly partialsPartitions?: number;
  /** This member's id (default: host, pid and a random suffix). */
  readonly memberId?: string;
  /** The archive (an ArchiveWriter, or a worker thread's proxy of its process's one). */
  readonly archive?: MemberArchive;
  /**
   * Where state moves between members: `shared` (default), the state directory every member on
   * one machine opens; `changelog`, compacted changelog topics written in per-task Kafka
   * transactions (state/changelog.ts), so members on different machines share a group.
   */
  readonly stateSync?: StateSync;
  /** Shedding (README "Shedding and backfill"): the main thread's shed state at start; absent when the run does not shed. */
  readonly shed?: ShedUpdate;
}

/** How a group's state moves between its members (see MemberRunnerOptions.stateSync). */
export type StateSync = 'shared' | 'changelog';

/** What a member needs of the archive. */
export type MemberArchive = Pick<ArchiveWriter, 'accepted' | 'enrichment' | 'late' | 'quarantined' | 'flush' | 'relieve' | 'open' | 'ready' | 'broken'>;

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
  /** 1 when the sender commits its partials in Kafka transactions (`--state-sync changelog`). */
  readonly x?: 1;
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
export function encodeChunks(msg: PartialsMessage, source: string, seq: number, store = '', transactional = false): string[] {
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
    const since = (msg.sinceMs !== undefined ? `"a":${msg.sinceMs},` : '') + (transactional ? '"x":1,' : '');
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
export function decode(metric: string, partition: number, text: string): { msg: PartialsMessage; source: string; seq: number; store: string; transactional: boolean } {
  const w = JSON.parse(text) as WireMessage;
  const windows: PartialWindow[] = w.w.map(([ws, groups]) => ({ ws, groups: groups.map(([id, keys, accs]) => ({ id, keys: keys as PartialWindow['groups'][number]['keys'], accs })) }));
  const events: ForwardedEvent[] = w.e.map(([id, eventId, eventTimeMs, payload, p, offset, wm, pwm, idle]) => ({
    id, event: { ok: true, eventId, eventTimeMs, payload }, origin: { partition: p, offset }, watermarkMs: wm ?? Number.NEGATIVE_INFINITY,
    evidence: evidenceFrom(pwm, idle),
  }));
  return {
    msg: { metric, partition, batch: { windows, events }, marks: w.m.map(([p, m]) => [p, m ?? Number.NEGATIVE_INFINITY]), ...(w.a !== undefined ? { sinceMs: w.a } : {}) },
    source: w.s, seq: w.n, store: w.st ?? '', transactional: w.x === 1,
  };
}

interface OutboxRecord { readonly messages: { topic: string; partition: number; value: string }[] }

/** Most bytes of one round's messages to one partition (the broker refuses record batches over 1 MB by default). */
const ROUND_BYTES = 768 * 1024;

/**
 * Records grouped into produce requests: in order per (topic, partition), each request with at
 * most `maxChars` (characters or bytes of key and value) per partition (one larger record goes
 * alone; 1: one record per partition per request), as [topic, messages] lists.
 */
export function rounds<R extends { topic: string; partition: number; key?: string; value: string | Buffer | null }>(records: readonly R[], maxChars = ROUND_BYTES): [string, { partition: number; key?: string; value: string | Buffer | null }[]][][] {
  const queues = new Map<string, R[]>();
  for (const r of records) {
    const k = `${r.topic}\u0000${r.partition}`;
    const q = queues.get(k);
    if (q) q.push(r); else queues.set(k, [r]);
  }
  const out: [string, { partition: number; key?: string; value: string | Buffer | null }[]][][] = [];
  const at = new Map<string, number>();
  for (;;) {
    const byTopic = new Map<string, { partition: number; key?: string; value: string | Buffer | null }[]>();
    for (const [k, q] of queues) {
      let i = at.get(k) ?? 0;
      let bytes = 0;
      while (i < q.length) {
        const r = q[i] as R;
        const size = (r.value?.length ?? 0) + (r.key?.length ?? 0);
        if (bytes > 0 && bytes + size > maxChars) break;
        bytes += size;
        const list = byTopic.get(r.topic);
        const m = { partition: r.partition, ...(r.key !== undefined ? { key: r.key } : {}), value: r.value };
        if (list) list.push(m); else byTopic.set(r.topic, [m]);
        i++;
      }
      at.set(k, i);
    }
    if (byTopic.size === 0) return out;
    out.push([...byTopic]);
  }
}

/** Errors of a producer whose transactional id another producer took over. */
function isFenced(err: unknown): boolean {
  for (let e = err as { type?: string; cause?: unknown; name?: string } | undefined; e; e = e.cause as typeof e) {
    if (e.type === 'INVALID_PRODUCER_EPOCH' || e.type === 'PRODUCER_FENCED' || (e as { code?: string }).code === 'PW_STATE_FENCED') return true;
  }
  return false;
}

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
  /** The enrichment stages of streams whose metrics join an external lookup (phase one asks, in arrival order). */
  readonly #enrich: Enrichments | undefined;
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
  /** State moves through changelog topics (else through the shared state store). */
  readonly #changelog: boolean;
  /** Changelog mode: the transactional producer of every owned task, by task id. */
  readonly #producers = new Map<string, { task: Task; producer: Producer }>();
  readonly #layout: TaskLayout;
  /**
   * While phase two applies a partials message: when the first input batch behind it reached
   * its sender (wall clock, ms; PartialsMessage.sinceMs), for the result rows it emits.
   */
  resultSinceMs: number | undefined;
  /** Shedding in this member (absent when the run does not shed). */
  readonly shed: MemberShed | undefined;
  readonly #emit: (p: MetricPlan, c: RowChange) => void;

  /** Applies the main thread's new shed state to every operator and returns the acknowledgement (hot/member-shed.ts). */
  applyShed(update: ShedUpdate): ShedAck {
    const shed = this.shed;
    if (!shed) return { seq: update.seq, closed: [] };
    const ack = shed.update(update, this.#emit);
    shed.adopt(this.#p1.partitionOperators());
    return ack;
  }

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
    const enrich = enrichmentsOf(plans, 'processing-time');
    const emit = (p: MetricPlan, c: RowChange): void => { this.#results.write(p, c); extra.result?.(p, c); };
    this.#emit = emit;
    if (opts.shed) {
      this.shed = new MemberShed(plans, opts.shed);
      this.shed.onOverflow = (msg) => this.#log(msg);
    }
    this.#enrich = enrich;
    this.#sink = {
      ...extra,
      result: (p, c) => { if (this.shed === undefined || this.shed.filter(p, c)) emit(p, c); },
      quarantine: (r) => { this.#dlq.write(this.#topicOf.get(r.stream) ?? r.stream, r); archive?.quarantined(r); extra.quarantine?.(r); },
      ...(archive ? {
        accepted: (s, e, o, raw, enriched) => {
          archive.accepted(s, e, o, raw);
          // Every answer used, at the event's own partition and offset (the cold path joins them).
          enrich?.archive(archive, s.name, e, o, enriched);
          extra.accepted?.(s, e, o, raw, enriched);
        },
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
    this.#changelog = opts.stateSync === 'changelog';
    this.#layout = { topicOf: (stream) => this.#topicOf.get(stream), streamsOf: (topic) => this.#streamsOf.get(topic) ?? [] };
    this.#p1 = this.#newPartialStage();
    this.#p2 = this.#newMergeStage();
  }

  #newPartialStage(): PartialStage {
    return new PartialStage(this.#catalog, this.plans, this.#sink, {
      ...(this.#opts.maxGroups !== undefined ? { maxGroups: this.#opts.maxGroups } : {}),
      ...(this.#opts.maxDedupIds !== undefined ? { maxDedupIds: this.#opts.maxDedupIds } : {}),
      futureReference: 'processing-time',
      partialsPartitions: (metric) => this.#partitions.get(partialsTopic(this.#prefix, metric)) ?? 1,
      onOperators: (ops) => this.shed?.adopt(ops),
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

  /**
   * Input partitions (`topic:partition`) this member took over with no stored offset, and the
   * first offset it read of each: a reload that drops unsaved work (a fenced checkpoint) seeks
   * back there, or the consumer would carry on past records whose work was dropped. Bounded by
   * the input partitions.
   */
  readonly #unstored = new Set<string>();
  readonly #firstRead = new Map<string, number>();

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
      if (v.joinMisses !== undefined) t.joinMisses = (t.joinMisses ?? 0) + v.joinMisses;
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
        // Joins happen in phase one (each event is joined where it is read).
        ...(a?.joinMisses !== undefined ? { joinMisses: a.joinMisses } : {}),
      };
    }
    return { streams: one.streams, metrics };
  }

  stateSize(): Record<string, { groups: number; bytes: number }> { return this.#p2.stateSize(); }

  /** Per external lookup this member's phase one asks, what /metrics shows (undefined when no metric joins one). */
  enrichment(): Record<string, EnrichmentFigures> | undefined { return this.#enrich?.figures(); }

  /** Reads the open windows this member merges as provisional rows (serve/provisional-feed.ts). */
  readonly provisional = new ProvisionalFeed(() => this.#p2.operators());

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

  /** Creates the results, input, DLQ and partials topics that are missing and reads their partition counts. */
  async #prepareTopics(admin: Admin): Promise<void> {
    await ensureTopics(this.#kafka, [
      { topic: this.#opts.resultsTopic, partitions: 3, compacted: true },
      ...this.plans.flatMap((p) => [{ topic: p.stream.topic, partitions: p.stream.partitions }, { topic: `${p.stream.topic}.dlq`, partitions: 1 }]),
    ]);
    const meta = await admin.fetchTopicMetadata({ topics: [...this.#streamsOf.keys()] });
    for (const t of meta.topics) this.#partitions.set(t.name, t.partitions.length);
    await ensureTopics(this.#kafka, this.plans.map((p) => ({
      topic: partialsTopic(this.#prefix, p.name),
      partitions: this.#opts.partialsPartitions ?? this.#partitions.get(p.stream.topic) ?? 1,
    })));
    const pmeta = await admin.fetchTopicMetadata({ topics: [...this.#metricOf.keys()] });
    for (const t of pmeta.topics) this.#partitions.set(t.name, t.partitions.length);
  }

  async start(): Promise<void> {
    // Transactions get aborted here (fencing, failed checkpoints): read_committed must drop them.
    if (this.#changelog) assertReadCommittedFilter();
    const admin = this.#kafka.admin();
    try {
      // Processes of one group start together: a topic one of them creates may not have reached
      // every broker's metadata yet for another (a retriable error), so preparing is retried.
      await admin.connect();
      await retryRetriable(() => this.#prepareTopics(admin));
      if (this.#changelog) await retryRetriable(() => this.#prepareChangelogs(admin));
    } catch (err) {
      if (err instanceof ExecutionError) throw err;
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
    c1.on(c1.events.GROUP_JOIN, (e) => { this.#assigned1 = e.payload.memberAssignment as Record<string, number[]>; this.#losses.assigned('input'); this.#ready1 = this.#reload('input', () => this.#reloadInput(c1)); });
    c2.on(c2.events.GROUP_JOIN, (e) => { this.#assigned2 = e.payload.memberAssignment as Record<string, number[]>; this.#losses.assigned('merge'); this.#ready2 = this.#reload('partials', () => this.#reloadMerge(c2)); });
    await Promise.all([c1.connect(), c2.connect()]);
    for (const topic of this.#streamsOf.keys()) await c1.subscribe({ topic, fromBeginning: this.#opts.fromBeginning });
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

  /**
   * Creates the compacted changelog topics (one partition per task) and checks that existing
   * ones have a partition for every task. Throws PW_CHANGELOG_PARTITIONS when one is short.
   */
  async #prepareChangelogs(admin: ReturnType<Kafka["admin"]>): Promise<void> {
    const specs: { topic: string; partitions: number }[] = [];
    for (const topic of this.#streamsOf.keys()) specs.push({ topic: changelogTopic(this.#prefix, { kind: 'input', topic, partition: 0 }), partitions: this.#partitions.get(topic) ?? 1 });
    for (const [ptopic, metric] of this.#metricOf) specs.push({ topic: changelogTopic(this.#prefix, { kind: 'merge', metric, partition: 0 }), partitions: this.#partitions.get(ptopic) ?? 1 });
    await ensureTopics(this.#kafka, specs.map((c) => ({ ...c, compacted: true })));
    // Another member may have just created them: their partitions get leaders within seconds.
    let meta: Awaited<ReturnType<typeof admin.fetchTopicMetadata>> | undefined;
    for (let attempt = 1; !meta; attempt++) {
      try {
        meta = await admin.fetchTopicMetadata({ topics: specs.map((c) => c.topic) });
      } catch (err) {
        if (attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    for (const c of specs) {
      const have = meta.topics.find((t) => t.name === c.topic)?.partitions.length ?? 0;
      if (have < c.partitions) {
        throw new ExecutionError('PW_CHANGELOG_PARTITIONS', `changelog topic ${c.topic} has ${have} partitions but its tasks need ${c.partitions} (one per partition of the topic it records); add partitions to it (kafka-topics --alter --partitions ${c.partitions}) or delete it while no member of group ${this.#opts.groupId} runs`);
      }
    }
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
    for (const round of rounds(record.messages, 1)) {
      await this.#producer.sendBatch({ acks: -1, topicMessages: round.map(([topic, messages]) => ({ topic, messages })) });
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
        !this.#losses.isLost({ kind: 'input', topic, partition: p })
        && (this.#streamsOf.get(topic) ?? []).every((stream) => this.store.reader.get('meta', ['owner', stream, p]) === this.id))]));
    }
    if (this.#changelog) {
      const tasks = Object.entries(this.#assigned1).flatMap(([topic, parts]) => parts.map((p): Task => ({ kind: 'input', topic, partition: p })));
      await this.#takeTasks('input', tasks, claim);
    } else {
      // A member that left may have committed a flush it did not get to send.
      await this.#sendLeftovers();
    }
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
        const key = `${topic}:${p}`;
        if (low !== undefined) { this.#unstored.delete(key); this.#firstRead.delete(key); } else this.#unstored.add(key);
        // Nothing stored yet: unsaved work dropped here is read again from where this member began reading it.
        const first = this.#firstRead.get(key);
        if (low === undefined && first !== undefined) low = first;
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
        !this.#losses.isLost({ kind: 'merge', metric: this.#metricOf.get(topic) ?? '', partition: q })
        && this.store.reader.get('meta', ['owner2', this.#metricOf.get(topic) ?? '', q]) === this.id)]));
    }
    if (this.#changelog) {
      const tasks = Object.entries(this.#assigned2).flatMap(([topic, parts]) => {
        const metric = this.#metricOf.get(topic);
        return metric === undefined ? [] : parts.map((q): Task => ({ kind: 'merge', metric, partition: q }));
      });
      await this.#takeTasks('merge', tasks, claim);
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
    const key = `${batch.topic}:${batch.partition}`;
    if (this.#unstored.has(key) && !this.#firstRead.has(key)) this.#firstRead.set(key, Number(batch.messages[0]?.offset));
    const partitions = this.#partitions.get(batch.topic);
    const records = batch.messages.map((m) => rawRecord(batch.partition, Number(m.offset), m.value, m.key, partitions));
    for (const stream of streams) {
      const enrichment = this.#enrich?.stages.get(stream);
      if (enrichment) {
        // Each event waits for its lookups' answers (each at most their timeout; an open
        // breaker answers at once) and reaches phase one in arrival order.
        await enrichThenProcess(enrichment, records, (ready) => stage.process(stream, ready, Date.now()), heartbeat);
        continue;
      }
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
      const { msg, source, seq, store, transactional } = decode(metric, batch.partition, m.value.toString('utf8'));
      if (transactional !== this.#changelog) this.#foreignSender(source, `it runs with --state-sync ${transactional ? 'changelog' : 'shared'}, this member with --state-sync ${this.#changelog ? 'changelog' : 'shared'}: every member of a group must use the same --state-sync, or partials and state are neither exactly once nor movable; restart the odd ones with the group's --state-sync`);
      else if (store !== this.#storeId && !this.#changelog) this.#foreignSender(source, `it keeps its state in another state store (${store || 'unknown'}; this member's is ${this.#storeId}): with --state-sync shared every member of a group must open the same --state-dir on one machine, or partitions moving between members lose their state and results are not exact; stop the members with another --state-dir, give them their own --group, or run the whole group with --state-sync changelog`);
      this.resultSinceMs = msg.sinceMs;
      try {
        // With changelogs every message commits once, in its input partition's transaction:
        // parallel transactions of one sender land in any order, so sequences are not checked.
        if (!stage.receive(msg, { source, ...(this.#changelog ? {} : { seq }), offset: Number(m.offset) })) this.counters.skippedFlushes++;
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
   * A member of this group cannot exchange state with this one: with `--state-sync shared` it
   * keeps its state in another state directory (another machine, or another --state-dir here),
   * or it runs with the other `--state-sync`. Partitions moving between them lose their state or
   * their exactly-once, so results are not exact. Said loudly, once per sender, and kept for
   * readiness.
   */
  #foreignSender(source: string, why: string): void {
    this.counters.foreignFlushes++;
    if (this.#foreign.has(source)) return;
    this.#foreign.add(source);
    this.groupError = `member ${source} of group ${this.#opts.groupId} cannot share state with this member: ${why}`;
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
    if (this.#changelog) {
      await this.#checkpointTasks();
      this.#checkpointed(started);
      return;
    }
    {
      {
        const { p1, p2, seq, flush, cut1, ops2 } = this.#drain();
        this.store.refresh();
        const prev = (this.store.reader.get('meta', ['checkpoint']) as { seq: number } | undefined)?.seq ?? 0;
        const record: OutboxRecord = { messages: [] };
        for (const { message: m, values } of this.#encodeFlush(flush.messages, seq)) {
          const topic = partialsTopic(this.#prefix, m.metric);
          for (const value of values) record.messages.push({ topic, partition: m.partition, value });
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
        this.#checkpointed(started);
      }
    }
  }

  /** The start of every checkpoint: phase one drained into partials, both stages' changes captured, a new flush sequence. */
  #drain(): { p1: PartialStage; p2: MergeStage; seq: number; flush: ReturnType<PartialStage['flush']>; cut1: ReturnType<PartialStage['captureChanges']>; ops2: StateOp[] } {
    const p1 = this.#p1;
    const p2 = this.#p2;
    const seq = ++this.#seq;
    const flush = p1.flush(false, false);
    const cut1 = p1.captureChanges(this.id);
    MemberRunner.#add(this.#carried, p1.takeStats());
    return { p1, p2, seq, flush, cut1, ops2: p2.captureChanges(this.id) };
  }

  #checkpointed(started: number): void {
    this.checkpoints++;
    this.lastCheckpointAt = Date.now();
    this.lastCheckpointMs = performance.now() - started;
    this.onCheckpoint?.(this.lastCheckpointMs);
  }

  /**
   * A flush's messages as wire messages, numbered so that every message of this flush to one
   * partials partition has a higher sequence than the one before it (phase two skips a
   * sequence it already applied).
   */
  *#encodeFlush(messages: readonly PartialsMessage[], seq: number): Generator<{ message: PartialsMessage; values: string[] }> {
    const next = new Map<string, number>();
    for (const m of messages) {
      if (m.marks.length === 0 && m.batch.windows.length === 0 && m.batch.events.length === 0) continue;
      const k = `${m.metric}\u0000${m.partition}`;
      const from = next.get(k) ?? seq * CHUNKS_PER_FLUSH;
      const values = encodeChunks(m, this.id, from, this.#storeId, this.#changelog);
      next.set(k, from + values.length);
      yield { message: m, values };
    }
  }

  /** Tasks fenced by another member, or whose producer must be replaced, per assignment generation. */
  readonly #losses = new TaskLosses();

  /**
   * Changelog mode, after an assignment (`assigned`) or a failed transaction: makes `tasks` (all
   * of one kind) this member's. Producers of tasks of that kind it no longer owns are closed; an
   * owned task gets a new transactional producer (transactional id `<group>.<task id>`) after an
   * assignment or when its last transaction failed — its initialization fences the task's
   * previous producer, wherever it runs, and aborts that producer's open transaction. Then the
   * local store's state of every task is replaced by its changelog, read to its end.
   */
  async #takeTasks(kind: Task['kind'], tasks: readonly Task[], assigned: boolean): Promise<void> {
    const keep = new Set(tasks.map(taskId));
    for (const [id, e] of [...this.#producers]) {
      if (e.task.kind !== kind || (keep.has(id) && !assigned && !this.#losses.needsNewProducer(id))) continue;
      this.#producers.delete(id);
      await e.producer.disconnect().catch(() => undefined);
    }
    await Promise.all(tasks.filter((t) => !this.#producers.has(taskId(t))).map(async (t) => {
      const producer = this.#kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner, transactionalId: `${this.#opts.groupId}.${taskId(t)}`, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60_000,
      });
      try {
        await producer.connect();
        const fence = await producer.transaction(); // InitProducerId: bumps the epoch, fencing the previous owner
        await fence.abort(); // nothing was sent: ends locally
      } catch (err) {
        await producer.disconnect().catch(() => undefined);
        throw err;
      }
      this.#producers.set(taskId(t), { task: t, producer });
      this.#losses.producerReplaced(taskId(t));
    }));
    const wanted = new Map<string, number[]>();
    for (const t of tasks) {
      const topic = changelogTopic(this.#prefix, t);
      wanted.set(topic, [...(wanted.get(topic) ?? []), t.partition]);
    }
    const ops: StateOp[] = tasks.flatMap((t) => clearTask(this.#layout, t));
    const started = performance.now();
    const records = await readChangelogs(this.#kafka, wanted, (_topic, _partition, key, value) => { ops.push(recordOp(key, value)); }, { groupPrefix: this.#opts.groupId });
    await this.store.send(ops);
    await this.store.commit();
    this.store.refresh();
    if (tasks.length > 0) this.#log(`restored ${tasks.length} ${kind} task${tasks.length === 1 ? '' : 's'} from their changelogs (${records} records, ${Math.round(performance.now() - started)} ms)`);
  }

  /**
   * Changelog mode's checkpoint: drain → acknowledge outputs → commit the local store (which
   * lists the keys it changed) → per owned task, one Kafka transaction with the task's partials
   * messages, its changed keys for its changelog and its next input offset. A task whose
   * transaction fails is reloaded from its changelog (with everything else this member owns).
   */
  async #checkpointTasks(): Promise<void> {
    const generations = this.#losses.snapshot();
    const { p1, p2, seq, flush, cut1, ops2 } = this.#drain();
    interface TaskWork { task: Task; records: { topic: string; partition: number; key?: string; value: string | Buffer | null }[]; offset: number | undefined }
    const work = new Map<string, TaskWork>();
    const of = (task: Task): TaskWork => {
      const id = taskId(task);
      let w = work.get(id);
      if (!w) { w = { task, records: [], offset: undefined }; work.set(id, w); }
      return w;
    };
    for (const s of p1.streams) {
      for (const p of p1.owned(s.stream.name)) {
        const w = of({ kind: 'input', topic: s.stream.topic, partition: p });
        const off = s.offsets.get(p);
        if (off !== undefined) w.offset = w.offset === undefined ? off : Math.min(w.offset, off);
      }
    }
    for (const [metric, q] of p2.owned()) of({ kind: 'merge', metric, partition: q }).offset = p2.offset(metric, q);
    const planOf = new Map(this.plans.map((p) => [p.name, p]));
    for (const { message: m, values } of this.#encodeFlush(flush.messages, seq)) {
      const topic = planOf.get(m.metric)?.stream.topic;
      if (topic === undefined || m.from === undefined) throw new ExecutionError('PW_INTERNAL', `partials of ${m.metric} without their input partition`);
      const w = of({ kind: 'input', topic, partition: m.from });
      for (const value of values) w.records.push({ topic: partialsTopic(this.#prefix, m.metric), partition: m.partition, value });
    }
    await sendWhileFlushing(this.store, [...cut1.ops, ...ops2, { op: 'put', db: 'meta', key: ['checkpoint'], value: { takenAt: new Date().toISOString(), seq, member: this.id } }],
      [this.#opts.archive, this.#results, this.#dlq]);
    let changes;
    try {
      changes = (await this.store.commit({ changelog: true })).changes ?? [];
    } catch (err) {
      if ((err as ExecutionError).code === 'PW_STATE_FENCED') this.#reloadAll(err as Error);
      throw err;
    }
    for (const c of changes) {
      const task = taskOfKey(this.#layout, c.db, c.key);
      if (!task || !work.has(taskId(task))) continue; // a key of a task given up since: its new owner writes it
      const { key, value } = changeRecord(c);
      of(task).records.push({ topic: changelogTopic(this.#prefix, task), partition: task.partition, key, value });
    }
    const outcomes = await Promise.allSettled([...work.values()].map((w) => this.#commitTask(w.task, w.records, w.offset)));
    const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [{ task: [...work.values()][i]?.task as Task, err: o.reason as Error }] : []));
    if (failed.length > 0) {
      // A failure of a task whose kind was assigned anew meanwhile belongs to the old assignment (task-losses.ts).
      for (const f of failed) this.#losses.failed(generations, f.task, isFenced(f.err));
      const first = failed[0] as { task: Task; err: Error };
      const err = new ExecutionError(isFenced(first.err) ? 'PW_STATE_FENCED' : 'PW_KAFKA', `committing ${failed.map((f) => taskId(f.task)).join(', ')} failed (${first.err.message}); ${isFenced(first.err) ? 'another member took them over' : 'they are reloaded from their changelogs and their work is redone'}`, { cause: first.err });
      this.#reloadAll(err);
      throw err;
    }
    cut1.committed();
    MemberRunner.#add(this.#committed, this.#carried);
    this.#carried = { streams: {}, metrics: {} };
  }

  /** One task's transaction: its records (partials and changelog, in order per partition), its next input offset, commit. */
  async #commitTask(task: Task, records: readonly { topic: string; partition: number; key?: string; value: string | Buffer | null }[], offset: number | undefined): Promise<void> {
    const entry = this.#producers.get(taskId(task));
    if (!entry) throw new ExecutionError('PW_STATE_FENCED', `task ${taskId(task)} has no producer (it was given up)`);
    const txn = await entry.producer.transaction();
    try {
      for (const round of rounds(records)) {
        await txn.sendBatch({ acks: -1, topicMessages: round.map(([topic, messages]) => ({ topic, messages })) });
      }
      if (offset !== undefined) {
        const group = task.kind === 'input' ? this.#opts.groupId : `${this.#opts.groupId}.merge`;
        const topic = task.kind === 'input' ? task.topic : partialsTopic(this.#prefix, task.metric);
        await txn.sendOffsets({ consumerGroupId: group, topics: [{ topic, partitions: [{ partition: task.partition, offset: String(offset) }] }] });
      }
      await txn.commit();
    } catch (err) {
      await txn.abort().catch(() => undefined);
      throw err;
    }
  }

  /** After a failed checkpoint: both stages drop their unsaved work and reload what this member still owns. */
  #reloadAll(err: Error): void {
    this.counters.fenced++;
    this.#log(err.message);
    const c1 = this.#c1;
    const c2 = this.#c2;
    if (c1) this.#ready1 = this.#reload('input', () => this.#reloadInput(c1, false));
    if (c2) this.#ready2 = this.#reload('partials', () => this.#reloadMerge(c2, false));
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
    const producers = [...this.#producers.values()];
    this.#producers.clear();
    for (const r of await Promise.allSettled(producers.map((e) => e.producer.disconnect()))) if (r.status === 'rejected') failure ??= r.reason;
    this.#enrich?.close();
    for (const close of [() => this.#producer.disconnect(), () => this.store.close()]) {
      try { await close(); } catch (err) { failure ??= err; }
    }
    if (failure !== undefined) throw failure;
  }
}
