/** Shed intervals: the affected-window rule, closing, persistence form, the bound, and window-slot counts. */
import { describe, expect, it } from 'vitest';
import { MAX_INTERVALS_PER_METRIC, ShedLog } from '../../src/hot/shed-log.js';
import { windowSlots } from '../../src/hot/window-slots.js';

describe('ShedLog', () => {
  it('affects windows open when shedding began, opened while it lasted, and reached by a skipped event', () => {
    const log = new ShedLog();
    log.begin('m', 90_000, 0);
    expect(log.isOpen('m')).toBe(true);
    // Open: every window ending after fromMs.
    expect(log.affects('m', 60_000, 120_000)).toBe(true);
    expect(log.affects('m', 30_000, 90_000)).toBe(false);
    expect(log.affects('m', 10_000_000, 10_060_000)).toBe(true);
    log.end('m', { minMs: 95_000, maxMs: 239_999 });
    expect(log.intervals('m')[0]).toMatchObject({ fromMs: 90_000, toMs: 240_000 });
    expect(log.affects('m', 180_000, 240_000)).toBe(true);
    expect(log.affects('m', 240_000, 300_000)).toBe(false);
    expect(log.pending()).toHaveLength(1);
  });

  it('an interval begun before any watermark starts at the earliest skipped event or held-back window', () => {
    const log = new ShedLog();
    log.begin('m', Number.NEGATIVE_INFINITY, 0);
    log.end('m', { minMs: 50_000, maxMs: 70_000 }, 40_000);
    expect(log.intervals('m')[0]).toMatchObject({ fromMs: 39_999, toMs: 70_001 });
  });

  it('survives a JSON round trip, an open interval included', () => {
    const log = new ShedLog();
    log.begin('a', 0, 0);
    log.end('a', { minMs: 1, maxMs: 5 });
    log.begin('b', 10, 1_000);
    const copy = new ShedLog();
    copy.load(JSON.parse(JSON.stringify(log.toJSON())) as ReturnType<ShedLog['toJSON']>);
    expect(copy.toJSON()).toEqual(log.toJSON());
    expect(copy.isOpen('b')).toBe(true);
    expect(copy.openSince('b')).toBe(new Date(1_000).toISOString());
  });

  it('is bounded: forgets backfilled intervals first, else merges the two oldest into one covering both', () => {
    const log = new ShedLog();
    for (let k = 0; k < MAX_INTERVALS_PER_METRIC; k++) { log.begin('m', k * 10, k); log.end('m', { minMs: k * 10, maxMs: k * 10 + 4 }); }
    const first = log.intervals('m')[0];
    log.markBackfilled([{ id: first?.id ?? '', metric: 'm', windows: 1 }], 0);
    log.begin('m', 1e9, 0);
    expect(log.intervals('m')).toHaveLength(MAX_INTERVALS_PER_METRIC);
    expect(log.intervals('m')[0]?.fromMs).toBe(10);
    log.end('m', { minMs: 1e9, maxMs: 1e9 });
    log.begin('m', 2e9, 0);
    expect(log.intervals('m')).toHaveLength(MAX_INTERVALS_PER_METRIC);
    expect(log.intervals('m')[0]).toMatchObject({ fromMs: 10, toMs: 25 });
  });
});

describe('windowSlots', () => {
  it('counts windows with end > from and start < to', () => {
    expect(windowSlots({ type: 'tumble', sizeMs: 60_000 }, 60_000, 120_000)).toBe(1);
    expect(windowSlots({ type: 'tumble', sizeMs: 60_000 }, 59_999, 120_001)).toBe(3);
    expect(windowSlots({ type: 'tumble', sizeMs: 60_000, offsetMs: 30_000 }, 60_000, 120_000)).toBe(2);
    // HOP 2 min / 30 s: windows ending after 60 s and starting before 90 s start at -30 s, 0, 30 s, 60 s.
    expect(windowSlots({ type: 'hop', sizeMs: 120_000, slideMs: 30_000 }, 60_000, 90_000)).toBe(4);
    // CUMULATE 1 h by 15 min: from 00:20 to 01:10 covers windows ending 00:30, 00:45, 01:00 and the 4 of the next period.
    expect(windowSlots({ type: 'cumulate', sizeMs: 3_600_000, stepMs: 900_000 }, 1_200_000, 4_200_000)).toBe(7);
    expect(windowSlots({ type: 'session', gapMs: 1_000 }, 0, 1)).toBeUndefined();
  });
});

describe('an interval open across a restart', () => {
  it('closes at the earliest of its old start, the earliest event skipped and the earliest row held back', () => {
    const log = new ShedLog();
    log.begin('m', 90_000, 0);
    const open = log.intervals('m')[0];
    if (!open) throw new Error('no interval');
    open.restartedFromMs = open.fromMs;
    open.fromMs = Number.MIN_SAFE_INTEGER;
    // While open after the restart, every window is held back.
    expect(log.affects('m', 0, 60_000)).toBe(true);
    log.end('m', { minMs: 70_000, maxMs: 200_000 }, 150_000);
    expect(log.intervals('m')[0]).toMatchObject({ fromMs: 70_000, toMs: 200_001 });
    expect(log.intervals('m')[0]?.restartedFromMs).toBeUndefined();
  });
});
