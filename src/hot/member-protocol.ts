/**
 * Messages between `pitwall run`'s main thread and its member threads (hot/member-pool.ts,
 * hot/member-worker.ts). Results and archive records travel in batches (arrays of tuples:
 * strings and numbers, cheap to clone), never one message per event.
 */
import type { KafkaRunBase } from './kafka-runner.js';
import type { QuarantineRecord, StreamStats } from './stream-runtime.js';
import type { MetricStats } from './metric-operator.js';
import type { RowChange } from './operator-types.js';
import type { EventChunk } from '../archive/columnar.js';
import type { EnrichmentFigures } from './enrichment/build-stages.js';
import type { MemberShedFigures, ShedAck, ShedUpdate } from './member-shed.js';

/** What a member thread is started with (workerData). */
export interface MemberInit extends KafkaRunBase {
  readonly catalog: string;
  readonly queries: string;
  readonly index: number;
  readonly maxGroups: number;
  readonly maxDedupIds: number;
  readonly partialsPrefix: string;
  /** How state moves between members (MemberRunnerOptions.stateSync). */
  readonly stateSync?: 'shared' | 'changelog';
  readonly memberId: string;
  /** The main thread archives (the member sends it its records). */
  readonly archive: boolean;
  /** The main thread serves (the member sends it its result changes). */
  readonly serve: boolean;
  /** The run sheds (`pitwall run --shed`): the main thread's shed state at start (hot/member-shed.ts). */
  readonly shed?: ShedUpdate;
}

/**
 * A member's accepted events of one stream since its last hand-off, columnar: the raw JSON texts
 * joined by ',' (one string, copied once) and typed arrays transferred with the message (no
 * per-event structured cloning). The main thread hands it to the archive
 * as an archive chunk (archive/columnar.ts EventChunk).
 */
export interface AcceptedBatch extends EventChunk {
  readonly stream: string;
}
/** [metric, event id, event time, window start, window end, watermark (null: −∞), partition, offset, partition watermark (null: −∞), partition idle (1) — the last two absent without evidence]. */
export type LateTuple = [string, string, number, number, number, number | null, number, number, (number | null)?, (0 | 1)?];

export interface MemberFigures {
  readonly stats: { streams: Record<string, StreamStats>; metrics: Record<string, MetricStats> };
  readonly stateSize: Record<string, { groups: number; bytes: number }>;
  readonly streams: { name: string; watermarkMs: number | null; evicted: number }[];
  readonly lag: [string, number][];
  readonly outboxes: [string, number][];
  readonly lastCheckpointAt: number;
  readonly checkpointMs: number;
  /** The last scheduled checkpoint's failure, until one succeeds. */
  readonly checkpointError?: string;
  readonly counters: { skippedFlushes: number; fenced: number; rebalances: number; foreignFlushes: number };
  /** A misconfigured group (members with different state directories), said once. */
  readonly groupError?: string;
  /** Partitions owned per input and partials topic, and each topic's partition count. */
  readonly owned: { input: Record<string, number[]>; partials: Record<string, number[]>; counts: Record<string, number> };
  /** Per external lookup this member's phase one asks (absent when no metric joins one). */
  readonly enrichment?: Record<string, EnrichmentFigures>;
  /** Shedding: the event times skipped per metric shed now, and SESSION windows held back (absent when the run does not shed). */
  readonly shed?: MemberShedFigures;
}

export type FromMember =
  | { readonly t: 'started' }
  | { readonly t: 'failed'; readonly error: string; readonly code?: string }
  /** Result changes, each with when the first input batch behind it reached its sender (wall clock, ms; null: unknown). */
  | { readonly t: 'results'; readonly changes: [string, RowChange, number | null][] }
  | { readonly t: 'archive'; readonly accepted: AcceptedBatch[]; readonly late: LateTuple[]; readonly quarantined: QuarantineRecord[] }
  | { readonly t: 'archiveFlush'; readonly id: number }
  | { readonly t: 'figures'; readonly figures: MemberFigures }
  | { readonly t: 'log'; readonly msg: string }
  | { readonly t: 'fatal'; readonly error: string }
  | { readonly t: 'checkpointed'; readonly id: number; readonly error?: string }
  | { readonly t: 'stopped'; readonly error?: string }
  /** A shed update applied (its skipped ranges close the intervals of the metrics it resumed). */
  | { readonly t: 'shedAck'; readonly ack: ShedAck };

export type ToMember =
  | { readonly t: 'stop' }
  | { readonly t: 'checkpoint'; readonly id: number }
  | { readonly t: 'archiveFlushed'; readonly id: number; readonly error?: string; readonly relieved?: boolean }
  /** The main thread's new shed state (metrics shed now and the log); answered with `shedAck`. */
  | { readonly t: 'shed'; readonly update: ShedUpdate };
