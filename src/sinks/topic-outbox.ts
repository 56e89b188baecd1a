/**
 * A bounded outbox of messages for one Kafka topic. Writes are buffered; past the bound,
 * `relieve()` sends the buffer in the background (at most one send in flight, so the caller
 * waits when the broker falls behind: backpressure). `flush()` waits until everything written
 * so far is acknowledged (acks = all); the runner calls it before each checkpoint, so a
 * checkpoint never covers an unacknowledged message. A failed send keeps its messages for the
 * next flush (so a broker outage delays results, never drops them) and fails that flush.
 */
import { CompressionTypes, type Message, type Producer } from 'kafkajs';

export class TopicOutbox {
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

  /** Buffers one message. */
  push(message: Message): void {
    this.#outbox.push(message);
  }

  get buffered(): number { return this.#outbox.length; }

  /** Past the bound: waits for the previous send, then starts sending the buffer. */
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
    try {
      await this.#inflight;
    } catch (err) {
      // Not acknowledged (e.g. the broker is down): keep the messages, in order, for the next
      // flush, and let the next send start afresh. The caller does not checkpoint this time.
      this.#outbox = [...batch, ...this.#outbox];
      this.#inflight = Promise.resolve();
      throw err;
    }
    this.sent += batch.length;
  }
}
