/**
 * The outbox under a broker with size limits and failures (a fake producer that enforces the
 * limit the way a broker's message.max.bytes does): sends are split below the bound, in order;
 * an oversized quarantined payload is cut to fit instead of failing every checkpoint; a failed
 * send keeps exactly the unacknowledged messages, ahead of newer ones.
 */
import type { Message, Producer, ProducerRecord } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { encodeKey } from '../../src/hot/group-folder.js';
import { ResultsTopicSink } from '../../src/sinks/results-topic.js';
import { MAX_REQUEST_BYTES, TopicOutbox, TRUNCATED_HEADER, messageBytes } from '../../src/sinks/topic-outbox.js';
import { plans } from '../serve/serve-harness.js';

/** A producer that rejects any request above `limit` bytes, and fails the next `failures` sends. */
function fakeProducer(limit = 1024 * 1024): { producer: Producer; sent: Message[][]; failNext: (n: number) => void } {
  const sent: Message[][] = [];
  let failures = 0;
  const producer = {
    send: async (r: ProducerRecord) => {
      await Promise.resolve();
      if (failures > 0) { failures--; throw new Error('broker down'); }
      const bytes = r.messages.reduce((n, m) => n + messageBytes(m), 0);
      if (bytes > limit) throw new Error('The request included a message larger than the max message size the server will accept');
      sent.push(r.messages);
      return [];
    },
  } as unknown as Producer;
  return { producer, sent, failNext: (n) => { failures = n; } };
}

const msg = (i: number, bytes = 1000): Message => ({ key: `k${i}`, value: 'x'.repeat(bytes) });

describe('TopicOutbox', () => {
  it('splits a backlog larger than the broker accepts into requests below the bound, in order', async () => {
    const { producer, sent } = fakeProducer();
    const out = new TopicOutbox(producer, 't.dlq');
    for (let i = 0; i < 5000; i++) out.push(msg(i)); // about 5 MB, five times the broker's limit
    await out.flush();
    expect(sent.length).toBeGreaterThan(9);
    for (const part of sent) expect(part.reduce((n, m) => n + messageBytes(m), 0)).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    expect(sent.flat().map((m) => m.key)).toEqual(Array.from({ length: 5000 }, (_, i) => `k${i}`));
    expect(out.sent).toBe(5000);
    expect(out.buffered).toBe(0);
  });

  it('cuts a quarantined payload larger than any request to fit, with its original size in a header', async () => {
    const { producer, sent } = fakeProducer();
    const out = new TopicOutbox(producer, 't.dlq', { truncateOversized: true });
    out.push(msg(1, 3 * 1024 * 1024));
    out.push(msg(2, 10));
    await out.flush();
    const [big, small] = sent.flat();
    expect(big?.headers?.[TRUNCATED_HEADER]).toBe(String(3 * 1024 * 1024));
    expect(messageBytes(big as Message)).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    expect(small?.value).toBe('x'.repeat(10));
    expect(out.truncated).toBe(1);
  });

  it('without truncation, an oversized message fails the flush and stays buffered (never dropped)', async () => {
    const { producer } = fakeProducer(MAX_REQUEST_BYTES);
    const out = new TopicOutbox(producer, 'results');
    out.push(msg(1, MAX_REQUEST_BYTES + 10));
    await expect(out.flush()).rejects.toThrow(/larger than the max message size/);
    expect(out.buffered).toBe(1);
  });

  it('a failed send keeps exactly the unacknowledged messages, ahead of newer ones', async () => {
    const { producer, sent, failNext } = fakeProducer();
    const out = new TopicOutbox(producer, 'results', { maxRequestBytes: 10 * messageBytes(msg(0)) });
    for (let i = 0; i < 30; i++) out.push(msg(i));
    // The first request goes through, the second fails: 10 acknowledged, 20 kept.
    let calls = 0;
    const send = producer.send.bind(producer);
    producer.send = async (r) => { calls++; if (calls === 2) failNext(1); return send(r); };
    await expect(out.flush()).rejects.toThrow('broker down');
    expect(out.sent).toBe(10);
    expect(out.buffered).toBe(20);
    out.push(msg(30));
    await out.flush();
    expect(sent.flat().map((m) => m.key)).toEqual(Array.from({ length: 31 }, (_, i) => `k${i}`));
    expect(out.sent).toBe(31);
  });

  it('a flush behind a failing background send resends in write order', async () => {
    const { producer, sent, failNext } = fakeProducer();
    const out = new TopicOutbox(producer, 'results', { maxBuffered: 5 });
    for (let i = 0; i < 5; i++) out.push(msg(i));
    failNext(1);
    await out.relieve(); // starts a background send of k0..k4, which fails
    for (let i = 5; i < 8; i++) out.push(msg(i));
    // The background failure fails this flush (no checkpoint may pass it), losing nothing …
    await expect(out.flush()).rejects.toThrow('broker down');
    expect(out.buffered).toBe(8);
    // … and the next one sends everything once, in write order.
    await out.flush();
    expect(sent.flat().map((m) => m.key)).toEqual(Array.from({ length: 8 }, (_, i) => `k${i}`));
  });
});

// ../shared/cases/results-topic-key-type-prefix: the key encoding as the README documents it.
describe('ResultsTopicSink record keys', () => {
  it('are metric|window_start|the typed group key, and the value holds the plain key columns', async () => {
    const { producer, sent } = fakeProducer();
    const plan = plans.find((p) => p.name === 'restaurant_orders_5m');
    const funnel = plans.find((p) => p.name === 'order_funnel_1m');
    if (!plan || !funnel) throw new Error('sample metrics missing');
    const sink = new ResultsTopicSink(producer, 'pitwall.results');
    const ws = Date.UTC(2026, 10, 29, 16, 5);
    sink.write(plan, { kind: 'upsert', windowStart: ws, id: encodeKey(['r14']), values: [ws, ws + 300_000, 'r14', 3, 41.5, null], final: true });
    sink.write(funnel, { kind: 'upsert', windowStart: ws, id: encodeKey([]), values: funnel.columns.map((c) => (c.type === 'timestamp' ? ws : 0)), final: false });
    sink.write(plan, { kind: 'upsert', windowStart: ws, id: encodeKey([null]), values: [ws, ws + 300_000, null, 1, 2, null], final: true });
    await sink.flush();
    const keys = sent.flat().map((m) => String(m.key));
    expect(keys).toEqual([
      'restaurant_orders_5m|2026-11-29T16:05:00.000Z|sr14\u0001',
      'order_funnel_1m|2026-11-29T16:05:00.000Z|',
      'restaurant_orders_5m|2026-11-29T16:05:00.000Z|\u0000\u0001',
    ]);
    const value = JSON.parse(String(sent.flat()[0]?.value)) as { metric: string; final: boolean; row: Record<string, unknown> };
    expect(value).toMatchObject({ metric: 'restaurant_orders_5m', final: true, row: { restaurant_id: 'r14' } });
    expect(encodeKey([1, '1', true, null])).toBe('n1\u0001s1\u0001T\u0001\u0000\u0001'); // types never collide
  });
});
