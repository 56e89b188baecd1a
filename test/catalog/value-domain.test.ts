/** The value-domain helpers and the far-future rule, driven by hand. */
import { describe, expect, it } from 'vitest';
import { FutureTimeGuard, nestsDeeperThan, unpairedSurrogate, type ValidEvent } from '../../src/catalog/index.js';
import { firstInvalidUtf8 } from '../../src/util/utf8.js';
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, parseTimestampMs } from '../../src/util/timestamp.js';
import { catalogOf, ORDERS_YAML } from '../support/cold-harness.js';

describe('firstInvalidUtf8', () => {
  const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
  it('finds the first ill-formed sequence (Unicode table 3-7) and accepts well-formed text', () => {
    expect(firstInvalidUtf8(new TextEncoder().encode('aé€😀'))).toBe(-1);
    expect(firstInvalidUtf8(bytes(0x61, 0xff, 0xfe))).toBe(1);
    expect(firstInvalidUtf8(bytes(0x61, 0x62, 0xc0, 0xaf))).toBe(2); // overlong '/'
    expect(firstInvalidUtf8(bytes(0xe0, 0x80, 0x80))).toBe(0); // overlong 3-byte
    expect(firstInvalidUtf8(bytes(0xed, 0xa0, 0x80))).toBe(0); // UTF-8 of a surrogate
    expect(firstInvalidUtf8(bytes(0xf4, 0x90, 0x80, 0x80))).toBe(0); // above U+10FFFF
    expect(firstInvalidUtf8(bytes(0x61, 0xe2, 0x82))).toBe(1); // truncated
  });
});

describe('nestsDeeperThan', () => {
  it('counts object and array nesting, not brackets inside strings', () => {
    expect(nestsDeeperThan(`${'['.repeat(65)}${']'.repeat(65)}`, 64)).toBe(true);
    expect(nestsDeeperThan(`${'['.repeat(64)}${']'.repeat(64)}`, 64)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify({ s: '['.repeat(500), t: 'x\\"[[[' }), 64)).toBe(false);
    expect(nestsDeeperThan(`{"a":${'{"b":'.repeat(70)}1${'}'.repeat(70)}}`, 64)).toBe(true);
  });
});

describe('unpairedSurrogate', () => {
  it('finds a lone high or low surrogate and accepts pairs', () => {
    expect(unpairedSurrogate('ok 😀')).toBeUndefined();
    expect(unpairedSurrogate('a\ud800b')).toBe(1);
    expect(unpairedSurrogate('ab\udc00')).toBe(2);
  });
});

describe('timestamp range', () => {
  it('reads 0001..9999 on every path and nothing outside it', () => {
    expect(parseTimestampMs('0001-01-01T00:00:00Z')).toBe(MIN_TIMESTAMP_MS);
    expect(parseTimestampMs('9999-12-31T23:59:59.999Z')).toBe(MAX_TIMESTAMP_MS);
    expect(parseTimestampMs(MAX_TIMESTAMP_MS + 1)).toBeUndefined();
    expect(parseTimestampMs(MIN_TIMESTAMP_MS - 1)).toBeUndefined();
    expect(parseTimestampMs(8_640_000_000_000_000)).toBeUndefined();
    expect(parseTimestampMs('0000-06-01T00:00:00Z')).toBeUndefined();
    expect(parseTimestampMs('9999-12-31T23:59:59-01:00')).toBeUndefined(); // past the range once the offset applies
    // Years below 100 are those years, not 1900 + y (Date.UTC's legacy mapping).
    expect(new Date(parseTimestampMs('0050-06-01T00:00:00Z') as number).toISOString()).toBe('0050-06-01T00:00:00.000Z');
  });
});

describe('FutureTimeGuard', () => {
  const stream = catalogOf(`${ORDERS_YAML}max_future: 1h\n`).streams.get('orders');
  if (!stream) throw new Error('no stream');
  const ev = (t: number): ValidEvent => ({ ok: true, eventId: String(t), eventTimeMs: t, payload: {} });

  it('against processing time: more than max_future ahead of now is refused', () => {
    const g = new FutureTimeGuard(stream, 'processing-time');
    expect(g.check(ev(1_000 + 3_600_000), 0, 1_000)).toBeUndefined();
    const r = g.check(ev(1_001 + 3_600_000), 0, 1_000);
    expect(r).toMatchObject({ ok: false, code: 'PW_PAYLOAD_BAD_TIMESTAMP' });
    expect(r?.reason).toContain('ahead of processing time');
  });

  it('against event time: the latest valid time on the same partition, the first event free', () => {
    const g = new FutureTimeGuard(stream, 'event-time');
    expect(g.check(ev(0), 0, 0)).toBeUndefined();
    expect(g.check(ev(10 * 3_600_000), 0, 0)?.code).toBe('PW_PAYLOAD_BAD_TIMESTAMP');
    expect(g.check(ev(10 * 3_600_000), 1, 0)).toBeUndefined(); // another partition, its first event
    expect(g.check(ev(3_600_000), 0, 0)).toBeUndefined(); // exactly max_future ahead passes
    expect(g.check(ev(2 * 3_600_000), 0, 0)).toBeUndefined(); // measured from the last accepted one
  });
});
