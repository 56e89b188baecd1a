import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, RestartBackoff } from '../../src/connect/index.js';

describe('RestartBackoff', () => {
  it('doubles from 0.5 s to a 30 s cap', () => {
    const b = new RestartBackoff();
    const delays = Array.from({ length: 10 }, () => b.next(100));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
  });

  it('starts over after a healthy run of at least resetAfterMs', () => {
    const b = new RestartBackoff();
    b.next(10); b.next(10); b.next(10);
    expect(b.next(DEFAULT_BACKOFF.resetAfterMs - 1)).toBe(4000);
    expect(b.next(DEFAULT_BACKOFF.resetAfterMs)).toBe(500);
    expect(b.next(5)).toBe(1000);
  });

  it('takes a custom policy', () => {
    const b = new RestartBackoff({ initialMs: 10, maxMs: 25, resetAfterMs: 100 });
    expect([b.next(0), b.next(0), b.next(0), b.next(100)]).toEqual([10, 20, 25, 10]);
  });
});
