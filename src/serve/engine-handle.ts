/** What the server reads from a running engine (Kafka runner or the embedded demo). */
import type { ArchiveWriter } from '../archive/archive-writer.js';
import type { ShedStats } from '../hot/engine.js';
import type { EnrichmentFigures } from '../hot/enrichment/build-stages.js';
import type { MetricStats } from '../hot/metric-operator.js';
import type { StreamStats } from '../hot/stream-runtime.js';
import type { MetricPlan } from '../plan/index.js';

/**
 * The engine figures the server reads: counters, state size and per stream its watermark and
 * dedup evictions. An Engine is one; a group of member threads (hot/member-pool.ts) sums its
 * members'.
 */
export interface EngineView {
  stats(): { streams: Record<string, StreamStats>; metrics: Record<string, MetricStats> };
  stateSize(): Record<string, { groups: number; bytes: number }>;
  readonly streams: readonly { readonly stream: { readonly name: string }; readonly dedup: { readonly evicted: number }; readonly watermark: { readonly watermarkMs: number } }[];
}

export interface EngineHandle {
  readonly plans: readonly MetricPlan[];
  readonly engine: EngineView;
  /** Consumer lag per `topic:partition` (empty for in-process sources). */
  lag(): ReadonlyMap<string, number>;
  /** Epoch ms of the last checkpoint (undefined when the engine does not checkpoint). */
  lastCheckpointAt(): number | undefined;
  /** Messages buffered for the broker per output topic (results, DLQs): growth means the broker falls behind. */
  outboxes?(): ReadonlyMap<string, number>;
  /** Runs a checkpoint now (admin). */
  checkpoint?(): Promise<void>;
  /** Why the engine is not ready although caught up (its last checkpoint failed, it is stopping), or undefined. */
  notReadyReason?(): string | undefined;
  /**
   * A group's figures (`pitwall run` without --single), summed over this process's members:
   * member threads, rebalances taken, checkpoints refused by fencing, re-sent flushes skipped,
   * and partials received from members with another state directory.
   */
  group?(): { members: number; rebalances: number; fenced: number; skippedFlushes: number; foreignFlushes: number };
  /** Per metric: tier, shed state and shed/backfilled windows (README "Shedding and backfill"); absent when the engine does not shed. */
  shed?(): Record<string, ShedStats>;
  /** Per external lookup (kind: lookup) the engine calls: cache hits, requests, fallbacks, breaker, events waiting; absent when none. */
  enrichment?(): Record<string, EnrichmentFigures>;
  /** The archive being written, if any (its counters go to /metrics). */
  readonly archive?: Pick<ArchiveWriter, 'stats' | 'pendingSegments'>;
}
