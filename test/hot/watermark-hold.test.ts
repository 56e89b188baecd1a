/**
 * ../shared/cases/run-restart-false-late, at the watermark: a held partition (not owned by this
 * process, or with unread records) never goes idle, so the watermark cannot pass its events.
 */
import { describe, expect, it } from 'vitest';
import { WatermarkTracker } from '../../src/hot/watermark.js';

describe('WatermarkTracker.hold', () => {
  it('a held partition never goes idle; released, it gets a fresh idle_timeout', () => {
    const w = new WatermarkTracker(0, 5_000);
    w.assign(0, 0);
    w.assign(1, 0);
    w.observe(0, 100_000, 0);
    w.observe(1, 90_000, 0);
    w.hold(1, true, 0); // e.g. revoked to a member that then died
    w.observe(0, 200_000, 10_000);
    expect(w.tick(60_000)).toBe(90_000); // silent for a minute, still holding
    w.hold(1, false, 60_000); // owned again and caught up
    w.observe(0, 200_000, 62_000); // partition 0 keeps sending
    expect(w.tick(64_000)).toBe(90_000); // not idle yet: the timeout starts at the release
    expect(w.tick(65_000)).toBe(200_000);
  });

  it('holding an idle partition stops the watermark where it is (never back)', () => {
    const w = new WatermarkTracker(0, 5_000);
    w.assign(0, 0);
    w.assign(1, 0);
    w.observe(0, 100_000, 0);
    w.observe(1, 50_000, 0);
    w.observe(0, 120_000, 4_000);
    expect(w.tick(5_000)).toBe(120_000); // partition 1 idle
    w.hold(1, true, 6_000); // it turns out to have a backlog
    w.observe(0, 300_000, 7_000);
    expect(w.watermarkMs).toBe(120_000); // held at partition 1's place, not advanced by partition 0
    w.observe(1, 130_000, 8_000); // its backlog comes in, on time
    expect(w.watermarkMs).toBe(130_000);
  });

  it('a partition assigned but never seen is held from the start when not owned', () => {
    const w = new WatermarkTracker(0, 5_000);
    w.hold(2, true, 0); // from the topic's metadata: partition 2 exists, another member has it
    w.observe(0, 100_000, 0);
    w.observe(1, 100_000, 0);
    expect(w.tick(60_000)).toBe(Number.NEGATIVE_INFINITY);
  });
});
