/**
 * One stream on the hot path: decode → validate (bad payloads to the quarantine lane) →
 * dedup by event id → watermark → every metric reading the stream. Counts what it sees.
 */
import { RecordValidator, type FutureReference, type QuarantineCode, type StreamDef, type ValidEvent } from '../catalog/index.js';
import { DEDUP_BLOCK, type StateOp, type StateReader } from '../state/layout.js';
import { DedupFilter } from './dedup.js';
import { TableVersions, type ChangeOutcome, type TableChange } from './table-versions.js';
import type { MetricOperator, MetricStats } from './metric-operator.js';
import type { EventOrigin, LateEvidence } from './operator-types.js';
import { WatermarkTracker } from './watermark.js';
import type { Enrichment } from './enrichment/enrichment-stage.js';

export interface StreamStats {
  /** Records read (valid or not). */
  events: number;
  accepted: number;
  quarantined: number;
  duplicates: number;
  /** Events late for at least one window of at least one metric. */
  late: number;
  /** Records whose key belongs on another partition under Kafka's default partitioner (see RawRecord.keyPartition). */
  misrouted: number;
}

/** A payload that failed decoding or validation. */
export interface QuarantineRecord {
  readonly stream: string;
  readonly origin: EventOrigin;
  readonly code: QuarantineCode;
  readonly reason: string;
  /** The payload as text (for a payload that is not valid UTF-8: decoded with U+FFFD replacements). */
  readonly raw: string;
  /** The payload's exact bytes, when `raw` cannot hold them (not valid UTF-8). */
  readonly bytes?: Uint8Array;
}

export interface StreamSink {
  quarantine(record: QuarantineRecord): void;
  /** An accepted (valid, first-arrival) event, e.g. for the archive; `raw` is its JSON text when the source had it. */
  accepted?(stream: StreamDef, event: ValidEvent, origin: EventOrigin, raw?: string, enriched?: Readonly<Record<string, Enrichment>>): void;
}

export interface RawRecord {
  readonly partition: number;
  readonly offset: number;
  /** The payload as UTF-8 text. */
  readonly value: string;
  /**
   * Set by sources when the payload's bytes are not valid UTF-8: the byte offset of the first
   * invalid sequence. The record is quarantined (JSON is UTF-8, RFC 8259 §8.1) and `value` is
   * the lossy decoding, so `bytes` carries the exact payload.
   */
  readonly invalidUtf8At?: number;
  readonly bytes?: Uint8Array;
  /**
   * Set by the Kafka source when the record's key belongs on another partition under Kafka's
   * default (murmur2) partitioner: the producer used another partitioner (librdkafka's CRC32
   * default). Counted (`misrouted`), and dedup checks the id where the key belongs, so a copy
   * produced through either partitioner is still recognized.
   */
  readonly keyPartition?: number;
  /**
   * Set by the enrichment stage (hot/enrichment/enrichment-stage.ts): per external lookup a
   * metric of the stream joins, the key it asked and the answer (a row, none, or a fallback).
   */
  readonly enriched?: Readonly<Record<string, Enrichment>>;
}

export class StreamRuntime {
  readonly stream: StreamDef;
  readonly stats: StreamStats = { events: 0, accepted: 0, quarantined: 0, duplicates: 0, late: 0, misrouted: 0 };
  readonly watermark: WatermarkTracker;
  readonly dedup: DedupFilter;
  readonly #metrics: MetricOperator[];
  readonly #validator: RecordValidator;
  readonly #sink: StreamSink;
  /** Next offset to read per partition (what a checkpoint resumes from). */
  readonly offsets = new Map<number, number>();

  /**
   * A group member's lateness floors per owned partition (ms): the watermark it last published
   * for the partition (hot/two-phase.ts). An event is late for a window once the member's
   * watermark or its partition's floor reached the window's end + allowed lateness.
   */
  readonly floors: Map<number, number> | undefined;

  /**
   * Phase one of a group member: the operators of each input partition (created by
   * `opts.partitionMetrics` at the partition's first event), so each partition's partials are
   * folded apart and commit with its own offsets. `metrics` then only carries the counters.
   */
  readonly #byPartition: Map<number, MetricOperator[]> | undefined;
  readonly #partitionMetrics: (() => MetricOperator[]) | undefined;
  readonly #evidence: (origin: EventOrigin) => LateEvidence;

  /**
   * `opts.member`: phase one of a group member (hot/two-phase.ts): the watermark is the minimum
   * over the partitions it owns now (not monotone) and lateness also honours {@link floors};
   * with `opts.partitionMetrics`, events go to the operators of their own partition.
   */
  constructor(stream: StreamDef, metrics: MetricOperator[], sink: StreamSink, opts: { maxDedupIds: number; futureReference?: FutureReference; member?: boolean; partitionMetrics?: () => MetricOperator[] }) {
    this.stream = stream;
    this.#metrics = metrics;
    this.#sink = sink;
    this.#validator = new RecordValidator(stream, opts.futureReference ?? 'processing-time');
    this.watermark = new WatermarkTracker(stream.watermarkDelayMs, stream.idleTimeoutMs, { monotone: !opts.member });
    this.floors = opts.member ? new Map() : undefined;
    // Ids already checkpointed are looked up in the store (only when a 64-bit hash matches).
    this.dedup = new DedupFilter(stream.dedupTtlMs, opts.maxDedupIds, (partition, seq) => this.#storedId(partition, seq));
    // Late pairs carry their partition's own watermark and idle state at arrival (reconciliation reads them).
    const evidence = (origin: EventOrigin): LateEvidence => ({ partitionWatermarkMs: this.watermark.partitionWatermark(origin.partition), partitionIdle: this.watermark.lent(origin.partition) });
    this.#evidence = evidence;
    for (const m of metrics) m.evidence = evidence;
    this.#partitionMetrics = opts.partitionMetrics;
    this.#byPartition = opts.partitionMetrics ? new Map() : undefined;
  }

  /** The operators events of `partition` go to (with per-partition operators: created at first use). */
  metricsOf(partition: number): readonly MetricOperator[] {
    const by = this.#byPartition;
    if (!by) return this.#metrics;
    let ops = by.get(partition);
    if (!ops) {
      ops = (this.#partitionMetrics as () => MetricOperator[])();
      for (const m of ops) m.evidence = this.#evidence;
      by.set(partition, ops);
    }
    return ops;
  }

  /** Partitions with operators of their own (per-partition operators only), in partition order. */
  get partitionsWithMetrics(): readonly number[] { return [...(this.#byPartition?.keys() ?? [])].sort((a, b) => a - b); }

  /** Drops a partition's own operators (it was given up; their undrained work is dropped with it). */
  dropPartitionMetrics(partition: number): void { this.#byPartition?.delete(partition); }

  /** Dedup blocks read from the store lately (blocks never change once written). */
  readonly #blocks = new Map<string, { partition: number; first: number; ids: readonly string[] }>();

  /** The full id of a checkpointed dedup seq: from its block in the store (the last 16 blocks read are kept). */
  #storedId(partition: number, seq: number): string | undefined {
    for (const b of this.#blocks.values()) if (b.partition === partition && seq >= b.first && seq < b.first + b.ids.length) return b.ids[seq - b.first];
    const name = this.stream.name;
    const e = this.#reader?.floor('dedup', [name, partition], [name, partition, seq, Number.POSITIVE_INFINITY]);
    if (!e) return undefined;
    const first = e.key[2] as number;
    const { ids } = e.value as { ids: string[] };
    if (seq >= first + ids.length) return undefined;
    if (this.#blocks.size >= 16) this.#blocks.delete(this.#blocks.keys().next().value as string);
    this.#blocks.set(`${partition}:${first}`, { partition, first, ids });
    return ids[seq - first];
  }

  /** The store holding this stream's checkpointed state (dedup lookups), once attached. */
  #reader: StateReader | undefined;
  /** Dedup head per partition at the last capture (the store's ids below it are deleted). */
  readonly #storedHead = new Map<number, number>();

  get metrics(): readonly MetricOperator[] { return this.#metrics; }

  /** Versions of the reference tables this stream's metrics join, with the prune reach (ms) of each. */
  readonly #tables = new Map<string, { versions: TableVersions; reachMs: number }>();

  /**
   * The tables this stream's metrics join, each created (capped at its `max_versions`) and
   * given to its metrics at first call; `maxVersions` by table name.
   */
  joinTables(maxVersions: (table: string) => number): ReadonlyMap<string, TableVersions> {
    for (const m of this.#metrics) {
      const table = m.joinedTable;
      if (table === undefined) continue;
      let t = this.#tables.get(table);
      if (!t) { t = { versions: new TableVersions(maxVersions(table)), reachMs: 0 }; this.#tables.set(table, t); }
      t.reachMs = Math.max(t.reachMs, m.joinReachMs);
      m.attachTable(t.versions);
    }
    return new Map([...this.#tables].map(([n, t]) => [n, t.versions]));
  }

  /** Applies one change of a joined table (see TableVersions.apply); undefined when no metric of this stream joins it. */
  applyTableChange(table: string, change: TableChange): ChangeOutcome | undefined {
    return this.#tables.get(table)?.versions.apply(change);
  }

  /** Records skipped because their offset was already processed (redelivery after a restore). */
  skippedOffsets = 0;

  /**
   * Processes raw records in offset order per partition. A record below the partition's next
   * offset was already reflected in the state (the source redelivered it after a restore) and
   * is skipped, so state never counts an offset twice.
   */
  processRaw(records: readonly RawRecord[], nowMs: number): void {
    for (const r of records) {
      if (r.offset < (this.offsets.get(r.partition) ?? 0)) { this.skippedOffsets++; continue; }
      this.stats.events++;
      const origin = { partition: r.partition, offset: r.offset };
      const result = this.#validator.check(r, nowMs);
      if (r.keyPartition !== undefined) this.stats.misrouted++;
      if (result.ok) {
        this.processValid(result, origin, nowMs, r.value, r.keyPartition, r.enriched);
      } else {
        this.stats.quarantined++;
        this.#sink.quarantine({ stream: this.stream.name, origin, code: result.code, reason: result.reason, raw: r.value, ...(r.bytes ? { bytes: r.bytes } : {}) });
      }
      this.offsets.set(r.partition, r.offset + 1);
    }
    this.endBatch();
  }

  /**
   * Processes one validated event (used directly by pre-decoded sources and benchmarks); `raw` is
   * its JSON text if known; `dedupPartition` the partition whose ids it is checked against (its
   * key's partition when it arrived elsewhere, else its own).
   */
  processValid(event: ValidEvent, origin: EventOrigin, nowMs: number, raw?: string, dedupPartition = origin.partition, enriched?: Readonly<Record<string, Enrichment>>): void {
    if (this.dedup.isDuplicate(dedupPartition, event.eventId, event.eventTimeMs)) {
      this.stats.duplicates++;
      return;
    }
    this.stats.accepted++;
    this.#sink.accepted?.(this.stream, event, origin, raw, enriched);
    for (const t of this.#tables.values()) t.versions.observe(event.eventTimeMs);
    const wm = this.watermark.watermarkMs;
    let lateWm = wm;
    if (this.floors !== undefined) { const f = this.floors.get(origin.partition); if (f !== undefined && f > lateWm) lateWm = f; }
    let late = false;
    for (const m of this.#byPartition ? this.metricsOf(origin.partition) : this.#metrics) {
      m.process(event, origin, lateWm, enriched);
      if (m.lastWasLate) late = true;
    }
    if (late) this.stats.late++;
    const next = this.watermark.observe(origin.partition, event.eventTimeMs, nowMs, lateWm);
    if (next !== wm) for (const m of this.#metrics) m.onWatermark(next);
  }

  /** After a batch: on_update emissions, dedup expiry. */
  endBatch(): void {
    for (const m of this.#metrics) m.flushUpdates();
    this.dedup.expire(this.watermark.watermarkMs);
    for (const t of this.#tables.values()) t.versions.prune(this.watermark.watermarkMs - t.reachMs);
  }

  /** Processing-time tick: idle partitions stop holding the watermark back. */
  tick(nowMs: number): void {
    const before = this.watermark.watermarkMs;
    const wm = this.watermark.tick(nowMs);
    if (wm !== before) {
      for (const m of this.#metrics) m.onWatermark(wm);
      this.endBatch();
    }
  }

  /** End of a finite input: closes every window. */
  endOfInput(): void {
    for (const m of this.#metrics) m.flushUpdates();
    const wm = this.watermark.endOfInput();
    for (const m of this.#metrics) m.onWatermark(wm);
  }

  /** Reads checkpointed dedup ids from `reader` (a group member's phase one, which tracks no operator state). */
  attachStore(reader: StateReader): void { this.#reader = reader; }

  /**
   * Starts tracking changes for incremental checkpoints; `reader` is the store checkpoints go
   * to (the dedup filter reads ids there that it no longer keeps in full).
   */
  track(reader: StateReader): void {
    this.#reader = reader;
    for (const m of this.#metrics) m.track();
  }

  /**
   * This stream's changes since the last capture: its metrics' state, new and forgotten dedup
   * ids, and per partition the next offset, watermark mark and dedup id range. Also returns
   * the offsets the capture covers and `committed`, to call once the store committed it.
   */
  captureChanges(): { ops: Iterable<StateOp>; offsets: [number, number][]; committed: () => void } {
    const name = this.stream.name;
    const metricOps = this.#metrics.map((m) => m.captureChanges());
    const dedup = this.dedup.capture();
    const wm = this.watermark.snapshot() as { watermark: number | null; parts: [number, number | null][] };
    const marks = new Map(wm.parts);
    const offsets = [...this.offsets];
    const partitions = new Set<number>([...this.offsets.keys(), ...marks.keys(), ...dedup.partitions.map((d) => d.partition)]);
    const meta: StateOp[] = [{ op: 'put', db: 'meta', key: ['stream', name], value: { stats: { ...this.stats }, watermark: wm.watermark, evicted: dedup.evicted, collisions: dedup.collisions, skippedOffsets: this.skippedOffsets } }];
    const ranges = new Map(dedup.partitions.map((d) => [d.partition, d]));
    for (const p of partitions) {
      const d = ranges.get(p);
      meta.push({ op: 'put', db: 'meta', key: ['partition', name, p], value: { offset: this.offsets.get(p) ?? null, maxEventMs: marks.get(p) ?? null, head: d?.head ?? 0, tail: d?.tail ?? 0 } });
    }
    const forget: StateOp[] = [];
    for (const d of dedup.partitions) {
      if ((this.#storedHead.get(d.partition) ?? 0) < d.head) forget.push({ op: 'dropBlocks', db: 'dedup', prefix: [name, d.partition], below: d.head });
      this.#storedHead.set(d.partition, d.head);
    }
    const ops = (function* (): Generator<StateOp> {
      for (const m of metricOps) yield* m;
      for (const d of dedup.partitions) {
        for (let i = 0; i < d.ids.length; i += DEDUP_BLOCK) {
          const n = Math.min(DEDUP_BLOCK, d.ids.length - i);
          yield { op: 'put', db: 'dedup', key: [name, d.partition, d.firstNew + i, n], value: { ids: d.ids.slice(i, i + n), times: d.times.slice(i, i + n) } };
        }
      }
      // After the new ids: an id added and forgotten since the last capture goes in the same transaction.
      yield* forget;
      yield* meta;
    })();
    return { ops, offsets, committed: () => { for (const d of dedup.partitions) this.dedup.durable(d.partition, d.tail); } };
  }

  /**
   * Rebuilds this stream from a store: counters, offsets, watermark, dedup ids, and the state of
   * every metric not in `skip` (metrics whose definition changed start empty).
   */
  async restoreStored(reader: StateReader, nowMs: number, skip: ReadonlySet<string>): Promise<void> {
    const name = this.stream.name;
    const meta = reader.get('meta', ['stream', name]) as { stats: StreamStats; watermark: number | null; evicted: number; collisions: number; skippedOffsets?: number } | undefined;
    if (!meta) return;
    Object.assign(this.stats, meta.stats);
    this.skippedOffsets = meta.skippedOffsets ?? 0;
    this.offsets.clear();
    const parts: [number, number | null][] = [];
    const ranges: { partition: number; head: number; tail: number; entries: Iterable<readonly [number, string, number]> }[] = [];
    for (const { key, value } of reader.scan('meta', ['partition', name])) {
      const p = key[2] as number;
      const v = value as { offset: number | null; maxEventMs: number | null; head: number; tail: number };
      if (v.offset !== null) this.offsets.set(p, v.offset);
      parts.push([p, v.maxEventMs]);
      this.#storedHead.set(p, v.head);
      ranges.push({ partition: p, head: v.head, tail: v.tail, entries: (function* () {
        if (v.tail <= v.head) return;
        for (const e of reader.scan('dedup', [name, p])) {
          const first = e.key[2] as number;
          const { ids, times } = e.value as { ids: string[]; times: number[] };
          for (let i = Math.max(0, v.head - first); i < ids.length; i++) yield [first + i, ids[i] as string, times[i] as number] as const;
        }
      })() });
    }
    this.watermark.restore({ watermark: meta.watermark, parts }, nowMs);
    this.dedup.restoreFrom({ evicted: meta.evicted, collisions: meta.collisions, partitions: ranges });
    for (const m of this.#metrics) {
      if (skip.has(m.plan.name)) continue;
      const mm = reader.get('meta', ['metric', m.plan.name]) as { stats: MetricOperator['stats'] } | undefined;
      if (mm) await m.restoreStored(reader, mm);
    }
  }

  snapshot(): unknown {
    return {
      stats: this.stats, offsets: [...this.offsets], watermark: this.watermark.snapshot(),
      dedup: this.dedup.snapshot(), metrics: Object.fromEntries(this.#metrics.map((m) => [m.plan.name, m.snapshot()])),
    };
  }

  restore(json: unknown, nowMs: number): void {
    const s = json as { stats: StreamStats; offsets: [number, number][]; watermark: unknown; dedup: unknown; metrics: Record<string, unknown> };
    Object.assign(this.stats, s.stats);
    this.offsets.clear();
    for (const [p, o] of s.offsets) this.offsets.set(p, o);
    this.watermark.restore(s.watermark, nowMs);
    this.dedup.restore(s.dedup);
    for (const m of this.#metrics) {
      const ms = s.metrics[m.plan.name];
      if (ms !== undefined) m.restore(ms);
    }
  }
}

/** Counters per stream and per metric of `streams` (copies). */
export function statsOf(streams: Iterable<StreamRuntime>): { streams: Record<string, StreamStats>; metrics: Record<string, MetricStats> } {
  const out: { streams: Record<string, StreamStats>; metrics: Record<string, MetricStats> } = { streams: {}, metrics: {} };
  for (const s of streams) {
    out.streams[s.stream.name] = { ...s.stats };
    for (const m of s.metrics) out.metrics[m.plan.name] = { ...m.stats };
  }
  return out;
}
