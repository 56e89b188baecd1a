/**
 * The results topic: a compacted Kafka topic of result rows keyed by
 * (metric, window_start, group key), so the latest value per key is the current row and a
 * re-sent row after a restart overwrites itself (idempotent upsert). Deletes are tombstones.
 * A row recomputed by a backfill goes under the same key with `backfilled: true` in its value
 * and a `pitwall-backfilled: true` header.
 */
import type { Producer } from 'kafkajs';
import type { RowChange } from '../hot/operator-types.js';
import { formatRow } from '../hot/result-collector.js';
import type { MetricPlan } from '../plan/index.js';
import { formatTimestamp } from '../util/timestamp.js';
import { TopicOutbox } from './topic-outbox.js';

export class ResultsTopicSink extends TopicOutbox {
  constructor(producer: Producer, topic: string, maxBuffered = 10_000) {
    super(producer, topic, maxBuffered);
  }

  write(plan: MetricPlan, change: RowChange): void {
    this.push({
      key: `${plan.name}|${formatTimestamp(change.windowStart)}|${change.id}`,
      value: change.kind === 'delete' ? null : JSON.stringify({ metric: plan.name, hash: plan.hash, final: change.final, ...(change.backfilled ? { backfilled: true } : {}), row: formatRow(plan, change.values ?? []) }),
      headers: { 'pitwall-metric': plan.name, 'pitwall-hash': plan.hash, ...(change.backfilled ? { 'pitwall-backfilled': 'true' } : {}) },
    });
  }
}
