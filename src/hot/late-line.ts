/** The late lane's line format (`_late.ndjson`), which reconciliation reads to explain differences; and the table changes' (`_table_late.ndjson`). */
import type { MetricPlan } from '../plan/index.js';
import type { TableChangeRecord } from './engine.js';
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

/** A table change the joins of a stream did not apply (`late` or `overflow`), as `_table_late.ndjson` holds it. */
export function tableLateLine(c: TableChangeRecord): Record<string, string | number> {
  return { table: c.table.name, stream: c.stream, partition: c.origin.partition, offset: c.origin.offset, outcome: c.outcome, valid_from: formatTimestamp(c.change.validFromMs), raw: c.raw };
}
