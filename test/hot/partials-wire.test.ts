/**
 * The partials wire format (src/hot/member-runner.ts): a flush's message to one partials
 * partition is split into messages of at most CHUNK_CHARS characters (the broker's 1 MB record
 * batch limit), numbered consecutively, the marks only on the last, and decodes back to the same
 * partials and events.
 */
import { describe, expect, it } from 'vitest';
import { CHUNK_CHARS, decode, encodeChunks } from '../../src/hot/member-runner.js';
import type { PartialsMessage } from '../../src/hot/two-phase.js';

function message(groups: number, events: number): PartialsMessage {
  return {
    metric: 'm', partition: 2,
    batch: {
      windows: [0, 60_000].map((ws) => ({ ws, groups: Array.from({ length: groups }, (_, i) => ({ id: `k${i}`, keys: [`restaurant-${i}`, i % 7 === 0 ? null : i], accs: [i, [i * 1.5, 0, 3], { v: `x${i}` }] })) })),
      events: Array.from({ length: events }, (_, i) => ({ id: `c${i}`, event: { ok: true as const, eventId: `e${i}`, eventTimeMs: 1_000 + i, payload: { data: { customerId: `c${i}`, note: 'é😀'.repeat(i % 5) } } }, origin: { partition: i % 6, offset: i }, watermarkMs: i % 3 === 0 ? Number.NEGATIVE_INFINITY : 900 + i,
        // Late-lane evidence of the event's partition at arrival (absent, −∞, idle or not) survives the wire.
        evidence: i % 4 === 0 ? undefined : { partitionWatermarkMs: i % 2 === 1 ? Number.NEGATIVE_INFINITY : 800 + i, partitionIdle: i % 3 === 1 } })),
    },
    marks: [[0, 5_000], [3, Number.NEGATIVE_INFINITY]],
  };
}

describe('partials wire messages', () => {
  it('split a large flush under the size bound and decode back to the same partials', () => {
    const msg = message(20_000, 5_000);
    const texts = encodeChunks(msg, 'member-a', 7 << 20, 'host:1:2');
    expect(texts.length).toBeGreaterThan(4);
    const decoded = texts.map((t) => decode('m', 2, t));
    texts.forEach((t) => expect(t.length).toBeLessThanOrEqual(CHUNK_CHARS + 1024));
    expect(decoded.map((d) => d.seq)).toEqual(texts.map((_, i) => (7 << 20) + i));
    expect(decoded.every((d) => d.source === 'member-a' && d.store === 'host:1:2')).toBe(true);
    // Marks only on the last message, after every partial.
    expect(decoded.slice(0, -1).every((d) => d.msg.marks.length === 0)).toBe(true);
    expect(decoded.at(-1)?.msg.marks).toEqual(msg.marks);
    const groups = decoded.flatMap((d) => d.msg.batch.windows.flatMap((w) => w.groups.map((g) => [w.ws, g])));
    expect(groups).toEqual(msg.batch.windows.flatMap((w) => w.groups.map((g) => [w.ws, g])));
    expect(decoded.flatMap((d) => d.msg.batch.events)).toEqual(msg.batch.events);
  });

  it('sends a small flush as one message, and an empty one with its marks', () => {
    expect(encodeChunks(message(3, 2), 's', 0)).toHaveLength(1);
    const [only] = encodeChunks({ metric: 'm', partition: 0, batch: { windows: [], events: [] }, marks: [[1, 42]] }, 's', 5).map((t) => decode('m', 0, t));
    expect(only?.msg.marks).toEqual([[1, 42]]);
    expect(only?.seq).toBe(5);
  });

  it('carries when the flush\'s first input batch arrived, on every chunk, and nothing when unknown', () => {
    const msg = { ...message(20_000, 10), sinceMs: 1_764_470_000_123 };
    const decoded = encodeChunks(msg, 's', 0).map((t) => decode('m', 0, t));
    expect(decoded.length).toBeGreaterThan(1);
    expect(decoded.every((d) => d.msg.sinceMs === msg.sinceMs)).toBe(true);
    const [plain] = encodeChunks(message(3, 2), 's', 0).map((t) => decode('m', 0, t));
    expect(plain?.msg.sinceMs).toBeUndefined();
  });
});
