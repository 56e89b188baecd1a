/**
 * Two-phase aggregation across the members of a group (DESIGN.md, "Scale-out"; the partial /
 * final split of Flink's local-global aggregation and Kafka Streams' repartition-then-aggregate,
 * with the exchange through broker topics).
 *
 * Phase one ({@link PartialStage}) runs where an input partition is owned: decode, validate,
 * dedup, watermark, then every TUMBLE/HOP/CUMULATE metric folds events into partial accumulators per
 * (input partition, window, key) and every SESSION metric forwards its events. At each flush
 * the partials and events go to the partials partition of their group key
 * ({@link partialsPartition}; for a top-N, which ranks a window's groups against each other, of
 * their window start), each input partition's in messages of their own together with its
 * watermark mark, sent to every partials partition. Folding each input partition apart is what
 * lets its partials commit with its own offsets and state (one Kafka transaction per input
 * partition, hot/member-runner.ts), so a partition can move alone.
 *
 * Phase two ({@link MergeStage}) runs where a partials partition is owned: it merges partials
 * (every accumulator has `merge`), runs SESSION events, and closes a window once the marks of
 * every input partition of the stream (the count comes from the broker's metadata) reached its
 * end + allowed lateness; then it emits, like a single process would.
 *
 * Lateness is exact and decided once. For TUMBLE/HOP/CUMULATE it is judged in phase one: an event is late
 * for a window once the owning member's watermark (the minimum over the partitions it owns), or
 * the mark it already published for the event's partition, reached the window's end + allowed
 * lateness. A published mark is never undercut: it becomes the partition's floor and travels
 * with the partition's state to its next owner. Because a partition's partials precede its
 * marks in every partials partition, phase two never receives a partial for a window it closed
 * (counted as `partialsAfterClose` if a bug ever broke that). SESSION lateness is judged in
 * phase two against the watermark of every partition, as sessions of one key meet there.
 * With one member owning every partition this is exactly the single-process semantics.
 *
 * A flush is the unit of exactly-once: its messages, the partition states it returns and the
 * input offsets they cover are committed together (a Kafka transaction), so a member that dies
 * loses only what it had not flushed, and the next owner resumes from the flushed state.
 */
import type { Catalog, FutureReference } from '../catalog/index.js';
import { InternalError } from '../errors.js';
import type { MetricPlan } from '../plan/index.js';
import { DEDUP_BLOCK, type StateOp, type StateReader } from '../state/layout.js';
import { hash64, type Hash64 } from '../util/hash64.js';
import type { EngineSink } from './engine.js';
import { MetricOperator, type MetricSink, type MetricStats } from './metric-operator.js';
import type { ForwardedEvent, PartialBatch, PartialGroup } from './operator-types.js';
import { StreamRuntime, statsOf, type RawRecord, type StreamSink, type StreamStats } from './stream-runtime.js';

/** What moves with an input partition from one member to the next (its changelog record). */
export interface PartitionState {
  /** Next offset to read; null before the first record. */
  readonly offset: number | null;
  /** Max event time of the partition's valid events (ms); null before the first. */
  readonly maxEventMs: number | null;
  /** The last watermark mark published for the partition (ms); null before the first flush. */
  readonly floor: number | null;
  /** Remembered event ids with their event times (ms), in arrival order. */
  readonly dedup: readonly (readonly [string, number])[];
}

/** What one flush sends to one partials partition of one metric. */
export interface PartialsMessage {
  readonly metric: string;
  /** The partials partition (of `pitwall.<metric>.partials`). */
  readonly partition: number;
  /** The input partition the partials and events come from (each message holds one input partition's work). */
  readonly from?: number;
  /** Partials and forwarded events whose group key belongs to this partition. */
  readonly batch: PartialBatch;
  /**
   * Watermark marks of input partitions (ms; −∞ before any event, +∞ at the end of a finite
   * input): from a flush, the mark of `from`. Phase two applies them after `batch`.
   */
  readonly marks: readonly (readonly [number, number])[];
  /**
   * When the first input batch behind this flush reached its sender (wall clock, ms): the rows
   * phase two emits on applying the message are `pitwall_event_to_result_seconds` from it.
   * Absent when unknown.
   */
  readonly sinceMs?: number;
}

/** The result of a flush: messages per metric and partials partition, and the state per input partition. */
export interface FlushResult {
  readonly messages: readonly PartialsMessage[];
  /** Per stream: the state of every input partition this member owns, as of this flush. */
  readonly states: ReadonlyMap<string, ReadonlyMap<number, PartitionState>>;
}

const H: Hash64 = { hi: 0, lo: 0 };

/** The partials partition of an encoded group key: a 64-bit hash (util/hash64.ts) modulo `count`. */
export function partialsPartition(id: string, count: number): number {
  if (count <= 1) return 0;
  hash64(id, H);
  return (H.hi >>> 0) % count;
}

export interface PartialStageOptions {
  readonly maxGroups?: number;
  readonly maxDedupIds?: number;
  readonly futureReference?: FutureReference;
  /** Partition count of a metric's partials topic. */
  readonly partialsPartitions: (metric: string) => number;
  /** Called with every input partition's operator set when it is created (a member's shedding sets their `shed` flags: hot/member-shed.ts). */
  readonly onOperators?: (ops: readonly MetricOperator[]) => void;
}

const finiteOrNull = (n: number): number | null => (Number.isFinite(n) ? n : null);

/** Phase one of one member: the streams' partitions it owns, folded into partials. */
export class PartialStage {
  readonly #streams = new Map<string, StreamRuntime>();
  readonly #owned = new Map<string, Set<number>>();
  readonly #opts: PartialStageOptions;

  constructor(catalog: Catalog, plans: readonly MetricPlan[], sink: EngineSink, opts: PartialStageOptions) {
    this.#opts = opts;
    const metricSink: MetricSink = {
      result: () => { throw new InternalError('a phase-one operator emitted a result'); },
      late: (p, pair) => sink.late?.(p, pair),
      overflow: (p, e, o) => sink.overflow?.(p, e, o),
    };
    const streamSink: StreamSink = {
      quarantine: (r) => sink.quarantine?.(r),
      ...(sink.accepted ? { accepted: sink.accepted.bind(sink) } : {}),
    };
    const limits = { maxGroups: opts.maxGroups ?? 1_000_000 };
    for (const s of catalog.streams.values()) {
      if (s.kind !== 'stream') continue;
      // One operator set per input partition (its partials commit with its own offsets); the
      // stream's operators only hold the counters they share.
      const ops = plans.filter((p) => p.stream.name === s.name).map((p) => new MetricOperator(p, metricSink, limits, 'partial'));
      if (ops.length === 0) continue;
      const partitionMetrics = (): MetricOperator[] => {
        const set = ops.map((o) => new MetricOperator(o.plan, metricSink, limits, 'partial', o.plan.name, o.stats));
        opts.onOperators?.(set);
        return set;
      };
      this.#streams.set(s.name, new StreamRuntime(s, ops, streamSink, { maxDedupIds: opts.maxDedupIds ?? 2_000_000, futureReference: opts.futureReference ?? 'event-time', member: true, partitionMetrics }));
      this.#owned.set(s.name, new Set());
    }
  }

  get streams(): readonly StreamRuntime[] { return [...this.#streams.values()]; }

  /** Every input partition's operators that exist now. */
  *partitionOperators(): Iterable<MetricOperator> {
    for (const rt of this.#streams.values()) for (const p of rt.partitionsWithMetrics) yield* rt.metricsOf(p);
  }

  #stream(name: string): StreamRuntime {
    const s = this.#streams.get(name);
    if (!s) throw new InternalError(`phase one has no stream '${name}'`);
    return s;
  }

  /** Input partitions owned per stream. */
  owned(stream: string): readonly number[] { return [...(this.#owned.get(stream) ?? [])].sort((a, b) => a - b); }

  /** Takes an input partition over, with the state its previous owner flushed last (none: a fresh start). */
  assign(stream: string, partition: number, state: PartitionState | undefined, nowMs: number): void {
    const rt = this.#stream(stream);
    const owned = this.#owned.get(stream) as Set<number>;
    if (owned.has(partition)) throw new InternalError(`partition ${stream}[${partition}] assigned twice`);
    owned.add(partition);
    rt.offsets.delete(partition);
    if (state?.offset !== null && state?.offset !== undefined) rt.offsets.set(partition, state.offset);
    rt.watermark.adopt(partition, state?.maxEventMs ?? Number.NEGATIVE_INFINITY, nowMs, state?.floor ?? Number.NEGATIVE_INFINITY);
    const floors = rt.floors as Map<number, number>;
    floors.delete(partition);
    if (state?.floor !== null && state?.floor !== undefined) floors.set(partition, state.floor);
    rt.dedup.importPartition(partition, state?.dedup ?? []);
  }

  /**
   * Gives an input partition up. Call right after a {@link flush} (whose state the next owner
   * resumes from) or after a failed one (the partition's unflushed work is dropped with the
   * rest: see {@link discard}).
   */
  revoke(stream: string, partition: number): void {
    const rt = this.#stream(stream);
    (this.#owned.get(stream) as Set<number>).delete(partition);
    rt.offsets.delete(partition);
    rt.watermark.release(partition);
    rt.floors?.delete(partition);
    rt.dedup.dropPartition(partition);
    rt.dropPartitionMetrics(partition);
    this.#sentMarks.delete(`${stream}\u0000${partition}`);
  }

  /** The mark last flushed per `${stream}\u0000${partition}`: a partition with nothing new and an unchanged mark sends no message. */
  readonly #sentMarks = new Map<string, number>();

  /** Processes records of an owned partition (see StreamRuntime.processRaw); records of a partition not owned are ignored. */
  process(stream: string, records: readonly RawRecord[], nowMs: number): void {
    const first = records[0];
    if (first === undefined) return;
    if (!this.#owned.get(stream)?.has(first.partition)) return;
    this.#sinceMs ??= nowMs;
    this.#stream(stream).processRaw(records, nowMs);
  }

  /** When the first batch since the last flush arrived (`nowMs` of {@link process}). */
  #sinceMs: number | undefined;

  /**
   * Takes an input partition over from a state store (state/layout.ts: its `partition` meta
   * record and `dedup` blocks, as {@link captureChanges} writes them); a partition the store
   * does not know starts fresh. Returns the next offset to read, if stored.
   */
  restorePartition(reader: StateReader, stream: string, partition: number, nowMs: number): number | undefined {
    this.#stream(stream).attachStore(reader);
    const meta = reader.get('meta', ['partition', stream, partition]) as { offset: number | null; maxEventMs: number | null; floor?: number | null; head: number; tail: number } | undefined;
    this.assign(stream, partition, meta ? { offset: meta.offset, maxEventMs: meta.maxEventMs, floor: meta.floor ?? null, dedup: [] } : undefined, nowMs);
    if (!meta) return undefined;
    const rt = this.#stream(stream);
    rt.dedup.restorePartition({ partition, head: meta.head, tail: meta.tail, entries: (function* () {
      if (meta.tail <= meta.head) return;
      for (const e of reader.scan('dedup', [stream, partition])) {
        const first = e.key[2] as number;
        const { ids, times } = e.value as { ids: string[]; times: number[] };
        for (let i = Math.max(0, meta.head - first); i < ids.length; i++) yield [first + i, ids[i] as string, times[i] as number] as const;
      }
    })() });
    this.#storedHead.set(`${stream}\u0000${partition}`, meta.head);
    return meta.offset ?? undefined;
  }

  /** Dedup head per (stream, partition) at the last capture (stored ids below it are deleted). */
  readonly #storedHead = new Map<string, number>();

  /**
   * The state of every owned partition as store operations (incremental for dedup ids), each
   * partition guarded by `['owner', stream, partition] = owner` so a member that lost a
   * partition cannot overwrite its new owner's state. Call right after {@link flush} (the
   * floors it set are part of the state). `committed`: call once the store committed them.
   */
  captureChanges(owner: string): { ops: StateOp[]; committed: () => void } {
    const ops: StateOp[] = [];
    const durable: (() => void)[] = [];
    for (const [name, rt] of this.#streams) {
      const owned = this.owned(name);
      if (owned.length === 0) continue;
      const dedup = rt.dedup.capture();
      const ranges = new Map(dedup.partitions.map((d) => [d.partition, d]));
      for (const p of owned) {
        ops.push({ op: 'guard', db: 'meta', key: ['owner', name, p], equals: owner });
        const d = ranges.get(p);
        const key = `${name}\u0000${p}`;
        if (d) {
          for (let i = 0; i < d.ids.length; i += DEDUP_BLOCK) {
            const n = Math.min(DEDUP_BLOCK, d.ids.length - i);
            ops.push({ op: 'put', db: 'dedup', key: [name, p, d.firstNew + i, n], value: { ids: d.ids.slice(i, i + n), times: d.times.slice(i, i + n) } });
          }
          if ((this.#storedHead.get(key) ?? 0) < d.head) ops.push({ op: 'dropBlocks', db: 'dedup', prefix: [name, p], below: d.head });
          this.#storedHead.set(key, d.head);
          durable.push(() => rt.dedup.durable(p, d.tail));
        }
        ops.push({ op: 'put', db: 'meta', key: ['partition', name, p], value: {
          offset: rt.offsets.get(p) ?? null, maxEventMs: finiteOrNull(rt.watermark.markOf(p)),
          floor: finiteOrNull(rt.floors?.get(p) ?? Number.NEGATIVE_INFINITY), head: d?.head ?? 0, tail: d?.tail ?? 0,
        } });
      }
    }
    return { ops, committed: () => { for (const f of durable) f(); } };
  }

  /** Processing-time tick: idle partitions stop holding this member's watermark back. */
  tick(nowMs: number): void {
    for (const s of this.#streams.values()) s.watermark.tick(nowMs);
  }

  /**
   * Drains every partial and forwarded event into messages, one per owned input partition,
   * metric and partials partition (each carrying its input partition's mark; a partition with
   * nothing new whose mark did not move since its last flush sends none), and returns the state
   * of every owned partition (`withStates` false: none; a store capture follows instead).
   * `endOfInput`: a finite input ended; every mark is +∞.
   */
  flush(endOfInput = false, withStates = true): FlushResult {
    const messages: PartialsMessage[] = [];
    const sinceMs = this.#sinceMs;
    this.#sinceMs = undefined;
    const states = new Map<string, Map<number, PartitionState>>();
    for (const [name, rt] of this.#streams) {
      const owned = this.owned(name);
      const floors = rt.floors as Map<number, number>;
      const wm = rt.watermark.watermarkMs;
      rt.dedup.expire(wm);
      const st = new Map<number, PartitionState>();
      for (const p of owned) {
        const mark = endOfInput ? Number.POSITIVE_INFINITY : Math.max(floors.get(p) ?? Number.NEGATIVE_INFINITY, wm);
        if (Number.isFinite(mark)) floors.set(p, mark);
        if (withStates) {
          const offset = rt.offsets.get(p);
          st.set(p, { offset: offset ?? null, maxEventMs: finiteOrNull(rt.watermark.markOf(p)), floor: finiteOrNull(floors.get(p) ?? Number.NEGATIVE_INFINITY), dedup: rt.dedup.exportPartition(p) });
        }
        const markKey = `${name}\u0000${p}`;
        const unchanged = this.#sentMarks.get(markKey) === mark;
        this.#sentMarks.set(markKey, mark);
        const marks: [number, number][] = [[p, mark]];
        for (const m of rt.metricsOf(p)) {
          const count = this.#opts.partialsPartitions(m.plan.name);
          const batch = m.drain();
          if (unchanged && batch.windows.length === 0 && batch.events.length === 0) continue;
          const windows: Map<number, PartialGroup[]>[] = Array.from({ length: count }, () => new Map());
          // A top-N ranks the groups of a window against each other: all of a window's groups
          // meet in one partials partition (by window start); other metrics go by group key.
          const byWindow = m.plan.root.kind === 'TopNNode';
          for (const w of batch.windows) {
            const wq = byWindow ? partialsPartition(String(w.ws), count) : -1;
            for (const g of w.groups) {
              const byWs = windows[byWindow ? wq : partialsPartition(g.id, count)] as Map<number, PartialGroup[]>;
              const list = byWs.get(w.ws);
              if (list) list.push(g); else byWs.set(w.ws, [g]);
            }
          }
          const events: ForwardedEvent[][] = Array.from({ length: count }, () => []);
          for (const f of batch.events) (events[byWindow ? 0 : partialsPartition(f.id, count)] as ForwardedEvent[]).push(f);
          for (let q = 0; q < count; q++) {
            const ws = [...(windows[q] as Map<number, PartialGroup[]>)].map(([start, groups]) => ({ ws: start, groups }));
            const evs = events[q] as ForwardedEvent[];
            // A mark that did not move tells phase two nothing new: only partials go.
            if (unchanged && ws.length === 0 && evs.length === 0) continue;
            messages.push({ metric: m.plan.name, partition: q, from: p, batch: { windows: ws, events: evs }, marks, ...(sinceMs !== undefined ? { sinceMs } : {}) });
          }
        }
      }
      states.set(name, st);
    }
    return { messages, states };
  }

  stats(): { streams: Record<string, StreamStats>; metrics: Record<string, MetricStats> } {
    return statsOf(this.#streams.values());
  }

  /**
   * The counters since the last call, and resets them (a member adds them to its totals once
   * the checkpoint covering that work commits; work dropped by a reload is never counted).
   */
  takeStats(): { streams: Record<string, StreamStats>; metrics: Record<string, MetricStats> } {
    const out = this.stats();
    for (const s of this.#streams.values()) {
      for (const k of Object.keys(s.stats) as (keyof StreamStats)[]) s.stats[k] = 0;
      for (const m of s.metrics) for (const k of Object.keys(m.stats) as (keyof MetricStats)[]) m.stats[k] = 0;
    }
    return out;
  }
}

/** What moves with a partials partition of one metric from one member to the next. */
export interface MergeState {
  /** The metric operator's snapshot (MetricOperator.snapshot). */
  readonly op: unknown;
  /** Mark per input partition (ms; null = −∞). */
  readonly marks: readonly (readonly [number, number | null])[];
}

interface MergeTask {
  readonly op: MetricOperator;
  readonly metric: string;
  readonly partition: number;
  readonly marks: Map<number, number>;
  watermark: number;
  /** Highest flush sequence applied per sender (a re-sent flush is skipped). */
  readonly applied: Map<string, number>;
  /** Next offset of the partials partition to read. */
  offset: number | undefined;
}

/** Where a partials message came from: its sender's id and flush sequence, and its offset in the partials partition. */
export interface PartialsOrigin {
  readonly source: string;
  /** The sender's flush sequence; absent when not checked (messages committed in Kafka transactions arrive once). */
  readonly seq?: number;
  readonly offset: number;
}

/** The store record of a partials partition's phase two besides its operator state. */
interface MergeMeta {
  readonly marks: [number, number | null][];
  readonly applied: [string, number][];
  readonly offset: number | null;
}

export interface MergeStageOptions {
  readonly maxGroups?: number;
  /** Partition count of a stream's input topic (every one of them must pass a window's close). */
  readonly inputPartitions: (stream: string) => number;
}

/** Phase two of one member: the partials partitions it owns, merged, closed and emitted. */
export class MergeStage {
  readonly #plans: ReadonlyMap<string, MetricPlan>;
  readonly #tasks = new Map<string, MergeTask>();
  readonly #sink: MetricSink;
  readonly #opts: MergeStageOptions;

  constructor(plans: readonly MetricPlan[], sink: EngineSink, opts: MergeStageOptions) {
    this.#plans = new Map(plans.map((p) => [p.name, p]));
    this.#opts = opts;
    this.#sink = {
      result: (p, c) => sink.result(p, c),
      late: (p, pair) => sink.late?.(p, pair),
      overflow: (p, e, o) => sink.overflow?.(p, e, o),
    };
  }

  #key(metric: string, partition: number): string { return `${metric}\u0000${partition}`; }

  /** Takes a partials partition of `metric` over, with its previous owner's state (none: fresh). */
  assign(metric: string, partition: number, state?: MergeState): void {
    const plan = this.#plans.get(metric);
    if (!plan) throw new InternalError(`phase two has no metric '${metric}'`);
    const key = this.#key(metric, partition);
    if (this.#tasks.has(key)) throw new InternalError(`partials partition ${metric}[${partition}] assigned twice`);
    const op = new MetricOperator(plan, this.#sink, { maxGroups: this.#opts.maxGroups ?? 1_000_000 }, 'merge', `${metric}#${partition}`);
    const task: MergeTask = { op, metric, partition, marks: new Map(), watermark: Number.NEGATIVE_INFINITY, applied: new Map(), offset: undefined };
    if (state) {
      op.restore(state.op);
      for (const [p, m] of state.marks) task.marks.set(p, m ?? Number.NEGATIVE_INFINITY);
      task.watermark = this.#watermarkOf(plan, task.marks);
    }
    this.#tasks.set(key, task);
  }

  /** Gives a partials partition up; returns its state for the next owner. */
  revoke(metric: string, partition: number): MergeState {
    const key = this.#key(metric, partition);
    const task = this.#tasks.get(key);
    if (!task) throw new InternalError(`partials partition ${metric}[${partition}] is not owned`);
    this.#tasks.delete(key);
    return this.#stateOf(task);
  }

  /** The state of an owned partials partition (what a checkpoint stores). */
  state(metric: string, partition: number): MergeState {
    const task = this.#tasks.get(this.#key(metric, partition));
    if (!task) throw new InternalError(`partials partition ${metric}[${partition}] is not owned`);
    return this.#stateOf(task);
  }

  #stateOf(task: MergeTask): MergeState {
    return { op: task.op.snapshot(), marks: [...task.marks].map(([p, m]) => [p, finiteOrNull(m)]) };
  }

  /** Minimum mark over every input partition of the stream (one never heard of holds it at −∞). */
  #watermarkOf(plan: MetricPlan, marks: ReadonlyMap<number, number>): number {
    const n = this.#opts.inputPartitions(plan.stream.name);
    let min = Number.POSITIVE_INFINITY;
    for (let p = 0; p < n; p++) {
      const m = marks.get(p);
      if (m === undefined) return Number.NEGATIVE_INFINITY;
      if (m < min) min = m;
    }
    return n === 0 ? Number.NEGATIVE_INFINITY : min;
  }

  /**
   * Takes a partials partition over from a state store ({@link captureChanges}'s records); a
   * partition the store does not know starts fresh. Returns the next partials offset to read,
   * if stored.
   */
  async restoreTask(reader: StateReader, metric: string, partition: number): Promise<number | undefined> {
    this.assign(metric, partition);
    const task = this.#tasks.get(this.#key(metric, partition)) as MergeTask;
    const name = task.op.storeName;
    const meta = reader.get('meta', ['merge', metric, partition]) as MergeMeta | undefined;
    const opMeta = reader.get('meta', ['metric', name]) as { hash: string; stats: MetricStats } | undefined;
    if (!meta) return undefined;
    if (opMeta && opMeta.hash === task.op.plan.hash) await task.op.restoreStored(reader, opMeta);
    for (const [p, m] of meta.marks) task.marks.set(p, m ?? Number.NEGATIVE_INFINITY);
    for (const [src, seq] of meta.applied) task.applied.set(src, seq);
    task.watermark = this.#watermarkOf(task.op.plan, task.marks);
    task.offset = meta.offset ?? undefined;
    return task.offset;
  }

  /** Starts tracking changes of every owned task (call after restoring, before processing). */
  track(): void {
    for (const t of this.#tasks.values()) t.op.track();
  }

  /**
   * The changes of every owned partials partition since the last capture, as store
   * operations, each guarded by `['owner2', metric, partition] = owner`. The flushes applied
   * are remembered per sender (one per member start), the 64 most recent senders.
   */
  captureChanges(owner: string): StateOp[] {
    const ops: StateOp[] = [];
    for (const t of this.#tasks.values()) {
      ops.push({ op: 'guard', db: 'meta', key: ['owner2', t.metric, t.partition], equals: owner });
      for (const op of t.op.captureChanges()) ops.push(op);
      const applied = [...t.applied].slice(-64);
      ops.push({ op: 'put', db: 'meta', key: ['merge', t.metric, t.partition], value: { marks: [...t.marks].map(([p, m]) => [p, finiteOrNull(m)]), applied, offset: t.offset ?? null } satisfies MergeMeta });
    }
    return ops;
  }

  /** The next offset to read of an owned partials partition, once one was read or restored. */
  offset(metric: string, partition: number): number | undefined {
    return this.#tasks.get(this.#key(metric, partition))?.offset;
  }

  /** The metric operators of the owned partials partitions (their open windows, for provisional reads). */
  operators(): MetricOperator[] { return [...this.#tasks.values()].map((t) => t.op); }

  /** Owned partials partitions as [metric, partition]. */
  owned(): [string, number][] { return [...this.#tasks.values()].map((t) => [t.metric, t.partition]); }

  /** Open groups and approximate bytes per metric over the owned partials partitions. */
  stateSize(): Record<string, { groups: number; bytes: number }> {
    const out: Record<string, { groups: number; bytes: number }> = {};
    for (const t of this.#tasks.values()) {
      const s = t.op.stateSize();
      const o = out[t.metric] ??= { groups: 0, bytes: 0 };
      o.groups += s.groups;
      o.bytes += s.bytes;
    }
    return out;
  }

  /**
   * Applies one message: its partials, then its marks (closing what they close), then on_update
   * rows. With `origin`, a message whose sender's flush was already applied is skipped (a flush
   * re-sent after its sender died), and the partition's next offset is recorded. Returns false
   * when skipped.
   */
  receive(msg: PartialsMessage, origin?: PartialsOrigin): boolean {
    const task = this.#tasks.get(this.#key(msg.metric, msg.partition));
    if (!task) throw new InternalError(`partials for ${msg.metric}[${msg.partition}], which this member does not own`);
    if (origin) task.offset = origin.offset + 1;
    if (origin?.seq !== undefined) {
      const last = task.applied.get(origin.source);
      if (last !== undefined && origin.seq <= last) return false;
      task.applied.delete(origin.source);
      task.applied.set(origin.source, origin.seq); // insertion order: most recent last
    }
    task.op.merge(msg.batch, task.watermark);
    for (const [p, m] of msg.marks) if (m > (task.marks.get(p) ?? Number.NEGATIVE_INFINITY)) task.marks.set(p, m);
    const wm = this.#watermarkOf(task.op.plan, task.marks);
    if (wm > task.watermark) {
      task.watermark = wm;
      task.op.onWatermark(wm);
    }
    task.op.flushUpdates();
    return true;
  }

  /** Phase-two counters per metric, summed over the partials partitions owned. */
  stats(): Record<string, MetricStats> {
    const out: Record<string, MetricStats> = {};
    for (const t of this.#tasks.values()) {
      const s = t.op.stats;
      const o = out[t.op.plan.name] ??= { rows: 0, updates: 0, late: 0, overflow: 0, partialsAfterClose: 0 };
      o.rows += s.rows; o.updates += s.updates; o.late += s.late; o.overflow += s.overflow;
      o.partialsAfterClose = (o.partialsAfterClose ?? 0) + (s.partialsAfterClose ?? 0);
    }
    return out;
  }

  /** The watermark of an owned partials partition (ms). */
  watermark(metric: string, partition: number): number {
    return this.#tasks.get(this.#key(metric, partition))?.watermark ?? Number.NEGATIVE_INFINITY;
  }
}
