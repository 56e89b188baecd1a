/** The pool's lag sample (pitwall run --shed with member threads): records summed over every member's partitions, event-time lag from the lowest watermark reported. */
import { describe, expect, it } from 'vitest';
import { poolLagSample, settledWatermarks } from '../../src/cli/run-member-shedding.js';
import type { MemberFigures } from '../../src/hot/member-protocol.js';

const member = (input: number[], watermarkMs: number | null): MemberFigures => ({
  stats: { streams: {}, metrics: {} }, stateSize: {}, streams: [{ name: 'orders', watermarkMs, evicted: 0 }], lag: [], outboxes: [], lastCheckpointAt: 0, checkpointMs: 0,
  counters: { skippedFlushes: 0, fenced: 0, rebalances: 0, foreignFlushes: 0 }, owned: { input: { 'orders-topic': input }, partials: {}, counts: { 'orders-topic': 2 } },
});
const topicOf = (s: string): string | undefined => (s === 'orders' ? 'orders-topic' : undefined);

describe('poolLagSample', () => {
  it('sums records behind and measures from the lowest finite watermark', () => {
    const lag = new Map([['orders:0', 1_500], ['orders:1', 700], ['g.m.partials:0', 3]]);
    expect(poolLagSample(lag, [9_000, 4_000, Number.NEGATIVE_INFINITY], 10_000)).toEqual({ consumerLagRecords: 2_203, eventLagMs: 6_000 });
  });

  it('leaves out a figure nobody reported yet', () => {
    expect(poolLagSample(new Map(), [Number.NEGATIVE_INFINITY], 10_000)).toEqual({ consumerLagRecords: undefined, eventLagMs: undefined });
    // A watermark ahead of the clock is no lag.
    expect(poolLagSample(new Map([['orders:0', 0]]), [12_000], 10_000)).toEqual({ consumerLagRecords: 0, eventLagMs: 0 });
  });

  it('settles the watermark only when every partition is owned and every owner has one', () => {
    expect(settledWatermarks([member([0], 5_000), member([1], 7_000)], topicOf)('orders')).toBe(5_000);
    // A member owning a partition without a watermark yet holds it at −∞ (its events may not be archived).
    expect(settledWatermarks([member([0], null), member([1], 7_000)], topicOf)('orders')).toBe(Number.NEGATIVE_INFINITY);
    // A member without partitions does not count; a partition nobody owns (a rebalance) holds it.
    expect(settledWatermarks([member([0, 1], 7_000), member([], null)], topicOf)('orders')).toBe(7_000);
    expect(settledWatermarks([member([1], 7_000), member([], null)], topicOf)('orders')).toBe(Number.NEGATIVE_INFINITY);
    expect(settledWatermarks([member([0, 1], 7_000), undefined], topicOf)('orders')).toBe(Number.NEGATIVE_INFINITY);
    expect(settledWatermarks([member([0, 1], 7_000)], topicOf)('payments')).toBe(Number.NEGATIVE_INFINITY);
  });
});
