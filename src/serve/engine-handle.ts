/** What the server reads from a running engine (Kafka runner or the embedded demo). */
import type { ArchiveWriter } from '../archive/archive-writer.js';
import type { Engine } from '../hot/engine.js';
import type { MetricPlan } from '../plan/index.js';

export interface EngineHandle {
  readonly plans: readonly MetricPlan[];
  readonly engine: Engine;
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
  /** The archive being written, if any (its counters go to /metrics). */
  readonly archive?: Pick<ArchiveWriter, 'stats' | 'pendingSegments'>;
}
