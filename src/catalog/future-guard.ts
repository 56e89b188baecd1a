/**
 * The far-future rule: an event time implausibly far ahead is quarantined
 * (PW_PAYLOAD_BAD_TIMESTAMP) instead of advancing the watermark, where one bad clock would send
 * every later valid event to the late lane. "Ahead" is measured against a reference:
 *
 * - `processing-time` (`pitwall run`, the demo): the wall clock when the record is processed;
 * - `event-time` (replay and recompute over files, where processing time means nothing): the
 *   latest valid event time seen before it on the same partition (the first event of a
 *   partition has no reference and passes). Both paths apply it in arrival order, so hot and
 *   cold quarantine the same events.
 *
 * The bound is the stream's `max_future` (catalog, default 1 day). Memory: one number per
 * partition seen.
 */
import { formatDuration } from '../util/duration.js';
import { formatTimestamp } from '../util/timestamp.js';
import type { RejectedPayload, ValidEvent } from './payload-validator.js';
import type { StreamDef } from './types.js';

export type FutureReference = 'processing-time' | 'event-time';

export class FutureTimeGuard {
  readonly #stream: StreamDef;
  readonly #reference: FutureReference;
  /** Latest valid event time per partition (`event-time` reference only). */
  readonly #latest = new Map<number, number>();

  constructor(stream: StreamDef, reference: FutureReference) {
    this.#stream = stream;
    this.#reference = reference;
  }

  /** Undefined when `event` may pass; otherwise the rejection. Records passing events (event-time reference). */
  check(event: ValidEvent, partition: number, nowMs: number): RejectedPayload | undefined {
    const t = event.eventTimeMs;
    const ref = this.#reference === 'processing-time' ? nowMs : this.#latest.get(partition);
    if (ref !== undefined && t - ref > this.#stream.maxFutureMs) {
      const what = this.#reference === 'processing-time' ? 'processing time' : 'the latest valid event time before it on this partition';
      return {
        ok: false, code: 'PW_PAYLOAD_BAD_TIMESTAMP',
        reason: `event time ${formatTimestamp(t)} is ${formatDuration(t - ref)} ahead of ${what} (${formatTimestamp(ref)}), more than max_future ${formatDuration(this.#stream.maxFutureMs)} (${this.#stream.file}); fix the producer's clock or units, or raise max_future`,
      };
    }
    if (this.#reference === 'event-time' && !(t <= (ref ?? -Infinity))) this.#latest.set(partition, t);
    return undefined;
  }
}
