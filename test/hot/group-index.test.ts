/** The group index keeps one Map for small tables and splits into shards past 65,536 groups. */
import { describe, expect, it } from 'vitest';
import { GroupIndex } from '../../src/hot/group-table.js';

describe('GroupIndex', () => {
  it('finds every id and lists slots in order across the split into shards', () => {
    const index = new GroupIndex();
    const n = 150_000;
    for (let i = 0; i < n; i++) index.set(`s${(i * 7919) % 1_000_003}\u0001`, i);
    index.set('s0\u0001', 0); // an existing id does not count twice
    expect(index.size).toBe(n);
    for (let i = 0; i < n; i += 997) expect(index.get(`s${(i * 7919) % 1_000_003}\u0001`)).toBe(i);
    expect(index.get('missing')).toBeUndefined();
    const entries = index.entries();
    expect(entries).toHaveLength(n);
    entries.forEach(([id, slot], i) => { expect(slot).toBe(i); expect(index.get(id)).toBe(i); });
  });
});
