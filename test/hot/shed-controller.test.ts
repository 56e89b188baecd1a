/** The shedding controller, driven by a fake clock: thresholds, order batch → standard, never critical, hysteresis, dwell. */
import { describe, expect, it } from 'vitest';
import { ShedController } from '../../src/hot/shed-controller.js';

const thresholds = { shedLagMs: 1_000, resumeLagMs: 200, shedRecords: 500, resumeRecords: 50, dwellMs: 10_000 };
const shedTiers = (c: ShedController): string[] => (['critical', 'standard', 'batch'] as const).filter((t) => c.isShed(t));

describe('ShedController', () => {
  it('sheds batch first, then standard after the dwell, never critical', () => {
    const c = new ShedController(thresholds);
    expect(c.observe({ eventLagMs: 900, consumerLagRecords: 400 }, 0)).toBe(0);
    expect(c.observe({ eventLagMs: 1_001 }, 1_000)).toBe(1);
    expect(shedTiers(c)).toEqual(['batch']);
    // Still over, but within the dwell: holds.
    expect(c.observe({ eventLagMs: 50_000 }, 10_999)).toBe(1);
    expect(c.observe({ eventLagMs: 50_000 }, 11_000)).toBe(2);
    expect(shedTiers(c)).toEqual(['standard', 'batch']);
    // Never further: critical always runs.
    expect(c.observe({ eventLagMs: 1e9, consumerLagRecords: 1e9 }, 1e6)).toBe(2);
    expect(c.isShed('critical')).toBe(false);
  });

  it('takes either lag: records behind alone shed', () => {
    const c = new ShedController(thresholds);
    expect(c.observe({ consumerLagRecords: 501 }, 0)).toBe(1);
    expect(new ShedController(thresholds).observe({ consumerLagRecords: 500, eventLagMs: 1_000 }, 0)).toBe(0);
  });

  it('resumes one step at a time only under both resume thresholds (hysteresis) and after the dwell', () => {
    const c = new ShedController(thresholds);
    c.observe({ eventLagMs: 5_000 }, 0);
    c.observe({ eventLagMs: 5_000 }, 10_000);
    expect(c.level).toBe(2);
    // Below the shed threshold but above the resume one: holds, however long.
    expect(c.observe({ eventLagMs: 500 }, 100_000)).toBe(2);
    // Lag in ms low but records still above their resume threshold: holds.
    expect(c.observe({ eventLagMs: 100, consumerLagRecords: 60 }, 100_000)).toBe(2);
    expect(c.observe({ eventLagMs: 100, consumerLagRecords: 10 }, 100_000)).toBe(1);
    expect(shedTiers(c)).toEqual(['batch']);
    expect(c.observe({ eventLagMs: 100 }, 105_000)).toBe(1);
    expect(c.observe({ eventLagMs: 100 }, 110_000)).toBe(0);
    expect(shedTiers(c)).toEqual([]);
  });

  it('does not flap when the lag oscillates around the shed threshold', () => {
    const c = new ShedController(thresholds);
    const levels: number[] = [];
    for (let t = 0; t < 30_000; t += 500) levels.push(c.observe({ eventLagMs: (t / 500) % 2 === 0 ? 1_100 : 900 }, t));
    // One step up at 0, a second after the dwell, and never back down (900 ms is above the resume threshold).
    expect(levels.filter((l, i) => i > 0 && l !== levels[i - 1]).length).toBe(1);
    expect(levels.at(-1)).toBe(2);
  });

  it('with no figures at all it never sheds, and refuses resume thresholds above shed ones', () => {
    expect(new ShedController(thresholds).observe({}, 0)).toBe(0);
    expect(() => new ShedController({ ...thresholds, resumeLagMs: 2_000 })).toThrow(RangeError);
  });
});

describe('ShedController.restoreLevel', () => {
  it('starts at a stored level and dwells from the restart', () => {
    const c = new ShedController(thresholds);
    c.restoreLevel(2, 50_000);
    expect(c.observe({ eventLagMs: 0 }, 55_000)).toBe(2);
    expect(c.observe({ eventLagMs: 0 }, 60_000)).toBe(1);
  });
});
