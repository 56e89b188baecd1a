/** What windowed operators emit and report, and the interface they share. */
import type { ValidEvent } from '../catalog/index.js';
import type { StateOp, StateReader } from '../state/layout.js';
import type { Val } from './eval/compile-expr.js';

/** A change to a metric's results, keyed by (window_start, id). */
export interface RowChange {
  readonly kind: 'upsert' | 'delete';
  readonly windowStart: number;
  /** Encoded group key: together with windowStart it identifies the row. */
  readonly id: string;
  /** The output values, in output column order (undefined for deletes). */
  readonly values: Val[] | undefined;
  /** True for the final row of a closed window. */
  readonly final: boolean;
  /** Recomputed from the archive by a backfill (README "Shedding and backfill"), not by the hot path. */
  readonly backfilled?: boolean;
}

/** Where an event came from: input partition and offset. */
export interface EventOrigin {
  readonly partition: number;
  readonly offset: number;
}

/** An (event, window) pair that arrived after the window closed. */
export interface LatePair {
  readonly event: ValidEvent;
  readonly origin: EventOrigin;
  readonly windowStart: number;
  readonly windowEnd: number;
  /** The watermark when the event arrived. */
  readonly watermarkMs: number;
  /**
   * What the event's own partition says about its lateness, when known (see {@link LateEvidence}).
   * Absent for pairs from sources that do not track it.
   */
  readonly evidence?: LateEvidence;
}

/**
 * Why an event could be late, from its own partition at its arrival: reconciliation
 * (reconcile/reconcile.ts) explains a late pair only by lateness in the event's own partition
 * (its window closed by that partition's own watermark) or by the idle rule (the partition was
 * idle and other partitions moved the watermark on). Lateness neither explains, such as the
 * watermark passing a partition that a rebalance left unread, is reported as unexplained.
 */
export interface LateEvidence {
  /** The partition's own watermark at the event's arrival (its max event time − watermark_delay, ms; −∞ before its first event). */
  readonly partitionWatermarkMs: number;
  /** The partition had gone idle and had not caught up with the watermark since. */
  readonly partitionIdle: boolean;
}

/** LateEvidence on the wire (partials messages, member hand-offs): [partition watermark (null: −∞), 1 if idle]. */
export type EvidenceTuple = [number | null, 0 | 1];

export function evidenceTuple(ev: LateEvidence): EvidenceTuple {
  return [Number.isFinite(ev.partitionWatermarkMs) ? ev.partitionWatermarkMs : null, ev.partitionIdle ? 1 : 0];
}

/** LateEvidence back from its {@link EvidenceTuple} (undefined when the sender had none). */
export function evidenceFrom(pwm: number | null | undefined, idle: 0 | 1 | undefined): LateEvidence | undefined {
  return idle === undefined ? undefined : { partitionWatermarkMs: pwm ?? Number.NEGATIVE_INFINITY, partitionIdle: idle === 1 };
}

export interface OperatorOutput {
  emit(change: RowChange): void;
  late(pair: LatePair): void;
  /** An event could not open a new group because the open-group cap was reached. */
  overflow(event: ValidEvent, origin: EventOrigin): void;
}

export interface OperatorLimits {
  /** Cap on open (window, key) groups of one metric; beyond it new groups overflow (counted). */
  readonly maxGroups: number;
}

/** A windowed aggregate operator (TUMBLE/HOP/CUMULATE or SESSION). */
export interface WindowOperator {
  /** Folds an event that passed the metric's filter, given the watermark at its arrival. */
  process(event: ValidEvent, origin: EventOrigin, watermarkMs: number): void;
  /** Closes every window with end + allowed_lateness <= watermark, emitting final rows. */
  onWatermark(watermarkMs: number): void;
  /** on_update: emits upserts (and deletes) for groups changed since the last flush. */
  flushUpdates(): void;
  snapshot(): unknown;
  restore(json: unknown): void;
  /** Starts tracking changes for incremental checkpoints (all current state counts as changed). */
  track(): void;
  /**
   * The changes since the last capture as store operations under `metric`'s keys: mutable
   * state is copied now (O(changes)); the operations are produced lazily from those copies.
   */
  captureChanges(metric: string): Iterable<StateOp>;
  /** Rebuilds the state of `metric` from a store (replacing the current state). */
  restoreStored(metric: string, reader: StateReader): Promise<void>;
  /** Open groups and their approximate bytes. */
  stateSize(): { groups: number; bytes: number };
}

/**
 * Two-phase aggregation (hot/two-phase.ts): the accumulators of one group of one window folded
 * by the owner of some input partitions. `keys` are the group's key values, `accs` one
 * snapshot per aggregate (GroupTable.snapshot form), merged by the key's owner.
 */
export interface PartialGroup {
  readonly id: string;
  readonly keys: readonly Val[];
  readonly accs: readonly unknown[];
}

/** The partial groups of one TUMBLE/HOP/CUMULATE window (by its key, ms: the window start; the end for CUMULATE). */
export interface PartialWindow {
  readonly ws: number;
  readonly groups: readonly PartialGroup[];
}

/**
 * An event of a SESSION metric forwarded to the owner of its key (sessions of one key can span
 * partitions, so they are formed where the key's events meet). It joins the open sessions it
 * overlaps there; one that overlaps none is late once its own span is due by that side's
 * watermark or by `watermarkMs`, like a TUMBLE event on its owner. `id` is its encoded group key.
 */
export interface ForwardedEvent {
  readonly id: string;
  readonly event: ValidEvent;
  readonly origin: EventOrigin;
  /** The watermark its partition's owner judged lateness by when it arrived (ms). */
  readonly watermarkMs: number;
  /** Its own partition's evidence at its arrival, for the late lane if it turns out late. */
  readonly evidence?: LateEvidence;
}

/** What one metric's phase one hands over at a flush: TUMBLE/HOP/CUMULATE partials, or SESSION events. */
export interface PartialBatch {
  readonly windows: readonly PartialWindow[];
  readonly events: readonly ForwardedEvent[];
}
