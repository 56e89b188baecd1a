/** The late lane's line format (`_late.ndjson`), which reconciliation reads to explain differences. */
import type { MetricPlan } from '../plan/index.js';
import { formatTimestamp } from '../util/timestamp.js';
import type { LatePair } from './operator-types.js';

export function lateLine(plan: MetricPlan, pair: LatePair): Record<string, string | number | boolean | null> {
  return {
    stream: plan.stream.name, metric: plan.name, window_start: formatTimestamp(pair.windowStart), window_end: formatTimestamp(pair.windowEnd),
    event_id: pair.event.eventId, event_time: formatTimestamp(pair.event.eventTimeMs),
    watermark: Number.isFinite(pair.watermarkMs) ? formatTimestamp(pair.watermarkMs) : null,
    partition: pair.origin.partition, offset: pair.origin.offset,
    ...(pair.evidence ? {
      partition_watermark: Number.isFinite(pair.evidence.partitionWatermarkMs) ? formatTimestamp(pair.evidence.partitionWatermarkMs) : null,
      partition_idle: pair.evidence.partitionIdle,
    } : {}),
  };
}
