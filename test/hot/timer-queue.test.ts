/** The timer queue against a sorted array: same items, earliest first, whatever the pushes and pops. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimerQueue } from '../../src/hot/timer-queue.js';

describe('TimerQueue', () => {
  it('pops in time order and popDue hands over exactly the due items', () => {
    fc.assert(fc.property(fc.array(fc.oneof(
      fc.record({ push: fc.integer({ min: -50, max: 50 }) }),
      fc.record({ due: fc.integer({ min: -60, max: 60 }) }),
    ), { maxLength: 300 }), (ops) => {
      const q = new TimerQueue<number>();
      let ref: number[] = [];
      let seq = 0;
      for (const op of ops) {
        if ('push' in op) {
          q.push(op.push, seq++);
          ref.push(op.push);
        } else {
          const due = q.popDue(op.due);
          const want = ref.filter((t) => t <= op.due).sort((a, b) => a - b);
          ref = ref.filter((t) => t > op.due);
          expect(due.length).toBe(want.length);
          expect(q.size).toBe(ref.length);
          expect(q.peekTime()).toBe(ref.reduce((m, t) => Math.min(m, t), Number.POSITIVE_INFINITY));
        }
      }
      const times: number[] = [];
      for (let t = q.peekTime(); q.size > 0; t = q.peekTime()) { times.push(t); q.pop(); }
      expect(times).toEqual([...ref].sort((a, b) => a - b));
    }), { numRuns: 300 });
  });
});
