/**
 * Messages between an engine's thread and its serving thread (serve-thread.ts, serve-worker.ts).
 * Result changes travel in batches; the engine's figures as one snapshot every
 * {@link FIGURES_INTERVAL_MS}; metric observations as plain numbers.
 */
import type { ShedStats } from '../hot/engine.js';
import type { EnrichmentFigures } from '../hot/enrichment/build-stages.js';
import type { MetricStats } from '../hot/metric-operator.js';
import type { RowChange } from '../hot/operator-types.js';
import type { StreamStats } from '../hot/stream-runtime.js';
import type { TokenConfig } from './auth.js';

/** How often the serving thread gets the engine's figures (ms): /metrics and /readyz are at most this stale. */
export const FIGURES_INTERVAL_MS = 250;

/** What the serving thread is started with (workerData). */
export interface ServeInit {
  /** Catalog and queries directories: the serving thread loads the same plans. */
  readonly catalog: string;
  readonly queries: string;
  readonly port: number;
  readonly host: string;
  readonly tokens: readonly TokenConfig[];
  readonly corsOrigins: readonly string[];
  readonly rateLimitPerMinute?: number;
  readonly maxCheckpointAgeMs?: number;
  readonly maxLag?: number;
  /** The engine checkpoints (POST /v1/admin/checkpoint is forwarded to it). */
  readonly checkpoints: boolean;
  /** The engine is a group (its figures come with the snapshot). */
  readonly group: boolean;
  /** The engine archives (its counters come with the snapshot). */
  readonly archive: boolean;
  /** The engine sheds metrics by tier (its shed figures come with the snapshot). */
  readonly shed?: boolean;
  /** The engine calls external lookups (their figures come with the snapshot). */
  readonly enrichment?: boolean;
  /** Names of the metrics the engine runs (of the queries directory, `pitwall run` leaves lookup joins out). */
  readonly metrics: readonly string[];
}

/** The engine's figures, as EngineHandle gives them (serve/engine-handle.ts). */
export interface EngineFigures {
  readonly stats: { streams: Record<string, StreamStats>; metrics: Record<string, MetricStats> };
  readonly stateSize: Record<string, { groups: number; bytes: number }>;
  readonly streams: { readonly name: string; readonly evicted: number; readonly watermarkMs: number }[];
  readonly lag: [string, number][];
  readonly lastCheckpointAt: number | undefined;
  readonly outboxes: [string, number][] | undefined;
  readonly notReadyReason: string | undefined;
  readonly group: { members: number; rebalances: number; fenced: number; skippedFlushes: number; foreignFlushes: number } | undefined;
  readonly shed: Record<string, ShedStats> | undefined;
  readonly enrichment?: Record<string, EnrichmentFigures> | undefined;
  readonly archive: { stats: { events: number; quarantined: number; late: number; segments: number; bytes: number; writeFailures: number; rejected: number }; pendingSegments: number } | undefined;
}

/** A metric observation made on the engine's thread: `series` names a PitwallMetrics field. */
export type Observation =
  | { readonly series: 'latency' | 'checkpointSeconds' | 'checkpointCaptureSeconds'; readonly observe: number }
  | { readonly series: 'checkpointBytes'; readonly inc: number }
  | { readonly series: 'appendToResult'; readonly labels: { tier: string }; readonly observe: number }
  | { readonly series: 'reconcileSkipped'; readonly set: number }
  | { readonly series: 'reconcile'; readonly labels: { metric: string; class: string }; readonly set: number };

export type ToServe =
  /** Result changes in order: [metric, change]. */
  | { readonly t: 'changes'; readonly changes: [string, RowChange][] }
  | { readonly t: 'figures'; readonly figures: EngineFigures }
  | { readonly t: 'observe'; readonly observations: Observation[] }
  | { readonly t: 'checkpointed'; readonly id: number; readonly at?: number; readonly error?: string }
  | { readonly t: 'stop' };

export type FromServe =
  | { readonly t: 'listening'; readonly address: string }
  | { readonly t: 'failed'; readonly error: string; readonly code?: string }
  | { readonly t: 'checkpoint'; readonly id: number }
  | { readonly t: 'stopped' };
