/**
 * A bounded outbox of messages for one Kafka topic. Writes are buffered; past the bound,
 * `relieve()` sends the buffer in the background (at most one send in flight, so the caller
 * waits when the broker falls behind: backpressure). `flush()` waits until everything written
 * so far is acknowledged (acks = all); the runner calls it before each checkpoint, so a
 * checkpoint never covers an unacknowledged message. A failed send keeps its unacknowledged
 * messages for the next flush (so a broker outage delays results, never drops them) and fails
 * that flush.
 *
 * Sends stay below the broker's size limits: the buffer goes out in requests of at most
 * `maxRequestBytes` (default 512 KiB; a broker's `message.max.bytes` defaults to 1 MiB and
 * bounds one partition's record batch), one after another, in order. A single message larger
 * than that could never be accepted and would fail every flush (and so every checkpoint):
 * with `truncateOversized` (the quarantine lane) its value is cut to fit and the header
 * `pitwall-truncated-from` says how many bytes it had (the archive keeps the whole payload);
 * otherwise it fails the flush with a clear error.
 */
import type { Message, Producer } from 'kafkajs';
import { CompressionTypes } from '../sources/kafkajs.js';

/** Default bound of one produce request (bytes), half the broker's default `message.max.bytes`. */
export const MAX_REQUEST_BYTES = 512 * 1024;

/** Header on a message whose value was cut to fit a request: the original size in bytes. */
export const TRUNCATED_HEADER = 'pitwall-truncated-from';

/** Record overhead beyond key, value and headers (varints, attributes, offsets), bytes; generous. */
const RECORD_OVERHEAD = 64;

function byteLength(v: Message['value'] | Message['key']): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

/** Estimated size of one message in a record batch (bytes). */
export function messageBytes(m: Message): number {
  let n = RECORD_OVERHEAD + byteLength(m.key) + byteLength(m.value);
  for (const [k, v] of Object.entries(m.headers ?? {})) n += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : Buffer.isBuffer(v) ? v.length : 0);
  return n;
}

/**
 * Splits `messages` into consecutive requests of at most `maxBytes` each (estimated with
 * {@link messageBytes}; a lone message larger than that goes alone), keeping their order.
 */
export function* splitRequests(messages: readonly Message[], maxBytes = MAX_REQUEST_BYTES): Generator<Message[]> {
  let part: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const n = messageBytes(m);
    if (part.length > 0 && bytes + n > maxBytes) {
      yield part;
      part = [];
      bytes = 0;
    }
    part.push(m);
    bytes += n;
  }
  if (part.length > 0) yield part;
}

/** Sends `messages` to `topic` in order, in requests below the broker's size limit (acks = all). */
export async function sendInRequests(producer: Producer, topic: string, messages: readonly Message[], maxBytes = MAX_REQUEST_BYTES): Promise<void> {
  for (const part of splitRequests(messages, maxBytes)) await producer.send({ topic, acks: -1, messages: part });
}

export interface TopicOutboxOptions {
  /** Messages buffered before `relieve()` starts a send. Default 10,000. */
  readonly maxBuffered?: number;
  /** Bytes per produce request. Default {@link MAX_REQUEST_BYTES}. */
  readonly maxRequestBytes?: number;
  /** Cut oversized message values to fit (the quarantine lane) instead of failing the flush. */
  readonly truncateOversized?: boolean;
}

export class TopicOutbox {
  readonly topic: string;
  readonly #producer: Producer;
  readonly #maxBuffered: number;
  readonly #maxRequestBytes: number;
  readonly #truncate: boolean;
  #outbox: Message[] = [];
  #inflight: Promise<unknown> = Promise.resolve();
  /** Messages acknowledged by the broker. */
  sent = 0;
  /** Messages whose value was cut to fit a request. */
  truncated = 0;

  constructor(producer: Producer, topic: string, options: TopicOutboxOptions | number = {}) {
    const o = typeof options === 'number' ? { maxBuffered: options } : options;
    this.#producer = producer;
    this.topic = topic;
    this.#maxBuffered = o.maxBuffered ?? 10_000;
    this.#maxRequestBytes = o.maxRequestBytes ?? MAX_REQUEST_BYTES;
    this.#truncate = o.truncateOversized ?? false;
  }

  /** Buffers one message (an oversized one is cut to fit first when the outbox truncates). */
  push(message: Message): void {
    this.#outbox.push(this.#truncate ? this.#fit(message) : message);
  }

  /** Messages buffered and not yet handed to a send (what /metrics shows as the outbox). */
  get buffered(): number { return this.#outbox.length; }

  #fit(m: Message): Message {
    const size = messageBytes(m);
    if (size <= this.#maxRequestBytes) return m;
    const value = m.value === null || m.value === undefined ? Buffer.alloc(0) : Buffer.isBuffer(m.value) ? m.value : Buffer.from(m.value);
    const room = Math.max(0, this.#maxRequestBytes - (size - value.length) - 64);
    this.truncated++;
    return { ...m, value: value.subarray(0, room), headers: { ...m.headers, [TRUNCATED_HEADER]: String(value.length) } };
  }

  /** Past the bound: waits for the previous send, then starts sending the buffer. */
  async relieve(): Promise<void> {
    if (this.#outbox.length < this.#maxBuffered) return;
    await this.#inflight;
    void this.flush().catch(() => undefined); // a failed send fails the next flush(), before any checkpoint
  }

  /** Sends everything buffered, in requests below the size bound, and waits for the broker's acknowledgement. */
  async flush(): Promise<void> {
    // One send at a time, in order: a send that failed has put its messages back in front first.
    await this.#inflight.catch(() => undefined);
    const batch = this.#outbox;
    this.#outbox = [];
    const previous = this.#inflight; // a flush that started while this one waited
    let acked = 0;
    const send = (async () => {
      await previous;
      for (const part of splitRequests(batch, this.#maxRequestBytes)) {
        await this.#producer.send({ topic: this.topic, acks: -1, compression: CompressionTypes.None, messages: part });
        acked += part.length;
      }
    })();
    this.#inflight = send;
    try {
      await send;
    } catch (err) {
      // Not acknowledged (e.g. the broker is down): keep what was not acknowledged, in order,
      // ahead of anything written since, for the next flush. The caller does not checkpoint.
      this.#outbox = [...batch.slice(acked), ...this.#outbox];
      if (this.#inflight === send) this.#inflight = Promise.resolve();
      throw err;
    } finally {
      this.sent += acked;
    }
  }
}
