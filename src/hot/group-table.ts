/**
 * The groups of one window, stored by column: a map from encoded key to slot, the key values
 * per slot, and for COUNT / SUM / AVG plain Float64Array columns (count; or Neumaier sum,
 * compensation, count; or, for SUM of ints, the exact sum's high and low parts and count), so
 * an open (window, key) costs a map entry, its key, and 8 bytes per numeric state — no object
 * per group. Other aggregates keep their accumulator objects in a
 * per-aggregate array. Arithmetic is the same as the accumulators in accumulators/basic.ts, so
 * the columnar and object forms give identical results and snapshots.
 */
import { exactCarry, exactIntResult, exactRest, type AccValue, type AnyAccumulator } from './accumulators/index.js';
import { finiteOrNull } from './eval/arithmetic.js';
import type { Evaluator, Val } from './eval/compile-expr.js';
import { encodeKey, type GroupFolder } from './group-folder.js';

type Payload = Record<string, unknown>;

/** How one aggregate is stored: numeric columns (first column index) or objects. */
export type AggLayout =
  | { readonly kind: 'count'; readonly col: number }
  | { readonly kind: 'sum' | 'avg' | 'int_sum'; readonly col: number }
  | { readonly kind: 'object'; readonly obj: number; readonly acc: AnyAccumulator };

export interface AggSlot {
  readonly layout: AggLayout;
  readonly arg: Evaluator<Payload> | undefined;
  readonly filter: Evaluator<Payload> | undefined;
}

/** Index shards of a large table: a Map rehashes all its entries when it grows, so one Map of a million groups stalls for ~90 ms; 64 shards bound that to ~1/64. */
const SHARDS = 64;
/** A table's index splits into shards at this many groups (one move of ~65k entries, a few ms); smaller tables keep one Map and hash nothing extra. */
const SPLIT_AT = 65_536;

/** The shard of a group id: FNV-1a over its last (up to) 8 UTF-16 code units, where keys differ most. */
function shardOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = Math.max(0, id.length - 8); i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) & (SHARDS - 1);
}

/**
 * Encoded group key → slot: one Map, split into {@link SHARDS} Maps once the table holds
 * {@link SPLIT_AT} groups (`entries` walks slots in order either way).
 */
export class GroupIndex {
  #single: Map<string, number> | undefined = new Map<string, number>();
  #shards: Map<string, number>[] = [];
  #size = 0;

  get size(): number { return this.#size; }

  get(id: string): number | undefined {
    return this.#single !== undefined ? this.#single.get(id) : (this.#shards[shardOf(id)] as Map<string, number>).get(id);
  }

  set(id: string, slot: number): void {
    const m = this.#single ?? (this.#shards[shardOf(id)] as Map<string, number>);
    const before = m.size;
    m.set(id, slot);
    if (m.size === before) return;
    this.#size++;
    if (this.#single !== undefined && this.#size >= SPLIT_AT) {
      this.#shards = Array.from({ length: SHARDS }, () => new Map<string, number>());
      for (const [k, v] of this.#single) (this.#shards[shardOf(k)] as Map<string, number>).set(k, v);
      this.#single = undefined;
    }
  }

  /** [id, slot] pairs in slot order. */
  entries(): [string, number][] {
    const out: [string, number][] = new Array<[string, number]>(this.#size);
    for (const m of this.#single ? [this.#single] : this.#shards) for (const [id, slot] of m) out[slot] = [id, slot];
    return out;
  }
}

export class GroupTable {
  readonly index = new GroupIndex();
  readonly keys: Val[][] = [];
  readonly #aggs: readonly AggSlot[];
  #cols: Float64Array[];
  readonly #objs: unknown[][];
  #capacity = 16;
  /** Change tracking for incremental checkpoints (see `takeChanges`); off until `track()`. */
  #tracking = false;
  #marks = new Uint8Array(0);
  #changed: number[] = [];
  /** Slots below this were handed to a checkpoint before (their key values are stored). */
  #capturedSize = 0;

  constructor(aggs: readonly AggSlot[], numericCols: number, objectCols: number) {
    this.#aggs = aggs;
    this.#cols = Array.from({ length: numericCols }, () => new Float64Array(this.#capacity));
    this.#objs = Array.from({ length: objectCols }, () => []);
  }

  get size(): number { return this.keys.length; }

  /** Adds a group with the given key values; returns its slot. */
  add(id: string, keyValues: readonly Val[]): number {
    return this.#addOwned(id, [...keyValues]);
  }

  /** Adds a group that takes `keyValues` as its own (not copied). */
  #addOwned(id: string, keyValues: Val[]): number {
    const slot = this.keys.length;
    if (slot === this.#capacity) {
      this.#capacity *= 2;
      this.#cols = this.#cols.map((c) => { const n = new Float64Array(this.#capacity); n.set(c); return n; });
      if (this.#tracking) { const m = new Uint8Array(this.#capacity); m.set(this.#marks); this.#marks = m; }
    }
    this.index.set(id, slot);
    this.keys.push(keyValues);
    for (const a of this.#aggs) if (a.layout.kind === 'object') (this.#objs[a.layout.obj] as unknown[]).push(a.layout.acc.create());
    if (this.#tracking) this.#mark(slot);
    return slot;
  }

  /** Starts tracking changed slots (every existing slot counts as changed and new). */
  track(): void {
    if (this.#tracking) return;
    this.#tracking = true;
    this.#marks = new Uint8Array(this.#capacity);
    this.#capturedSize = 0;
    for (let s = 0; s < this.keys.length; s++) this.#mark(s);
  }

  /** Whether any slot changed since the last `takeChanges`. */
  get hasChanges(): boolean { return this.#changed.length > 0; }

  #mark(slot: number): void {
    if (this.#marks[slot] === 0) { this.#marks[slot] = 1; this.#changed.push(slot); }
  }

  /**
   * The slots changed since the last call, their state copied now (numeric columns gathered
   * into `nums`, `numericCols` values per slot; object accumulators snapshotted), and the first
   * slot never handed over before (`newFrom`: slots at or above it need their key values
   * stored). Resets the tracking. Cost: O(changed slots).
   */
  takeChanges(): { slots: Int32Array; nums: Float64Array; width: number; objs: unknown[][] | null; newFrom: number } {
    // Sorted (a typed array sorts numerically, natively): the store then writes keys in order.
    const slots = Int32Array.from(this.#changed).sort();
    this.#changed = [];
    const width = this.#cols.length;
    const nums = new Float64Array(slots.length * width);
    for (let c = 0; c < width; c++) {
      const col = this.#cols[c] as Float64Array;
      for (let i = 0; i < slots.length; i++) nums[i * width + c] = col[slots[i] as number] as number;
    }
    let objs: unknown[][] | null = null;
    if (this.#objs.length > 0) {
      const layouts = this.#aggs.filter((a) => a.layout.kind === 'object').map((a) => a.layout as Extract<AggLayout, { kind: 'object' }>);
      objs = Array.from(slots, (s) => layouts.map((l) => l.acc.snapshot((this.#objs[l.obj] as unknown[])[s])));
    }
    for (const s of slots) this.#marks[s] = 0;
    const newFrom = this.#capturedSize;
    this.#capturedSize = this.keys.length;
    return { slots, nums, width, objs, newFrom };
  }

  /**
   * Restores slot `slot` (must be the next one) from a store record: key values, the numeric
   * columns as `takeChanges` gathered them, and the object accumulator snapshots. Restored
   * slots count as stored (not changed).
   */
  restoreStored(slot: number, keys: Val[], nums: ArrayLike<number>, objs: readonly unknown[] | null): void {
    if (slot !== this.keys.length) throw new Error(`slot ${slot} out of order (expected ${this.keys.length})`);
    const s = this.#addOwned(encodeKey(keys), keys);
    const cols = this.#cols;
    for (let c = 0; c < cols.length; c++) (cols[c] as Float64Array)[s] = nums[c] as number;
    let o = 0;
    for (const a of this.#aggs) {
      const l = a.layout;
      if (l.kind === 'object') (this.#objs[l.obj] as unknown[])[s] = l.acc.restore((objs as readonly unknown[])[o++]);
    }
    if (this.#tracking) { this.#marks[s] = 0; this.#changed.pop(); this.#capturedSize = this.keys.length; }
  }

  fold(slot: number, payload: Payload): void {
    if (this.#tracking && this.#marks[slot] === 0) this.#mark(slot);
    const aggs = this.#aggs;
    const cols = this.#cols;
    for (let i = 0; i < aggs.length; i++) {
      const a = aggs[i] as AggSlot;
      if (a.filter !== undefined && a.filter(payload) !== true) continue;
      const layout = a.layout;
      let v: Val = 1;
      if (a.arg !== undefined) {
        v = a.arg(payload);
        if (v === null) continue;
      }
      switch (layout.kind) {
        case 'count': { const c = cols[layout.col] as Float64Array; c[slot] = (c[slot] as number) + 1; break; }
        case 'sum': case 'avg': {
          const sums = cols[layout.col] as Float64Array;
          const comp = cols[layout.col + 1] as Float64Array;
          const x = v as number;
          const s = sums[slot] as number;
          const t = s + x;
          comp[slot] = (comp[slot] as number) + (Math.abs(s) >= Math.abs(x) ? (s - t) + x : (x - t) + s);
          sums[slot] = t;
          const ns = cols[layout.col + 2] as Float64Array;
          ns[slot] = (ns[slot] as number) + 1;
          break;
        }
        case 'int_sum': {
          const his = cols[layout.col] as Float64Array;
          const los = cols[layout.col + 1] as Float64Array;
          const x = v as number;
          const lo = los[slot] as number;
          const carry = exactCarry(lo, x);
          if (carry !== 0) his[slot] = (his[slot] as number) + carry;
          los[slot] = exactRest(lo, x, carry);
          const ns = cols[layout.col + 2] as Float64Array;
          ns[slot] = (ns[slot] as number) + 1;
          break;
        }
        case 'object': {
          const objs = this.#objs[layout.obj] as unknown[];
          objs[slot] = layout.acc.add(objs[slot], v as AccValue);
          break;
        }
      }
    }
  }

  /**
   * Merges a partial state into `slot`: `accs` is the aggregate part of a {@link snapshot}
   * (one entry per aggregate) from another table with the same layout, e.g. a partial from
   * another partition's owner (two-phase aggregation, hot/two-phase.ts). The arithmetic is the
   * accumulators' `merge` (accumulators/basic.ts): counts add, Neumaier sums add both parts
   * compensated, exact int sums add their high parts and their low parts exactly.
   */
  mergeSnapshot(slot: number, accs: readonly unknown[]): void {
    if (this.#tracking && this.#marks[slot] === 0) this.#mark(slot);
    const cols = this.#cols;
    this.#aggs.forEach((a, i) => {
      const l = a.layout;
      const s = accs[i];
      if (l.kind === 'count') { const c = cols[l.col] as Float64Array; c[slot] = (c[slot] as number) + Number(s); return; }
      if (l.kind === 'object') { const objs = this.#objs[l.obj] as unknown[]; objs[slot] = l.acc.merge(objs[slot], l.acc.restore(s)); return; }
      const [first, second, n] = s as [number, number, number];
      const a0 = cols[l.col] as Float64Array;
      const a1 = cols[l.col + 1] as Float64Array;
      const ns = cols[l.col + 2] as Float64Array;
      if (l.kind === 'int_sum') {
        a0[slot] = (a0[slot] as number) + first;
        const lo = a1[slot] as number;
        const carry = exactCarry(lo, second);
        if (carry !== 0) a0[slot] = (a0[slot] as number) + carry;
        a1[slot] = exactRest(lo, second, carry);
      } else {
        for (const x of [first, second]) {
          const sum = a0[slot] as number;
          const t = sum + x;
          a1[slot] = (a1[slot] as number) + (Math.abs(sum) >= Math.abs(x) ? (sum - t) + x : (x - t) + sum);
          a0[slot] = t;
        }
      }
      ns[slot] = (ns[slot] as number) + n;
    });
  }

  /** The aggregate results of a slot, in aggregate order. */
  results(slot: number): Val[] {
    const cols = this.#cols;
    return this.#aggs.map((a) => {
      const l = a.layout;
      if (l.kind === 'count') return (cols[l.col] as Float64Array)[slot] as number;
      if (l.kind === 'object') return l.acc.result((this.#objs[l.obj] as unknown[])[slot]) as Val;
      const n = (cols[l.col + 2] as Float64Array)[slot] as number;
      const first = (cols[l.col] as Float64Array)[slot] as number;
      const second = (cols[l.col + 1] as Float64Array)[slot] as number;
      if (l.kind === 'int_sum') return exactIntResult(first, second, n);
      if (n === 0) return null;
      return finiteOrNull(l.kind === 'sum' ? first + second : (first + second) / n);
    });
  }

  /** Snapshot of a slot in the same form as GroupFolder.snapshot of a Group. */
  snapshot(slot: number): unknown {
    const cols = this.#cols;
    return [this.keys[slot], this.#aggs.map((a) => {
      const l = a.layout;
      if (l.kind === 'count') return (cols[l.col] as Float64Array)[slot];
      if (l.kind === 'object') return l.acc.snapshot((this.#objs[l.obj] as unknown[])[slot]);
      return [(cols[l.col] as Float64Array)[slot], (cols[l.col + 1] as Float64Array)[slot], (cols[l.col + 2] as Float64Array)[slot]];
    })];
  }

  /** Restores a slot from a snapshot made by `snapshot` (or by GroupFolder.snapshot). */
  restore(id: string, json: unknown): void {
    const [keys, accs] = json as [Val[], unknown[]];
    const slot = this.add(id, keys);
    const cols = this.#cols;
    this.#aggs.forEach((a, i) => {
      const l = a.layout;
      const s = accs[i];
      if (l.kind === 'count') (cols[l.col] as Float64Array)[slot] = Number(s);
      else if (l.kind === 'object') (this.#objs[l.obj] as unknown[])[slot] = l.acc.restore(s);
      else {
        const [sum, c, n] = s as [number, number, number];
        (cols[l.col] as Float64Array)[slot] = sum;
        (cols[l.col + 1] as Float64Array)[slot] = c;
        (cols[l.col + 2] as Float64Array)[slot] = n;
      }
    });
  }

  /** Approximate heap bytes: map entries, ids, key arrays, columns and object states. */
  bytes(): number {
    let n = 64 + this.#cols.length * this.#capacity * 8;
    for (const [id, slot] of this.index.entries()) {
      n += 40 + 2 * id.length + 32;
      for (const k of this.keys[slot] ?? []) if (typeof k === 'string') n += 16 + k.length;
      for (const a of this.#aggs) if (a.layout.kind === 'object') n += a.layout.acc.bytes((this.#objs[a.layout.obj] as unknown[])[slot]);
    }
    return n;
  }
}

/** Builds the empty table of a window (the layout comes from the folder). */
export function newTable(folder: GroupFolder): GroupTable {
  const { slots, numericCols, objectCols } = folder.layout;
  return new GroupTable(slots, numericCols, objectCols);
}
