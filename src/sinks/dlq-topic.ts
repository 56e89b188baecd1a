/**
 * The quarantine lane on the broker: every payload the engine rejects goes, byte for byte, to
 * `<topic>.dlq` with headers saying why and where it came from (`pitwall-error-code`,
 * `pitwall-error`, `pitwall-source-topic`, `pitwall-source-partition`, `pitwall-source-offset`).
 * Keyed by source partition and offset, so a re-sent record after a restart is recognizable.
 */
import type { Producer } from 'kafkajs';
import type { QuarantineRecord } from '../hot/stream-runtime.js';
import { TopicOutbox } from './topic-outbox.js';

export const DLQ_HEADERS = {
  code: 'pitwall-error-code', reason: 'pitwall-error', topic: 'pitwall-source-topic', partition: 'pitwall-source-partition', offset: 'pitwall-source-offset',
} as const;

export class DlqSink {
  readonly #outboxes = new Map<string, TopicOutbox>();
  readonly #producer: Producer;

  constructor(producer: Producer) {
    this.#producer = producer;
  }

  write(sourceTopic: string, record: QuarantineRecord): void {
    let out = this.#outboxes.get(sourceTopic);
    // A payload too large for one request is cut to fit (header pitwall-truncated-from); the archive keeps it whole.
    if (!out) { out = new TopicOutbox(this.#producer, `${sourceTopic}.dlq`, { truncateOversized: true }); this.#outboxes.set(sourceTopic, out); }
    out.push({
      key: `${record.origin.partition}:${record.origin.offset}`,
      value: record.bytes ? Buffer.from(record.bytes) : record.raw, // byte for byte, even when not UTF-8
      headers: {
        [DLQ_HEADERS.code]: record.code, [DLQ_HEADERS.reason]: record.reason, [DLQ_HEADERS.topic]: sourceTopic,
        [DLQ_HEADERS.partition]: String(record.origin.partition), [DLQ_HEADERS.offset]: String(record.origin.offset),
      },
    });
  }

  /** Quarantined payloads waiting to be sent, per DLQ topic (for /metrics). */
  buffered(): Map<string, number> { return new Map([...this.#outboxes.values()].map((o) => [o.topic, o.buffered])); }

  async relieve(): Promise<void> { for (const o of this.#outboxes.values()) await o.relieve(); }
  async flush(): Promise<void> { for (const o of this.#outboxes.values()) await o.flush(); }
}
