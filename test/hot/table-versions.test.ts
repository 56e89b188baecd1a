/** TableVersions driven by hand: lookups by event time, ties, tombstones, late changes, pruning and the cap. */
import { describe, expect, it } from 'vitest';
import { TableVersions } from '../../src/hot/table-versions.js';

const row = (label: string): Record<string, unknown> => ({ label });

describe('TableVersions', () => {
  it('returns the latest version valid at the event time; a tombstone or nothing is no match', () => {
    const t = new TableVersions(100);
    expect(t.apply({ key: 'a', validFromMs: 10, row: row('a10') })).toBe('applied');
    expect(t.apply({ key: 'a', validFromMs: 30, row: null })).toBe('applied');
    expect(t.apply({ key: 'a', validFromMs: 20, row: row('a20') })).toBe('applied'); // out of order, still on time
    expect([9, 10, 19, 20, 29, 30, 99].map((ms) => t.lookup('a', ms)?.label)).toEqual([undefined, 'a10', 'a10', 'a20', 'a20', undefined, undefined]);
    expect(t.lookup('b', 50)).toBeUndefined();
    expect(t.lookup(1, 50)).toBeUndefined(); // keys are typed: 1 is not '1'
  });

  it('of two changes with one validity time, the later arrival wins (and takes no extra slot)', () => {
    const t = new TableVersions(100);
    t.apply({ key: 'a', validFromMs: 10, row: row('first') });
    t.apply({ key: 'a', validFromMs: 10, row: row('second') });
    expect([t.lookup('a', 10)?.label, t.stats.versions]).toEqual(['second', 1]);
  });

  it('refuses a change valid at or before the latest observed event time (late)', () => {
    const t = new TableVersions(100);
    t.observe(50);
    expect(t.apply({ key: 'a', validFromMs: 50, row: row('x') })).toBe('late');
    expect(t.apply({ key: 'a', validFromMs: 51, row: row('y') })).toBe('applied');
    expect(t.stats).toEqual({ changes: 2, applied: 1, late: 1, overflow: 0, versions: 1 });
  });

  it('prunes to the newest version valid at the horizon, and drops keys left with a tombstone', () => {
    const t = new TableVersions(100);
    for (const ms of [10, 20, 30, 40]) t.apply({ key: 'a', validFromMs: ms, row: row(`a${ms}`) });
    t.apply({ key: 'b', validFromMs: 5, row: row('b5') });
    t.apply({ key: 'b', validFromMs: 15, row: null });
    expect(t.stats.versions).toBe(6);
    t.prune(25);
    expect(t.stats.versions).toBe(3); // a20, a30, a40
    expect([t.lookup('a', 25)?.label, t.lookup('a', 45)?.label, t.lookup('b', 25)]).toEqual(['a20', 'a40', undefined]);
    t.prune(1000);
    expect(t.stats.versions).toBe(1);
  });

  it('caps the versions kept: changes past max_versions are counted as overflow and not applied', () => {
    const t = new TableVersions(2);
    expect(['a', 'b', 'c'].map((k) => t.apply({ key: k, validFromMs: 1, row: row(k) }))).toEqual(['applied', 'applied', 'overflow']);
    expect(t.apply({ key: 'a', validFromMs: 1, row: row('a2') })).toBe('applied'); // a replacement takes no slot
    expect([t.lookup('c', 5), t.stats.overflow]).toEqual([undefined, 1]);
  });
});
