/**
 * The hot-path engine: one StreamRuntime per stream that some metric reads, each feeding its
 * metrics' operators. Sources push raw records per partition; the engine's snapshot holds
 * every operator's state together with the next offset of every partition, so a restore
 * followed by a seek to those offsets continues exactly where the snapshot was taken.
 */
import { compilePayloadValidator, decodeAndValidate, getPath, tableAsStream, type Catalog, type FutureReference, type PayloadValidator, type StreamDef, type TableSpec, type ValidEvent } from '../catalog/index.js';
import { ExecutionError } from '../errors.js';
import { outputWindowBound, type MetricPlan } from '../plan/index.js';
import type { Tier } from '../sql/index.js';
import { STATE_FORMAT, type StateOp, type StateReader } from '../state/layout.js';
import { MetricOperator, type MetricSink, type MetricStats } from './metric-operator.js';
import type { EventOrigin, LatePair, RowChange } from './operator-types.js';
import type { ChangeOutcome, TableChange, TableStats } from './table-versions.js';
import type { Enrichment } from './enrichment/enrichment-stage.js';
import type { Val } from './eval/compile-expr.js';
import type { ShedController } from './shed-controller.js';
import { ShedLog } from './shed-log.js';
import { windowSlots } from './window-slots.js';
import { StreamRuntime, statsOf, type QuarantineRecord, type RawRecord, type StreamSink, type StreamStats } from './stream-runtime.js';

export interface EngineSink {
  result(plan: MetricPlan, change: RowChange): void;
  late?(plan: MetricPlan, pair: LatePair): void;
  overflow?(plan: MetricPlan, event: ValidEvent, origin: EventOrigin): void;
  quarantine?(record: QuarantineRecord): void;
  /** `raw` is the event's JSON text when the source had it; `enriched`, what its external lookups gave it (hot/enrichment). */
  accepted?(stream: StreamDef, event: ValidEvent, origin: EventOrigin, raw?: string, enriched?: Readonly<Record<string, Enrichment>>): void;
  /**
   * A valid change of a joined reference table and what the joins of `stream` did with it:
   * `applied`, or not applied because `late` or over the table's `overflow` cap (both go to the
   * late lane; the cold path leaves them out).
   */
  tableChange?(change: TableChangeRecord): void;
  /** A row change held back because its window overlaps a shed interval (README "Shedding and backfill"). */
  shedRow?(plan: MetricPlan, change: RowChange): void;
}

/** Per metric: its tier, whether it is shed now, and its windows found incomplete and backfilled. */
export interface ShedStats {
  tier: Tier;
  shed: boolean;
  /** Processing time (ISO) the current shed began. */
  since: string | undefined;
  /** Windows made incomplete by closed shed intervals (TUMBLE/HOP/CUMULATE: the window slots; SESSION: sessions held back). */
  shedWindows: number;
  /** Windows recomputed by backfills (of the intervals kept in the log). */
  backfilledWindows: number;
  /** Closed intervals waiting for a backfill. */
  pendingIntervals: number;
}

/** A valid table change and its outcome for the joins of one stream. */
export interface TableChangeRecord {
  readonly table: StreamDef;
  readonly stream: string;
  readonly origin: EventOrigin;
  readonly change: TableChange;
  readonly outcome: ChangeOutcome;
  /** The change's JSON text. */
  readonly raw: string;
}

/** Per reference table: records read, quarantined, and per joining stream what its changes did. */
export interface TableRunStats {
  records: number;
  quarantined: number;
  streams: Record<string, TableStats>;
}

export interface EngineOptions {
  /** Cap on open (window, key) groups per metric. Default 1,000,000. */
  readonly maxGroups?: number;
  /** Cap on remembered event ids per stream partition. Default 2,000,000. */
  readonly maxDedupIds?: number;
  /**
   * What the far-future rule (catalog `max_future`) measures against: the latest valid event
   * time per partition (default: deterministic, whatever `nowMs` callers pass) or processing
   * time (`nowMs`; live sources with a real clock: `pitwall run`, the demo).
   */
  readonly futureReference?: FutureReference;
}

/** Snapshot format version: bump when the layout changes. */
const SNAPSHOT_VERSION = 1;

export interface EngineSnapshot {
  readonly version: number;
  readonly takenAt: string;
  /** Definition hash per metric: state is only restored into the same definition. */
  readonly metrics: Record<string, string>;
  readonly streams: Record<string, unknown>;
}

export class Engine {
  readonly plans: readonly MetricPlan[];
  readonly #streams = new Map<string, StreamRuntime>();

  constructor(catalog: Catalog, plans: readonly MetricPlan[], sink: EngineSink, options: EngineOptions = {}) {
    this.plans = plans;
    const limits = { maxGroups: options.maxGroups ?? 1_000_000 };
    const metricSink: MetricSink = {
      result: (p, c) => {
        // Every row passes here: the window's end is only worked out for a metric that was ever shed.
        if (this.shedLog.has(p.name) && this.shedLog.affects(p.name, c.windowStart, windowEndOf(p, c))) { this.#heldBack(p, c); return; }
        sink.result(p, c);
      },
      late: (p, pair) => sink.late?.(p, pair),
      overflow: (p, e, o) => sink.overflow?.(p, e, o),
    };
    const streamSink: StreamSink = {
      quarantine: (r) => sink.quarantine?.(r),
      ...(sink.accepted ? { accepted: sink.accepted.bind(sink) } : {}),
    };
    const byStream = new Map<string, MetricOperator[]>();
    for (const p of plans) {
      const ops = byStream.get(p.stream.name) ?? [];
      ops.push(new MetricOperator(p, metricSink, limits));
      byStream.set(p.stream.name, ops);
    }
    for (const s of catalog.streams.values()) {
      if (s.kind !== 'stream') continue;
      this.#streams.set(s.name, new StreamRuntime(s, byStream.get(s.name) ?? [], streamSink, { maxDedupIds: options.maxDedupIds ?? 2_000_000, futureReference: options.futureReference ?? 'event-time' }));
    }
    this.#sink = sink;
    const maxVersions = (table: string): number => catalog.streams.get(table)?.table?.maxVersions ?? 0;
    for (const [name, runtime] of this.#streams) {
      for (const [table, versions] of runtime.joinTables(maxVersions)) {
        let t = this.#tables.get(table);
        if (!t) {
          const def = catalog.streams.get(table) as StreamDef;
          t = { def, validate: compilePayloadValidator(tableAsStream(def)), stats: { records: 0, quarantined: 0, streams: {} }, joiners: [] };
          this.#tables.set(table, t);
        }
        t.joiners.push(runtime);
        t.stats.streams[name] = versions.stats;
      }
    }
  }

  readonly #sink: EngineSink;
  /** Shed intervals of every metric; the owner persists it (onChange) when it runs with a state directory. */
  readonly shedLog = new ShedLog();
  /**
   * Per metric: windows found incomplete (the window slots of each closed interval; for SESSION,
   * the sessions whose final rows were held back), the last session counted (a window's final
   * rows come together), and the earliest window end held back in the open interval.
   */
  readonly #shedCounts = new Map<string, { windows: number; last: string; heldFromMs: number }>();

  #counts(metric: string): { windows: number; last: string; heldFromMs: number } {
    let c = this.#shedCounts.get(metric);
    if (!c) { c = { windows: 0, last: '', heldFromMs: Number.POSITIVE_INFINITY }; this.#shedCounts.set(metric, c); }
    return c;
  }

  #heldBack(plan: MetricPlan, change: RowChange): void {
    const c = this.#counts(plan.name);
    const end = windowEndOf(plan, change);
    if (end < c.heldFromMs) c.heldFromMs = end;
    if (plan.window.type === 'session' && change.kind === 'upsert' && change.final) {
      const w = `${change.windowStart}/${change.id}`;
      if (w !== c.last) { c.windows++; c.last = w; }
    }
    this.#sink.shedRow?.(plan, change);
  }

  /**
   * Sheds or resumes one metric. Shedding opens an interval from the stream's watermark −
   * allowed lateness; resuming closes it one past the latest event time skipped (see ShedLog).
   */
  setShed(metric: string, shed: boolean, nowMs = Date.now()): void {
    for (const s of this.#streams.values()) {
      for (const m of s.metrics) {
        if (m.plan.name !== metric || m.shed === shed) continue;
        m.shed = shed;
        const c = this.#counts(metric);
        if (shed) {
          m.skipped = undefined;
          c.heldFromMs = Number.POSITIVE_INFINITY;
          this.shedLog.begin(metric, s.watermark.watermarkMs - m.plan.stream.allowedLatenessMs, nowMs);
        } else {
          const closed = this.shedLog.end(metric, m.skipped, c.heldFromMs);
          if (closed) c.windows += windowSlots(m.plan.window, closed.fromMs, closed.toMs as number) ?? 0;
        }
      }
    }
  }

  /** Copies each shed metric's skipped event times into its open interval (call before writing the log with a checkpoint). */
  syncShedLog(): void {
    for (const s of this.#streams.values()) {
      for (const m of s.metrics) {
        const open = m.shed ? this.shedLog.intervals(m.plan.name).find((i) => i.toMs === null) : undefined;
        if (open && m.skipped) open.skipped = { ...m.skipped };
      }
    }
  }

  /** After a stored log is loaded: a metric with an open interval starts shed again, carrying on from the event times it skipped before. */
  resumeShedLog(): void {
    for (const s of this.#streams.values()) {
      for (const m of s.metrics) {
        const open = this.shedLog.intervals(m.plan.name).find((i) => i.toMs === null);
        if (!open) continue;
        // Replayed events skipped again may belong to windows closed before shedding began: cover from the floor until it closes (ShedLog.end).
        if (open.fromMs !== Number.MIN_SAFE_INTEGER) { open.restartedFromMs = open.fromMs; open.fromMs = Number.MIN_SAFE_INTEGER; }
        m.shed = true;
        m.skipped = open.skipped ? { ...open.skipped } : undefined;
      }
    }
  }

  /** Applies the controller's level: each metric shed or not by its tier. */
  applyShedLevel(controller: ShedController, nowMs = Date.now()): void {
    for (const p of this.plans) this.setShed(p.name, controller.isShed(p.tier), nowMs);
  }

  /** Shed state and held-back windows per metric. */
  shedStats(): Record<string, ShedStats> {
    return Object.fromEntries(this.plans.map((p) => [p.name, {
      tier: p.tier, shed: this.shedLog.isOpen(p.name), since: this.shedLog.openSince(p.name), shedWindows: this.#shedCounts.get(p.name)?.windows ?? 0,
      backfilledWindows: this.shedLog.intervals(p.name).reduce((n, i) => n + i.backfilledWindows, 0), pendingIntervals: this.shedLog.pending(p.name).length,
    }]));
  }

  /** The reference tables some metric joins: their validator, counters and the streams joining them. */
  readonly #tables = new Map<string, { def: StreamDef; validate: PayloadValidator; stats: TableRunStats; joiners: StreamRuntime[] }>();

  /** Names of the reference tables some metric joins (their changes are read before events in replay). */
  get joinedTables(): readonly string[] { return [...this.#tables.keys()]; }

  /**
   * Feeds changes of a reference table to every stream whose metrics join it (in arrival
   * order). A change that is not valid against the table's fields (or lacks its key or validity
   * time) goes to the quarantine lane; a table no metric joins is ignored.
   */
  processTable(table: string, records: readonly RawRecord[]): void {
    const t = this.#tables.get(table);
    if (!t) return;
    const spec = t.def.table as TableSpec;
    for (const r of records) {
      t.stats.records++;
      const origin = { partition: r.partition, offset: r.offset };
      const v = decodeAndValidate(r.value, t.validate);
      if (!v.ok) {
        t.stats.quarantined++;
        this.#sink.quarantine?.({ stream: table, origin, code: v.code, reason: v.reason, raw: r.value });
        continue;
      }
      const deleted = spec.deleted !== undefined && getPath(v.payload, spec.deleted.split('.')) === true;
      const key = getPath(v.payload, spec.key.split('.')) as string | number;
      const change: TableChange = { key, validFromMs: v.eventTimeMs, row: deleted ? null : v.payload };
      for (const runtime of t.joiners) {
        const outcome = runtime.applyTableChange(table, change) as ChangeOutcome;
        this.#sink.tableChange?.({ table: t.def, stream: runtime.stream.name, origin, change, outcome, raw: r.value });
      }
    }
  }

  /** Counters of the joined reference tables. */
  tableStats(): Record<string, TableRunStats> {
    return Object.fromEntries([...this.#tables].map(([n, t]) => [n, { ...t.stats, streams: Object.fromEntries(Object.entries(t.stats.streams).map(([s, x]) => [s, { ...x }])) }]));
  }

  /** The runtime of a stream (throws a clear error for an unknown one). */
  stream(name: string): StreamRuntime {
    const s = this.#streams.get(name);
    if (!s) throw new ExecutionError('PW_UNKNOWN_STREAM', `unknown stream '${name}'; catalog streams: ${[...this.#streams.keys()].join(', ')}`);
    return s;
  }

  get streams(): readonly StreamRuntime[] { return [...this.#streams.values()]; }

  process(stream: string, records: readonly RawRecord[], nowMs = Date.now()): void {
    this.stream(stream).processRaw(records, nowMs);
  }

  tick(nowMs = Date.now()): void {
    for (const s of this.#streams.values()) s.tick(nowMs);
  }

  /** End of finite input for one stream (or all): every window closes. */
  endOfInput(stream?: string): void {
    for (const s of stream ? [this.stream(stream)] : this.#streams.values()) s.endOfInput();
  }

  stats(): { streams: Record<string, StreamStats>; metrics: Record<string, MetricStats> } {
    return statsOf(this.#streams.values());
  }

  snapshot(): EngineSnapshot {
    return {
      version: SNAPSHOT_VERSION,
      takenAt: new Date().toISOString(),
      metrics: Object.fromEntries(this.plans.map((p) => [p.name, p.hash])),
      streams: Object.fromEntries([...this.#streams].map(([n, s]) => [n, s.snapshot()])),
    };
  }

  /**
   * Restores a snapshot. A metric whose definition hash changed starts empty (its old state
   * would compute a different metric); the names of such metrics are returned.
   */
  restore(snap: EngineSnapshot, nowMs = Date.now()): string[] {
    if (snap.version !== SNAPSHOT_VERSION) {
      throw new ExecutionError('PW_CHECKPOINT_VERSION', `checkpoint format ${snap.version} is not supported (expected ${SNAPSHOT_VERSION}); remove the state directory to start fresh`);
    }
    const changed = this.plans.filter((p) => snap.metrics[p.name] !== p.hash).map((p) => p.name);
    for (const [name, s] of this.#streams) {
      const json = snap.streams[name] as { metrics: Record<string, unknown> } | undefined;
      if (!json) continue;
      const metrics = Object.fromEntries(Object.entries(json.metrics).filter(([m]) => !changed.includes(m)));
      s.restore({ ...json, metrics }, nowMs);
    }
    return changed;
  }

  /** Operations queued for the next capture (state of metrics that changed definition or went away). */
  #dropOps: StateOp[] = [];
  #captures = 0;

  /**
   * Starts tracking changes for incremental checkpoints to the store `reader` reads (see
   * state/layout.ts). Everything already in memory counts as changed, so the first capture
   * after a restore from a JSON snapshot writes it all.
   */
  trackChanges(reader: StateReader): void {
    for (const s of this.#streams.values()) s.track(reader);
  }

  /**
   * The changes since the last capture, as store operations to commit in one transaction.
   * Mutable state is copied now, in O(changes); the operations are produced lazily from the
   * copies (so a checkpoint can be handed over in slices while processing goes on).
   * `offsets`: per stream, the next offset of every partition the capture covers;
   * `committed`: call once the store has committed the operations.
   */
  captureChanges(): { ops: Iterable<StateOp>; offsets: Record<string, [number, number][]>; committed: () => void } {
    const drop = this.#dropOps;
    this.#dropOps = [];
    const seq = ++this.#captures;
    const parts = [...this.#streams].map(([name, s]) => ({ name, ...s.captureChanges() }));
    const head: StateOp[] = [...drop, { op: 'put', db: 'meta', key: ['format'], value: STATE_FORMAT }];
    const tail: StateOp = { op: 'put', db: 'meta', key: ['checkpoint'], value: { takenAt: new Date().toISOString(), seq } };
    return {
      ops: (function* () { yield* head; for (const p of parts) yield* p.ops; yield tail; })(),
      offsets: Object.fromEntries(parts.map((p) => [p.name, p.offsets])),
      committed: () => { for (const p of parts) p.committed(); },
    };
  }

  /**
   * Restores from a store (after {@link trackChanges} with the same reader). A metric whose
   * definition hash changed, or that is no longer defined, starts empty and its stored state is
   * deleted by the next capture; the names of current metrics that start empty are returned.
   * Throws PW_CHECKPOINT_VERSION for a store of another format.
   */
  async restoreStored(reader: StateReader, nowMs = Date.now()): Promise<string[]> {
    const format = reader.get('meta', ['format']);
    if (format === undefined) return [];
    if (format !== STATE_FORMAT) {
      throw new ExecutionError('PW_CHECKPOINT_VERSION', `state store format ${String(format)} is not supported (expected ${STATE_FORMAT}); remove the state directory to start fresh`);
    }
    const current = new Map(this.plans.map((p) => [p.name, p.hash]));
    const changed = new Set<string>();
    for (const { key, value } of reader.scan('meta', ['metric'])) {
      const name = key[1] as string;
      const hash = (value as { hash: string }).hash;
      if (current.get(name) === hash) continue;
      if (current.has(name)) changed.add(name);
      for (const db of ['groups', 'emitted', 'sessions', 'closed'] as const) this.#dropOps.push({ op: 'clear', db, prefix: [name] });
      this.#dropOps.push({ op: 'del', db: 'meta', key: ['metric', name] });
    }
    for (const s of this.#streams.values()) await s.restoreStored(reader, nowMs, changed);
    this.#captures = (reader.get('meta', ['checkpoint']) as { seq: number } | undefined)?.seq ?? 0;
    return [...changed];
  }

  /** Open groups and approximate state bytes per metric. */
  stateSize(): Record<string, { groups: number; bytes: number }> {
    const out: Record<string, { groups: number; bytes: number }> = {};
    for (const s of this.#streams.values()) for (const m of s.metrics) out[m.plan.name] = m.stateSize();
    return out;
  }
}

/**
 * The end of a row's window: TUMBLE/HOP start + size; CUMULATE and SESSION the selected
 * window_end when there is one, else the CUMULATE period's end or, for SESSION, +∞ (conservative:
 * a shed interval then decides by the start alone).
 */
export function windowEndOf(plan: MetricPlan, change: RowChange): number {
  const w = plan.window;
  if (w.type === 'tumble' || w.type === 'hop') return change.windowStart + w.sizeMs;
  const i = outputWindowBound(plan, 'window_end');
  const v = i >= 0 ? (change.values?.[i] as Val | undefined) : undefined;
  if (typeof v === 'number') return v;
  return w.type === 'cumulate' ? change.windowStart + w.sizeMs : Number.POSITIVE_INFINITY;
}
