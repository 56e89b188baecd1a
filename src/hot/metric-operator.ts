/**
 * One metric on the hot path: its WHERE filter and its windowed aggregate operator, built
 * from the logical plan, with the metric's counters.
 */
import type { ValidEvent } from '../catalog/index.js';
import { InternalError } from '../errors.js';
import { findNode, type MetricPlan } from '../plan/index.js';
import { compileRowExpr, withJoinedRow, type Evaluator, type Val } from './eval/compile-expr.js';
import type { TableVersions } from './table-versions.js';
import type { Enrichment } from './enrichment/enrichment-stage.js';
import { GroupFolder } from './group-folder.js';
import type { StateOp, StateReader } from '../state/layout.js';
import type { EventOrigin, ForwardedEvent, LateEvidence, LatePair, OperatorLimits, PartialBatch, RowChange, WindowOperator } from './operator-types.js';
import { SessionOperator } from './session-operator.js';
import { TumbleHopOperator } from './window-operator.js';

export interface MetricStats {
  /** Final rows emitted (upserts of closed windows). */
  rows: number;
  /** Provisional upserts emitted (on_update). */
  updates: number;
  /** Late (event, window) pairs. */
  late: number;
  /** (event, window) pairs dropped because the open-group cap was reached. */
  overflow: number;
  /**
   * Partials that reached their key's owner after its window had closed (two-phase
   * aggregation). The partials protocol rules this out: anything but 0 is a bug to report.
   */
  partialsAfterClose?: number;
  /** Lookup join: events for which no version of their key was valid at their time (JOIN drops them, LEFT JOIN keeps them with NULLs). */
  joinMisses?: number;
}

/** A metric's lookup join on the hot path (plan: LookupJoinNode). */
interface HotJoin {
  readonly table: string;
  /** The table is an external lookup (kind: lookup): its row comes with the event (RawRecord.enriched). */
  readonly lookup: boolean;
  readonly inner: boolean;
  readonly probe: Evaluator<Record<string, unknown>>;
  /** allowed_lateness + window size (ms): no event older than watermark − this is on time for any window. */
  readonly reachMs: number;
  /** Whether an event of time `t` (ms) is late for every window it falls in, at watermark `wm`. */
  readonly lateForAll: (t: number, wm: number) => boolean;
  versions: TableVersions | undefined;
}

/**
 * How a metric runs on this member (hot/two-phase.ts):
 * - `whole`: this process sees every partition; it folds, closes windows and emits;
 * - `partial`: phase one on some input partitions: it folds TUMBLE/HOP/CUMULATE events into partials
 *   (late events go to the late lane here) or forwards SESSION events, and emits nothing;
 * - `merge`: phase two for some group keys: it merges partials (runs SESSION events), closes
 *   windows by the watermark of every input partition, and emits.
 */
export type MetricRole = 'whole' | 'partial' | 'merge';

export interface MetricSink {
  result(plan: MetricPlan, change: RowChange): void;
  late(plan: MetricPlan, pair: LatePair): void;
  overflow(plan: MetricPlan, event: ValidEvent, origin: EventOrigin): void;
}

export class MetricOperator {
  readonly plan: MetricPlan;
  readonly stats: MetricStats;
  readonly #filter: Evaluator<Record<string, unknown>> | undefined;
  readonly #join: HotJoin | undefined;
  readonly #op: WindowOperator;
  readonly #folder: GroupFolder;
  readonly role: MetricRole;
  /** The name its state is stored under (the metric's name; `metric#q` for a partials partition's phase two). */
  readonly storeName: string;
  /** Phase one of a SESSION metric: events forwarded at the next drain. */
  #forward: ForwardedEvent[] = [];
  /** Set when the last processed event was late for at least one window of this metric. */
  lastWasLate = false;
  /**
   * Shed (README "Shedding and backfill"): {@link process} skips the event (no join, filter or
   * window work) and only notes its time; watermarks still close windows.
   */
  shed = false;
  /** The earliest and latest event times skipped while shed (undefined: none since shedding began). */
  skipped: { minMs: number; maxMs: number } | undefined;
  /**
   * The evidence of an event's own partition at its arrival (set by the stream runtime that
   * feeds this metric); attached to its late pairs and to forwarded SESSION events.
   */
  evidence: ((origin: EventOrigin) => LateEvidence) | undefined;
  /** Phase two: the evidence a forwarded event brought along, while it is processed. */
  #arrival: LateEvidence | undefined;

  /** `stats`: a counters object shared with other operators of the metric (phase one keeps one operator per input partition). */
  constructor(plan: MetricPlan, sink: MetricSink, limits: OperatorLimits, role: MetricRole = 'whole', storeName = plan.name, stats?: MetricStats) {
    this.plan = plan;
    this.stats = stats ?? { rows: 0, updates: 0, late: 0, overflow: 0 };
    this.role = role;
    this.storeName = storeName;
    const filter = findNode(plan.root, 'FilterNode');
    this.#filter = filter ? compileRowExpr(filter.predicate) : undefined;
    const join = findNode(plan.root, 'LookupJoinNode');
    if (join) {
      if (plan.window.type === 'session') throw new InternalError(`metric ${plan.name}: a lookup join with SESSION windows`);
      this.stats.joinMisses ??= 0;
      const { sizeMs, offsetMs = 0 } = plan.window;
      const slideMs = plan.window.type === 'hop' ? plan.window.slideMs : sizeMs;
      const latenessMs = plan.stream.allowedLatenessMs;
      // Its last window (the latest start at or before t) closes last: when it is closed, all are (as TumbleHopOperator decides).
      const lateForAll = (t: number, wm: number): boolean => t - ((((t - offsetMs) % slideMs) + slideMs) % slideMs) + sizeMs + latenessMs <= wm;
      this.#join = { table: join.table.name, lookup: join.table.kind === 'lookup', inner: join.joinType === 'inner', probe: compileRowExpr(join.probe), reachMs: latenessMs + sizeMs, lateForAll, versions: undefined };
    }
    const agg = findNode(plan.root, 'AggregateNode');
    if (!agg) throw new InternalError(`metric ${plan.name} has no aggregate`);
    const folder = new GroupFolder(agg);
    this.#folder = folder;
    const out = {
      emit: (change: RowChange): void => {
        if (change.kind === 'upsert') { if (change.final) this.stats.rows++; else this.stats.updates++; }
        sink.result(plan, change);
      },
      late: (pair: LatePair): void => {
        this.stats.late++;
        this.lastWasLate = true;
        const evidence = this.#arrival ?? this.evidence?.(pair.origin);
        sink.late(plan, evidence ? { ...pair, evidence } : pair);
      },
      overflow: (event: ValidEvent, origin: EventOrigin): void => { this.stats.overflow++; sink.overflow(plan, event, origin); },
    };
    this.#op = plan.window.type === 'session' ? new SessionOperator(plan, folder, out, limits) : new TumbleHopOperator(plan, folder, out, limits);
  }

  /** The lookup join's table, if the metric joins one (set by the stream runtime with {@link attachTable}). */
  get joinedTable(): string | undefined { return this.#join?.lookup ? undefined : this.#join?.table; }

  /** The external lookup the metric joins (kind: lookup), if any, and the expression giving its key. */
  get joinedLookup(): { lookup: string; probe: Evaluator<Record<string, unknown>> } | undefined {
    return this.#join?.lookup ? { lookup: this.#join.table, probe: this.#join.probe } : undefined;
  }

  /** The lookup join's reach (ms): no event older than watermark − reach is on time for any window. */
  get joinReachMs(): number { return this.#join?.reachMs ?? 0; }

  /** Gives the lookup join the versions of its table (shared by the metrics of one stream). */
  attachTable(versions: TableVersions): void {
    if (this.#join) this.#join.versions = versions;
  }

  /**
   * Joins (when the metric joins a table), filters and folds one valid, non-duplicate event.
   * An event late for every window it falls in goes straight to the window operator (and so to
   * the late lane) without a lookup or a miss: the versions it would need may be dropped
   * already (only events newer than watermark − allowed lateness − window size can be on time).
   */
  process(event: ValidEvent, origin: EventOrigin, watermarkMs: number, enriched?: Readonly<Record<string, Enrichment>>): void {
    this.lastWasLate = false;
    if (this.shed) {
      const t = event.eventTimeMs;
      // Two checks, not else-if: a range shared by several operators starts empty (min +∞, max −∞; hot/member-shed.ts).
      if (this.skipped === undefined) this.skipped = { minMs: t, maxMs: t };
      else {
        if (t > this.skipped.maxMs) this.skipped.maxMs = t;
        if (t < this.skipped.minMs) this.skipped.minMs = t;
      }
      return;
    }
    const join = this.#join;
    if (join) {
      if (join.lateForAll(event.eventTimeMs, watermarkMs)) { this.#op.process(event, origin, watermarkMs); return; }
      let row: Readonly<Record<string, unknown>> | undefined;
      if (join.lookup) {
        // The answer the enrichment stage attached: a fallback or a 404 reads as no row (LEFT JOIN: NULL columns).
        const answer = enriched?.[join.table]?.answer;
        row = answer?.kind === 'row' ? answer.row ?? undefined : undefined;
      } else {
        if (!join.versions) throw new InternalError(`metric ${this.plan.name}: table ${join.table} not attached`);
        const key = join.probe(event.payload);
        row = key === null ? undefined : join.versions.lookup(key as string | number, event.eventTimeMs);
      }
      if (row === undefined) {
        (this.stats.joinMisses as number)++;
        if (join.inner) return;
      }
      event = { ...event, payload: withJoinedRow(event.payload, row ?? null) };
    }
    if (this.#filter !== undefined && this.#filter(event.payload) !== true) return;
    if (this.role === 'partial' && this.#op instanceof SessionOperator) {
      this.#forward.push({ id: this.#folder.keyOf(event.payload), event, origin, watermarkMs, evidence: this.evidence?.(origin) });
      return;
    }
    this.#op.process(event, origin, watermarkMs);
  }

  onWatermark(watermarkMs: number): void { if (this.role !== 'partial') this.#op.onWatermark(watermarkMs); }
  flushUpdates(): void { if (this.role !== 'partial') this.#op.flushUpdates(); }

  /** TUMBLE/HOP/CUMULATE: the rows of every open window as they stand (see TumbleHopOperator.openRows); undefined for SESSION or over `maxGroups`. */
  openRows(maxGroups: number): { windowStart: number; id: string; values: Val[] }[] | undefined {
    return this.#op instanceof TumbleHopOperator ? this.#op.openRows(maxGroups) : undefined;
  }

  /** Phase one: the partials (TUMBLE/HOP/CUMULATE) or forwarded events (SESSION) since the last drain. */
  drain(): PartialBatch {
    if (this.role !== 'partial') throw new InternalError(`metric ${this.plan.name}: drain() on a ${this.role} operator`);
    const events = this.#forward;
    this.#forward = [];
    return { windows: this.#op instanceof TumbleHopOperator ? this.#op.drain() : [], events };
  }

  /**
   * Phase two: merges a batch from phase one, given the watermark of every input partition
   * (then closes what it closes and, for on_update, emits what changed).
   */
  merge(batch: PartialBatch, watermarkMs: number): void {
    if (this.role !== 'merge') throw new InternalError(`metric ${this.plan.name}: merge() on a ${this.role} operator`);
    const op = this.#op;
    if (op instanceof TumbleHopOperator) {
      for (const w of batch.windows) {
        for (const g of w.groups) {
          const r = op.mergePartial(w.ws, g, watermarkMs);
          if (r === 'closed') this.stats.partialsAfterClose = (this.stats.partialsAfterClose ?? 0) + 1;
          else if (r === 'overflow') this.stats.overflow++;
        }
      }
    } else {
      // Judged here by the watermark of every partition, which is at most the marks published for the
      // event's partition before it arrived: the evidence from its arrival still applies.
      for (const f of batch.events) {
        this.#arrival = f.evidence;
        try { (this.#op as SessionOperator).process(f.event, f.origin, watermarkMs, f.watermarkMs); } finally { this.#arrival = undefined; }
      }
    }
  }
  snapshot(): unknown { return { op: this.#op.snapshot(), stats: this.stats }; }
  restore(json: unknown): void {
    const s = json as { op: unknown; stats: MetricStats };
    this.#op.restore(s.op);
    Object.assign(this.stats, s.stats);
  }
  stateSize(): { groups: number; bytes: number } { return this.#op.stateSize(); }

  /** Starts tracking changes for incremental checkpoints. */
  track(): void { this.#op.track(); }

  /** The operator's changes since the last capture, then the metric's meta record (hash, counters). */
  captureChanges(): Iterable<StateOp> {
    const ops = this.#op.captureChanges(this.storeName);
    const meta: StateOp = { op: 'put', db: 'meta', key: ['metric', this.storeName], value: { hash: this.plan.hash, stats: { ...this.stats } } };
    return (function* () { yield* ops; yield meta; })();
  }

  /** Rebuilds state and counters from a store whose meta record for this metric is `meta`. */
  async restoreStored(reader: StateReader, meta: { stats: MetricStats }): Promise<void> {
    await this.#op.restoreStored(this.storeName, reader);
    Object.assign(this.stats, meta.stats);
  }
}
