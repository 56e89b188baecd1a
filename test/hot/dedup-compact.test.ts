/**
 * The compact DedupFilter (hashes and seqs in typed arrays, full ids in memory only until a
 * store holds them) stays exact and behaves like the Set-based filter it replaced: checked
 * against that filter as a reference model, under forced hash collisions, across incremental
 * capture / durable / restoreFrom, and over millions of table insertions and deletions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DedupFilter, type DedupCapture, type DedupLookup, type DedupRestoreState } from '../../src/hot/dedup.js';
import { hash64, type Hash64, type Hash64Fn } from '../../src/util/hash64.js';

/** The previous implementation (a Set plus arrival-ordered arrays): the reference. */
class RefDedup {
  readonly parts = new Map<number, { set: Set<string>; ids: string[]; times: number[]; head: number }>();
  evicted = 0;
  constructor(readonly ttlMs: number, readonly maxIds: number) {}

  isDuplicate(p: number, id: string, t: number): boolean {
    let s = this.parts.get(p);
    if (!s) { s = { set: new Set(), ids: [], times: [], head: 0 }; this.parts.set(p, s); }
    if (s.set.has(id)) return true;
    s.set.add(id);
    s.ids.push(id);
    s.times.push(t);
    if (s.set.size > this.maxIds && s.head < s.ids.length) { s.set.delete(s.ids[s.head++] as string); this.evicted++; }
    return false;
  }

  expire(wm: number): void {
    for (const s of this.parts.values()) {
      while (s.head < s.ids.length && (s.times[s.head] as number) + this.ttlMs <= wm) s.set.delete(s.ids[s.head++] as string);
    }
  }

  /** Remembered ids of a partition. */
  live(p: number): string[] {
    const s = this.parts.get(p);
    return s ? s.ids.slice(s.head) : [];
  }

  size(): number { let n = 0; for (const s of this.parts.values()) n += s.set.size; return n; }

  snapshot(): { partitions: [number, [string, number][]][]; evicted: number } {
    return { partitions: [...this.parts].map(([p, s]) => [p, s.ids.slice(s.head).map((id, i): [string, number] => [id, s.times[s.head + i] as number])]), evicted: this.evicted };
  }

  clone(): RefDedup {
    const c = new RefDedup(this.ttlMs, this.maxIds);
    for (const [p, s] of this.parts) c.parts.set(p, { set: new Set(s.set), ids: [...s.ids], times: [...s.times], head: s.head });
    c.evicted = this.evicted;
    return c;
  }
}

/** A store for incremental checkpoints: per partition, seq → [id, t] for seqs in [head, tail). */
class MapStore {
  readonly parts = new Map<number, { head: number; tail: number; ids: Map<number, [string, number]> }>();
  evicted = 0;
  collisions = 0;
  readonly lookup: DedupLookup = (p, seq) => this.parts.get(p)?.ids.get(seq)?.[0];

  apply(cap: DedupCapture): void {
    for (const c of cap.partitions) {
      let s = this.parts.get(c.partition);
      if (!s) { s = { head: 0, tail: 0, ids: new Map() }; this.parts.set(c.partition, s); }
      expect(c.ids.length).toBe(c.tail - c.firstNew);
      expect(c.times.length).toBe(c.ids.length);
      expect(c.firstNew).toBeGreaterThanOrEqual(c.head);
      for (const seq of [...s.ids.keys()]) if (seq < c.head || seq >= c.firstNew) s.ids.delete(seq);
      c.ids.forEach((id, i) => s.ids.set(c.firstNew + i, [id, c.times[i] as number]));
      s.head = c.head;
      s.tail = c.tail;
      expect(s.ids.size).toBe(c.tail - c.head); // the store holds exactly the remembered seqs
    }
    this.evicted = cap.evicted;
    this.collisions = cap.collisions;
  }

  state(): DedupRestoreState {
    return {
      evicted: this.evicted, collisions: this.collisions,
      partitions: [...this.parts].map(([partition, s]) => ({
        partition, head: s.head, tail: s.tail,
        entries: [...s.ids].sort((a, b) => a[0] - b[0]).map(([seq, [id, t]]) => [seq, id, t] as const),
      })),
    };
  }
}

/** Capture into the store, then mark everything captured durable. */
function checkpoint(d: DedupFilter, store: MapStore): void {
  const cap = d.capture();
  store.apply(cap);
  for (const c of cap.partitions) d.durable(c.partition, c.tail);
}

const hashes: Record<string, Hash64Fn> = {
  default: hash64,
  constant: (_s, out) => { out.hi = 7; out.lo = 7; },
  byLength: (s, out) => { out.hi = s.length; out.lo = 0; },
  byFirstChar: (s, out) => { out.hi = s.charCodeAt(0) * 0x10001; out.lo = -1; },
};

const hashOf = (fn: Hash64Fn, s: string): string => { const h: Hash64 = { hi: 0, lo: 0 }; fn(s, h); return `${h.hi | 0},${h.lo | 0}`; };

describe('hash64', () => {
  it('is deterministic, signed 32-bit, and tells near strings apart', () => {
    const a: Hash64 = { hi: 0, lo: 0 };
    const b: Hash64 = { hi: 0, lo: 0 };
    hash64('order-1', a);
    hash64('order-1', b);
    expect(a).toEqual(b);
    for (const s of ['', 'a', 'b', 'ab', 'ba', 'order-1', 'order-2', '\u{1f600}', 'é']) {
      hash64(s, a);
      expect(a.hi | 0).toBe(a.hi);
      expect(a.lo | 0).toBe(a.lo);
    }
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(hashOf(hash64, `id-${i}`));
    expect(seen.size).toBe(100_000);
  });
});

describe('DedupFilter exactness under forced hash collisions', () => {
  it('every id hashing alike: duplicates exact, collisions counted', () => {
    const d = new DedupFilter(1_000, 1_000, undefined, { hash: hashes.constant });
    for (let i = 0; i < 200; i++) expect(d.isDuplicate(0, `a${i}`, i)).toBe(false);
    expect(d.collisions).toBe(199); // every new id after the first met another with its hash
    for (let i = 0; i < 200; i++) expect(d.isDuplicate(0, `a${i}`, i)).toBe(true);
    expect(d.collisions).toBe(199); // duplicates are not collisions
    expect(d.isDuplicate(1, 'a0', 0)).toBe(false); // partitions are separate
    d.expire(1_100); // forgets a0..a100 (t + 1000 <= 1100)
    for (let i = 0; i < 200; i++) expect(d.isDuplicate(0, `a${i}`, 5_000)).toBe(i <= 100 ? false : true);
    expect(d.size()).toBe(200); // partition 1's a0 (t 0) expired too
  });

  it('stays exact when the colliding ids are durable (compared through the store)', () => {
    const store = new MapStore();
    const d = new DedupFilter(1_000, 1_000, store.lookup, { hash: hashes.constant });
    for (let i = 0; i < 50; i++) d.isDuplicate(0, `k${i}`, 0);
    checkpoint(d, store);
    expect(d.recentSize()).toBe(0);
    for (let i = 0; i < 50; i++) expect(d.isDuplicate(0, `k${i}`, 0)).toBe(true);
    expect(d.isDuplicate(0, 'k50', 0)).toBe(false);
    expect(d.collisions).toBe(50);
  });

  it('a store missing a durable id is an error, never a guess', () => {
    const store = new MapStore();
    const d = new DedupFilter(1_000, 1_000, store.lookup, { hash: hashes.constant });
    d.isDuplicate(0, 'x', 0);
    checkpoint(d, store);
    store.parts.get(0)?.ids.clear();
    expect(() => d.isDuplicate(0, 'y', 0)).toThrow(/no id for partition 0 seq 0/);
  });
});

type Op =
  | { readonly k: 'id'; readonly p: number; readonly id: string; readonly t: number }
  | { readonly k: 'expire'; readonly wm: number }
  | { readonly k: 'checkpoint' }
  | { readonly k: 'restoreFrom' }
  | { readonly k: 'json' };

const idOp = fc.record({ k: fc.constant('id' as const), p: fc.integer({ min: 0, max: 2 }), id: fc.stringMatching(/^[abcd]{1,3}$/), t: fc.integer({ min: 0, max: 100 }) });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: idOp, weight: 12 },
  { arbitrary: fc.record({ k: fc.constant('expire' as const), wm: fc.integer({ min: -10, max: 200 }) }), weight: 3 },
  { arbitrary: fc.constant({ k: 'checkpoint' as const }), weight: 1 },
  { arbitrary: fc.constant({ k: 'restoreFrom' as const }), weight: 1 },
  { arbitrary: fc.constant({ k: 'json' as const }), weight: 1 },
);

describe('DedupFilter equals the Set-based reference', () => {
  it('on random ids, times, expiries, caps, hashes, checkpoints and restores', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 8 }), fc.constantFrom(...Object.keys(hashes)), fc.boolean(), fc.array(opArb, { maxLength: 200 }),
      (ttl, cap, hashName, withStore, ops) => {
        const hash = hashes[hashName] as Hash64Fn;
        const store = new MapStore();
        const make = (): DedupFilter => new DedupFilter(ttl, cap, withStore ? store.lookup : undefined, { hash });
        let d = make();
        const ref = new RefDedup(ttl, cap);
        let collisions = 0;
        for (const op of ops) {
          switch (op.k) {
            case 'id': {
              const other = ref.live(op.p).some((x) => x !== op.id && hashOf(hash, x) === hashOf(hash, op.id));
              const expected = ref.isDuplicate(op.p, op.id, op.t);
              if (!expected && other) collisions++;
              expect(d.isDuplicate(op.p, op.id, op.t)).toBe(expected);
              break;
            }
            case 'expire': ref.expire(op.wm); d.expire(op.wm); break;
            case 'checkpoint': checkpoint(d, store); break;
            case 'restoreFrom': checkpoint(d, store); d = make(); d.restoreFrom(store.state()); break;
            case 'json': {
              const snap = JSON.parse(JSON.stringify(d.snapshot())) as unknown;
              d = make();
              d.restore(snap);
              collisions = 0;
              break;
            }
          }
          expect(d.evicted).toBe(ref.evicted);
          expect(d.collisions).toBe(collisions);
          expect(d.size()).toBe(ref.size());
        }
        expect(d.snapshot()).toEqual(ref.snapshot());
        if (!withStore) expect(d.recentSize()).toBe(d.size());
      },
    ), { numRuns: 300 });
  });

  it('a filter restored from a store answers like the original for random follow-ups', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 8 }), fc.constantFrom(...Object.keys(hashes)),
      fc.array(opArb, { maxLength: 120 }), fc.array(opArb, { maxLength: 120 }),
      (ttl, cap, hashName, before, after) => {
        const hash = hashes[hashName] as Hash64Fn;
        const store = new MapStore();
        const original = new DedupFilter(ttl, cap, store.lookup, { hash });
        for (const op of before) {
          if (op.k === 'id') original.isDuplicate(op.p, op.id, op.t);
          else if (op.k === 'expire') original.expire(op.wm);
          else checkpoint(original, store);
        }
        checkpoint(original, store);
        const restored = new DedupFilter(ttl, cap, store.lookup, { hash });
        restored.restoreFrom(store.state());
        expect(restored.snapshot()).toEqual(original.snapshot());
        expect(restored.recentSize()).toBe(0);
        for (const op of after) {
          if (op.k === 'id') expect(restored.isDuplicate(op.p, op.id, op.t)).toBe(original.isDuplicate(op.p, op.id, op.t));
          else if (op.k === 'expire') { original.expire(op.wm); restored.expire(op.wm); }
          expect(restored.evicted).toBe(original.evicted);
          expect(restored.collisions).toBe(original.collisions);
        }
        expect(restored.snapshot()).toEqual(original.snapshot());
      },
    ), { numRuns: 300 });
  });

  it('capture reports only what is new, skips what was forgotten meanwhile, and restarts at a restore point', () => {
    const d = new DedupFilter(10, 3);
    for (const id of ['a', 'b']) d.isDuplicate(0, id, 0);
    const first = d.capture();
    expect(first).toEqual({ evicted: 0, collisions: 0, partitions: [{ partition: 0, head: 0, tail: 2, firstNew: 0, ids: ['a', 'b'], times: [0, 0] }] });
    for (const id of ['c', 'd', 'e', 'f']) d.isDuplicate(0, id, 5); // cap 3: a, b, c forgotten
    const second = d.capture();
    expect(second.partitions).toEqual([{ partition: 0, head: 3, tail: 6, firstNew: 3, ids: ['d', 'e', 'f'], times: [5, 5, 5] }]);
    expect(second.evicted).toBe(3);
    expect(first.partitions[0]?.ids).toEqual(['a', 'b']); // earlier captures are not touched
    expect(d.capture().partitions).toEqual([{ partition: 0, head: 3, tail: 6, firstNew: 6, ids: [], times: [] }]);
    d.restore(JSON.parse(JSON.stringify(d.snapshot())));
    expect(d.capture().partitions).toEqual([{ partition: 0, head: 0, tail: 3, firstNew: 0, ids: ['d', 'e', 'f'], times: [5, 5, 5] }]);
  });
});

describe('DedupFilter table growth and deletion', () => {
  /** 8 consecutive numbers share a home slot: long clusters for backward-shift deletion. */
  const clustered: Hash64Fn = (s, out) => { const n = Number(s.slice(1)); out.hi = Math.imul(n >>> 3, 0x9e37_79b1); out.lo = n; };

  for (const [name, hash] of [['default', hash64], ['clustered', clustered]] as const) {
    it(`stays equal to the reference over millions of inserts, expiries and evictions (${name} hash)`, () => {
      const ttl = 0;
      const cap = 150_000;
      const d = new DedupFilter(ttl, cap, undefined, { hash });
      const ref = new RefDedup(ttl, cap);
      let rnd = 12345;
      const rand = (n: number): number => { rnd = (Math.imul(rnd, 1_103_515_245) + 12_345) >>> 0; return rnd % n; };
      // Window sizes change by phase so the table grows, shrinks and grows again; the last
      // phase runs into the cap.
      const windows = [1_000, 60_000, 200, 120_000, 50, 200_000];
      let i = 0;
      let checks = 0;
      const bytes: number[] = [];
      for (const w of windows) {
        const end = i + 350_000;
        for (; i < end; i++) {
          if (d.isDuplicate(0, `i${i}`, i) !== ref.isDuplicate(0, `i${i}`, i)) throw new Error(`differs at ${i}`);
          const j = i - rand(Math.floor(w * 1.5) + 1); // some still remembered, some forgotten
          if (j >= 0 && (i & 3) === 0) {
            const id = `i${j}`;
            if (d.isDuplicate(0, id, i) !== ref.isDuplicate(0, id, i)) throw new Error(`differs at ${i} for ${id}`);
            checks++;
          }
          if (i % 97 === 0) { d.expire(i - w); ref.expire(i - w); }
        }
        expect(d.size()).toBe(ref.size());
        expect(d.evicted).toBe(ref.evicted);
        bytes.push(d.bytes());
      }
      expect(bytes[4]).toBeLessThan((bytes[3] as number) / 50); // the table and queue shrank after the mass expiry
      expect(checks).toBeGreaterThan(500_000);
      expect(ref.evicted).toBeGreaterThan(0);
      expect(d.snapshot()).toEqual(ref.snapshot());
    });
  }
});

describe('DedupFilter memory', () => {
  it('recent shrinks once a checkpoint is durable, and keeps what is newer', () => {
    const store = new MapStore();
    const d = new DedupFilter(60_000, 1_000_000, store.lookup);
    for (let i = 0; i < 10_000; i++) d.isDuplicate(i % 2, `e${i}`, i);
    expect(d.recentSize()).toBe(10_000);
    const before = d.bytes();
    const cap = d.capture();
    store.apply(cap);
    for (let i = 10_000; i < 10_100; i++) d.isDuplicate(i % 2, `e${i}`, i); // after the capture
    d.durable(0, 1_000_000); // clamped to the captured tail
    expect(d.recentSize(0)).toBe(50);
    expect(d.recentSize(1)).toBe(5_050);
    d.durable(1, cap.partitions[1]?.tail ?? 0);
    expect(d.recentSize()).toBe(100);
    expect(d.bytes()).toBeLessThan(before);
    for (let i = 0; i < 10_100; i += 7) expect(d.isDuplicate(i % 2, `e${i}`, i)).toBe(true);
    expect(d.isDuplicate(0, 'e10100', 0)).toBe(false);
    const plain = new DedupFilter(60_000, 10);
    plain.isDuplicate(0, 'x', 0);
    plain.capture();
    plain.durable(0, 1); // no store: ids stay in memory
    expect(plain.recentSize()).toBe(1);
    expect(plain.isDuplicate(0, 'x', 0)).toBe(true);
  });

  it('1,000,000 ids fit, at about 25-50 bytes each once durable', () => {
    const id = (seq: number): string => `0f8fad5b-d9cb-469f-a165-${(70_000_000_000 + seq).toString(16).padStart(12, '0')}`;
    const d = new DedupFilter(86_400_000, 2_000_000, (_p, seq) => id(seq));
    const n = 1_000_000;
    for (let i = 0; i < n; i++) d.isDuplicate(0, id(i), i);
    expect(d.size()).toBe(n);
    const cap = d.capture();
    expect(cap.partitions[0]?.ids.length).toBe(n);
    d.durable(0, n);
    expect(d.recentSize()).toBe(0);
    expect(d.bytes() / n).toBeLessThan(50);
    for (let i = 0; i < n; i += 9_973) expect(d.isDuplicate(0, id(i), i)).toBe(true);
    expect(d.isDuplicate(0, id(n), n)).toBe(false);
    expect(d.collisions).toBe(0);
  });
});
