/** The pool's lag sample (pitwall run --shed with member threads): records summed over every member's partitions, event-time lag from the lowest watermark reported. */
import { describe, expect, it } from 'vitest';
import { poolLagSample } from '../../src/cli/run-member-shedding.js';

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
});
