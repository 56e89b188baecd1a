/**
 * The results topic: a compacted Kafka topic of result rows keyed by
 * (metric, window_start, group key), so the latest value per key is the current row and a
 * re-sent row after a restart overwrites itself (idempotent upsert). Deletes are tombstones.
 * Sends are buffered in a bounded outbox; `flush()` waits until every buffered row is
 * acknowledged, which the runner does before each checkpoint.
 */
import { CompressionTypes, type Producer } from 'kafkajs';
import type { RowChange } from '../hot/operator-types.js';
import { formatRow } from '../hot/result-collector.js';
import type { MetricPlan } from '../plan/index.js';
import { formatTimestamp } from '../util/timestamp.js';

interface Message { key: string; value: string | null; headers: Record<string, string> }

export class ResultsTopicSink {
  readonly topic: string;
  readonly #producer: Producer;
  readonly #maxBuffered: number;
  #outbox: Message[] = [];
  #inflight: Promise<unknown> = Promise.resolve();
  sent = 0;

  constructor(producer: Producer, topic: string, maxBuffered = 10_000) {
    this.#producer = producer;
    this.topic = topic;
    this.#maxBuffered = maxBuffered;
  }

  /** Buffers one change; true when the outbox is past its bound (the caller should flush). */
  write(plan: MetricPlan, change: RowChange): boolean {
    const key = `${plan.name}|${formatTimestamp(change.windowStart)}|${change.id}`;
    const value = change.kind === 'delete' ? null : JSON.stringify({
      metric: plan.name, hash: plan.hash, final: change.final, row: formatRow(plan, change.values ?? []),
    });
    this.#outbox.push({ key, value, headers: { 'pitwall-metric': plan.name, 'pitwall-hash': plan.hash } });
    return this.#outbox.length >= this.#maxBuffered;
  }

  get buffered(): number { return this.#outbox.length; }

  /**
   * Backpressure without stalling: past the outbox bound, starts sending the outbox in the
   * background, first waiting for the previous background send (so at most one is in flight).
   */
  async relieve(): Promise<void> {
    if (this.#outbox.length < this.#maxBuffered) return;
    await this.#inflight;
    void this.flush().catch(() => undefined); // a failed send fails the next flush(), before any checkpoint
  }

  /** Sends everything buffered and waits for the broker's acknowledgement. */
  async flush(): Promise<void> {
    const batch = this.#outbox;
    this.#outbox = [];
    const previous = this.#inflight;
    const send = batch.length === 0 ? Promise.resolve() : this.#producer.send({ topic: this.topic, acks: -1, compression: CompressionTypes.None, messages: batch });
    this.#inflight = Promise.all([previous, send]);
    await this.#inflight;
    this.sent += batch.length;
  }
}
