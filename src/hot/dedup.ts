/**
 * Dedup by event id, per input partition (a redelivered event lands on the partition it was
 * keyed to): the first arrival wins; a later arrival with the same id is a duplicate while the
 * id is remembered. An id is remembered until the watermark passes its event time +
 * `dedup_ttl`. Memory: ids within the TTL, at most `maxIds` per partition; past the cap the
 * oldest ids are forgotten early and counted (`evicted`), so a very late redelivery of one of
 * them would pass as new.
 *
 * Exact: an event is a duplicate only when an identical id string is remembered. Hashes only
 * find candidates; a candidate is confirmed by comparing the full id.
 *
 * Layout, per partition. Every new id gets an arrival sequence number `seq` (0, 1, 2, … per
 * partition, never reused). Remembered ids are the seqs in [`head`, `tail`):
 * - an arrival-ordered queue of typed arrays indexed by `seq - base`: the id's 64-bit hash as
 *   two `Int32Array` lanes and its event time (`Float64Array`): 16 B per queue slot;
 * - an open-addressing hash table (linear probing, power-of-two capacity, load at most 1/2,
 *   backward-shift deletion, no tombstones) whose `Uint32Array` slots hold only the seq
 *   (modulo 2^32 − 1, unambiguous because fewer than 2^32 − 1 seqs are remembered at once;
 *   2^32 − 1 marks an empty slot); a probe compares the hash lanes through the queue;
 * - the full id strings, in `recent`, for seqs at or above `recentBase` only.
 * So an id costs 16 B in the queue plus 8–16 B in the table, about 25–48 B with the arrays'
 * growth slack, plus, while it is in `recent`, a pointer and the string itself. Measured for
 * 1,000,000 uuid ids (Node 20, heapUsed + arrayBuffers): 25 B per id with a store once the ids
 * are durable, 36 B per id plus the strings without one (the previous Set-and-arrays layout:
 * 42 B per id plus the strings; a 36-character id string is another ~56 B).
 *
 * Without a store (the default, no `lookup`), `recentBase` follows `head`: every remembered id
 * is in `recent` (exact, and the memory of the previous Set-based layout). With a store, the
 * constructor's `lookup(partition, seq)` returns the full id of a seq the store holds;
 * {@link DedupFilter.capture} hands the store the ids added since the previous capture, and
 * {@link DedupFilter.durable}, once a checkpoint holding them committed, lets `recent` drop them,
 * so steady-state memory is the ~25–48 B per id above plus the ids since the last checkpoint.
 *
 * Expiry and eviction pop from the queue's head (delete the seq's table slot, advance `head`),
 * so each id costs one probe to add and O(1) amortized to forget.
 */
import { ExecutionError } from '../errors.js';
import { hash64, type Hash64, type Hash64Fn } from '../util/hash64.js';

/** Returns the full id of `seq` on `partition` from a store (undefined when it has none). */
export type DedupLookup = (partition: number, seq: number) => string | undefined;

export interface DedupOptions {
  /** The id hash (tests inject degenerate ones to force collisions); default {@link hash64}. */
  readonly hash?: Hash64Fn;
}

/** Table slots hold `seq % SEQ_MOD`; `EMPTY` (= SEQ_MOD) is never such a value. */
const SEQ_MOD = 0xffff_ffff;
const EMPTY = 0xffff_ffff;
const MIN_TABLE = 16;
const MIN_QUEUE = 16;
/** Dead queue / recent entries tolerated before compaction (also needs at least half dead). */
const COMPACT_AT = 1024;
const RECENT_COMPACT_AT = 64;

/** Probe results. */
const NEW = 0;
const DUPLICATE = 1;
const NEW_AFTER_COLLISION = 2;

function tableFor(count: number): number {
  let cap = MIN_TABLE;
  while (cap < count * 4) cap *= 2; // load ≤ 1/4 after a resize: room to grow before 1/2
  return cap;
}

function queueFor(count: number): number {
  let cap = MIN_QUEUE;
  while (cap < count * 2) cap *= 2;
  return cap;
}

class PartitionIds {
  readonly partition: number;
  readonly #lookup: DedupLookup | undefined;
  /** Oldest remembered seq; seqs below it are forgotten (TTL or cap). */
  head = 0;
  /** The next seq. */
  tail = 0;
  /** Seq of queue index 0, and it modulo SEQ_MOD (converts a table slot to a queue index). */
  #base = 0;
  #baseMod = 0;
  #qHi: Int32Array = new Int32Array(MIN_QUEUE);
  #qLo: Int32Array = new Int32Array(MIN_QUEUE);
  #qTime: Float64Array = new Float64Array(MIN_QUEUE);
  #table: Uint32Array = new Uint32Array(MIN_TABLE).fill(EMPTY);
  #mask = MIN_TABLE - 1;
  /** Full ids of the seqs in [recentOff, tail); those below `recentBase` are dropped (not yet sliced off). */
  recent: string[] = [];
  recentOff = 0;
  /** Ids of seqs at or above it are in `recent`; below it (and at or above `head`), in the store. */
  recentBase = 0;
  /** The previous capture's tail (or the restore point): the next capture starts here. */
  captured = 0;

  constructor(partition: number, lookup: DedupLookup | undefined) {
    this.partition = partition;
    this.#lookup = lookup;
  }

  get count(): number { return this.tail - this.head; }

  /** Empty, with the next seq `seq` (restoreFrom). */
  startAt(seq: number): void {
    this.head = this.tail = this.recentOff = this.recentBase = this.captured = this.#base = seq;
    this.#baseMod = seq % SEQ_MOD;
  }

  /** The full id of a remembered seq. */
  idAt(seq: number): string {
    if (seq >= this.recentBase) return this.recent[seq - this.recentOff] as string;
    const id = this.#lookup?.(this.partition, seq);
    if (id === undefined) throw new Error(`dedup: the store has no id for partition ${this.partition} seq ${seq} (it must keep every seq at or above the last capture's head)`);
    return id;
  }

  timeAt(seq: number): number { return this.#qTime[seq - this.#base] as number; }

  /** Looks `id` (hashed to hi/lo) up: DUPLICATE, NEW, or NEW_AFTER_COLLISION (another id has its hash). */
  probe(id: string, hi: number, lo: number): number {
    const table = this.#table;
    const mask = this.#mask;
    const qHi = this.#qHi;
    const qLo = this.#qLo;
    const baseMod = this.#baseMod;
    let result = NEW;
    for (let i = hi & mask; ; i = (i + 1) & mask) {
      const v = table[i] as number;
      if (v === EMPTY) return result;
      let q = v - baseMod;
      if (q < 0) q += SEQ_MOD;
      if (qHi[q] === hi && qLo[q] === lo) {
        if (this.idAt(this.#base + q) === id) return DUPLICATE;
        result = NEW_AFTER_COLLISION;
      }
    }
  }

  /** Appends a new id (not remembered: probe said so) as seq `tail`. */
  push(id: string, hi: number, lo: number, t: number): void {
    this.#append(hi, lo, t);
    this.recent.push(id);
  }

  /** Appends a seq whose id lives in the store (restoreFrom). */
  #append(hi: number, lo: number, t: number): void {
    if (this.tail - this.#base === this.#qHi.length) this.#growQueue();
    const q = this.tail - this.#base;
    this.#qHi[q] = hi;
    this.#qLo[q] = lo;
    this.#qTime[q] = t;
    const seq = this.tail++;
    if (this.count * 2 > this.#table.length) this.#rehash(this.#table.length * 2);
    else this.#place(seq, hi);
  }

  /** Appends a durable seq (its id is in the store, or kept in `recent` when there is no store). */
  appendRestored(id: string, hi: number, lo: number, t: number, keep: boolean): void {
    this.#append(hi, lo, t);
    if (keep) this.recent.push(id);
  }

  /** Forgets the oldest id; returns false when empty. */
  popOldest(): boolean {
    if (this.head >= this.tail) return false;
    this.#remove(this.head++);
    this.#forgotten();
    return true;
  }

  /** Forgets ids from the head while their TTL has passed; stops at the first live one. */
  expire(ttlMs: number, watermarkMs: number): void {
    const start = this.head;
    while (this.head < this.tail && (this.#qTime[this.head - this.#base] as number) + ttlMs <= watermarkMs) this.#remove(this.head++);
    if (this.head === start) return;
    this.#forgotten();
    if (this.#table.length > MIN_TABLE && this.count * 8 < this.#table.length) this.#rehash(tableFor(this.count));
  }

  /** Lets `recent` drop the ids of seqs below `seq` (the store holds them). */
  dropRecent(seq: number): void {
    if (seq <= this.recentBase) return;
    this.recentBase = Math.min(seq, this.tail);
    const dead = this.recentBase - this.recentOff;
    if (dead >= RECENT_COMPACT_AT && dead * 2 >= this.recent.length) {
      this.recent = this.recent.slice(dead);
      this.recentOff = this.recentBase;
    } else if (this.recentBase === this.tail && dead > 0) {
      this.recent = [];
      this.recentOff = this.recentBase;
    }
  }

  /** Times of the seqs in [from, to). */
  times(from: number, to: number): number[] {
    return Array.from(this.#qTime.subarray(from - this.#base, to - this.#base));
  }

  /** Approximate heap bytes (strings as 16 B + 1 B per code unit, i.e. one-byte strings). */
  bytes(): number {
    let strings = 0;
    for (let s = this.recentBase; s < this.tail; s++) strings += 16 + (this.recent[s - this.recentOff] as string).length;
    return 200 + this.#qHi.byteLength + this.#qLo.byteLength + this.#qTime.byteLength + this.#table.byteLength + this.recent.length * 8 + strings;
  }

  /** After `head` moved: ids below it leave `recent`, the queue compacts when mostly dead. */
  #forgotten(): void {
    if (this.recentBase < this.head) this.dropRecent(this.head);
    const dead = this.head - this.#base;
    if (dead >= COMPACT_AT && dead * 2 >= this.tail - this.#base) this.#rebaseQueue(this.#qHi.length > MIN_QUEUE && this.count * 4 < this.#qHi.length ? queueFor(this.count) : this.#qHi.length);
  }

  #growQueue(): void {
    const cap = this.#qHi.length;
    this.#rebaseQueue(this.count * 2 > cap ? cap * 2 : cap);
  }

  /** Moves the live queue [head, tail) to index 0 of arrays of `cap` slots. */
  #rebaseQueue(cap: number): void {
    const from = this.head - this.#base;
    const to = this.tail - this.#base;
    if (cap === this.#qHi.length) {
      this.#qHi.copyWithin(0, from, to);
      this.#qLo.copyWithin(0, from, to);
      this.#qTime.copyWithin(0, from, to);
    } else {
      const hi = new Int32Array(cap);
      const lo = new Int32Array(cap);
      const time = new Float64Array(cap);
      hi.set(this.#qHi.subarray(from, to));
      lo.set(this.#qLo.subarray(from, to));
      time.set(this.#qTime.subarray(from, to));
      this.#qHi = hi;
      this.#qLo = lo;
      this.#qTime = time;
    }
    this.#base = this.head;
    this.#baseMod = this.head % SEQ_MOD;
  }

  /** Puts `seq` (already in the queue) in the first empty slot from its home. */
  #place(seq: number, hi: number): void {
    const table = this.#table;
    const mask = this.#mask;
    let i = hi & mask;
    while (table[i] !== EMPTY) i = (i + 1) & mask;
    table[i] = seq % SEQ_MOD;
  }

  #rehash(cap: number): void {
    this.#table = new Uint32Array(cap).fill(EMPTY);
    this.#mask = cap - 1;
    for (let s = this.head; s < this.tail; s++) this.#place(s, this.#qHi[s - this.#base] as number);
  }

  /** Deletes `seq`'s slot (it must be there; its queue entry still valid) by backward shift. */
  #remove(seq: number): void {
    const table = this.#table;
    const mask = this.#mask;
    const qHi = this.#qHi;
    const baseMod = this.#baseMod;
    const want = seq % SEQ_MOD;
    let i = (qHi[seq - this.#base] as number) & mask;
    while (table[i] !== want) i = (i + 1) & mask;
    // Shift later entries of the cluster back into the hole unless their home lies
    // cyclically in (hole, j]; they must stay reachable from their home without gaps.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const v = table[j] as number;
      if (v === EMPTY) break;
      let q = v - baseMod;
      if (q < 0) q += SEQ_MOD;
      const home = (qHi[q] as number) & mask;
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        table[i] = v;
        i = j;
      }
    }
    table[i] = EMPTY;
  }
}

/** The dedup state of a checkpoint: ids in arrival order per partition, and the eviction count. */
export interface DedupSnapshot {
  readonly partitions: [number, [string, number][]][];
  readonly evicted: number;
}

/**
 * What changed since the previous {@link DedupFilter.capture}, per partition, for an
 * incremental checkpoint. A store keeping seqs in [`head`, `tail`) of the latest capture, with
 * `ids[i]` / `times[i]` as seq `firstNew + i` (replacing whatever it held for seqs at or above
 * `firstNew`), holds exactly the remembered ids.
 */
export interface DedupCapture {
  readonly evicted: number;
  readonly collisions: number;
  readonly partitions: readonly {
    readonly partition: number;
    /** Oldest remembered seq: everything below it is forgotten (TTL or cap); the store may drop it. */
    readonly head: number;
    /** The next seq: ids are remembered for seqs in [head, tail). */
    readonly tail: number;
    /** Seq of `ids[0]`: max(previous capture's tail or restore point, head). */
    readonly firstNew: number;
    /** Ids of seqs [firstNew, tail), in seq order (fresh arrays the filter never touches again). */
    readonly ids: readonly string[];
    /** Their event times (ms). */
    readonly times: readonly number[];
  }[];
}

/** A store's dedup state for {@link DedupFilter.restoreFrom}. */
export interface DedupRestoreState {
  readonly evicted: number;
  readonly collisions: number;
  readonly partitions: readonly {
    readonly partition: number;
    readonly head: number;
    readonly tail: number;
    /** Every seq in [head, tail), in seq order, with its id and event time. */
    readonly entries: Iterable<readonly [seq: number, id: string, t: number]>;
  }[];
}

/**
 * First-arrival-wins dedup over every partition of one stream. `evicted` counts ids forgotten
 * early at the per-partition cap (`maxIds`); it is kept in checkpoints and reported (replay's
 * `_summary.json`, `pitwall_dedup_evicted_total`), since each such id lets a later copy count twice.
 */
export class DedupFilter {
  readonly #ttlMs: number;
  readonly #maxIds: number;
  readonly #lookup: DedupLookup | undefined;
  readonly #hash: Hash64Fn;
  readonly #h: Hash64 = { hi: 0, lo: 0 };
  readonly #seen = new Map<number, PartitionIds>();
  #last: PartitionIds | undefined;
  #evicted = 0;
  #collisions = 0;

  /**
   * `lookup`: the full id of a seq the store holds (see {@link capture}, {@link durable});
   * without it every remembered id stays in memory. `options.hash`: see {@link DedupOptions}.
   */
  constructor(ttlMs: number, maxIds: number, lookup?: DedupLookup, options: DedupOptions = {}) {
    this.#ttlMs = ttlMs;
    this.#maxIds = maxIds;
    this.#lookup = lookup;
    this.#hash = options.hash ?? hash64;
  }

  /** Ids forgotten early because a partition held more than the cap (not those past `dedup_ttl`). */
  get evicted(): number { return this.#evicted; }

  /**
   * New ids whose 64-bit hash equalled that of a remembered, different id (they were compared in
   * full and correctly kept as new; each costs a full-id comparison, through the store when the
   * other id is durable). Expected ≈ n²/2^65 for n remembered ids: in practice 0.
   */
  get collisions(): number { return this.#collisions; }

  /** The cap on remembered ids per partition. */
  get maxIds(): number { return this.#maxIds; }

  #partition(partition: number): PartitionIds {
    const last = this.#last;
    if (last !== undefined && last.partition === partition) return last;
    let ids = this.#seen.get(partition);
    if (!ids) { ids = new PartitionIds(partition, this.#lookup); this.#seen.set(partition, ids); }
    this.#last = ids;
    return ids;
  }

  /** True when this id was seen before (a duplicate); records it otherwise. */
  isDuplicate(partition: number, eventId: string, eventTimeMs: number): boolean {
    const ids = this.#partition(partition);
    const h = this.#h;
    this.#hash(eventId, h);
    const hi = h.hi | 0;
    const lo = h.lo | 0;
    const found = ids.probe(eventId, hi, lo);
    if (found === DUPLICATE) return true;
    if (found === NEW_AFTER_COLLISION) this.#collisions++;
    ids.push(eventId, hi, lo, eventTimeMs);
    if (ids.count > this.#maxIds && ids.popOldest()) this.#evicted++;
    return false;
  }

  /**
   * Forgets ids whose TTL has passed. Ids are visited in arrival order and the sweep stops at
   * the first one still live, so out-of-order ids may be kept a little longer (never shorter).
   */
  expire(watermarkMs: number): void {
    for (const ids of this.#seen.values()) ids.expire(this.#ttlMs, watermarkMs);
  }

  size(): number {
    let n = 0;
    for (const ids of this.#seen.values()) n += ids.count;
    return n;
  }

  /** Ids held in memory as strings (`partition` given: that partition's); the rest are in the store. */
  recentSize(partition?: number): number {
    let n = 0;
    for (const ids of this.#seen.values()) if (partition === undefined || ids.partition === partition) n += ids.tail - ids.recentBase;
    return n;
  }

  /** Approximate heap bytes of the remembered ids (typed arrays exact, strings estimated). O(recent). */
  bytes(): number {
    let n = 0;
    for (const ids of this.#seen.values()) n += ids.bytes();
    return n;
  }

  /** Ids in arrival order, per partition, and the eviction count (durable ids read from the store). */
  snapshot(): DedupSnapshot {
    return {
      partitions: [...this.#seen].map(([p, ids]) => {
        const entries: [string, number][] = [];
        for (let s = ids.head; s < ids.tail; s++) entries.push([ids.idAt(s), ids.timeAt(s)]);
        return [p, entries];
      }),
      evicted: this.#evicted,
    };
  }

  /**
   * Restores a {@link snapshot} (or the bare per-partition list older checkpoints hold). Seqs
   * restart at 0 and every id is kept in memory; the next {@link capture} returns them all
   * (`firstNew` = `head` = 0), so a store replaces what it held. `collisions` restarts at 0.
   */
  restore(json: unknown): void {
    const snap = Array.isArray(json) ? { partitions: json as DedupSnapshot['partitions'], evicted: 0 } : json as DedupSnapshot;
    this.#reset();
    for (const [p, entries] of snap.partitions) this.importPartition(p, entries);
    this.#evicted = snap.evicted ?? 0;
  }

  /**
   * The ids added since the previous capture (or restore), per partition, with each
   * partition's `head`, for an incremental checkpoint: see {@link DedupCapture}. Ids added and
   * already forgotten since then are skipped (`firstNew` ≥ `head`). Every partition seen is
   * listed, changed or not. Once the checkpoint is committed, call {@link durable}.
   */
  capture(): DedupCapture {
    const partitions: DedupCapture['partitions'][number][] = [];
    for (const ids of this.#seen.values()) {
      const firstNew = Math.max(ids.captured, ids.head);
      partitions.push({
        partition: ids.partition, head: ids.head, tail: ids.tail, firstNew,
        ids: ids.recent.slice(firstNew - ids.recentOff, ids.tail - ids.recentOff),
        times: ids.times(firstNew, ids.tail),
      });
      ids.captured = ids.tail;
    }
    return { evicted: this.#evicted, collisions: this.#collisions, partitions };
  }

  /**
   * A checkpoint holding `partition`'s ids below `seq` committed: with a store (`lookup`), they
   * leave memory and are read through `lookup` when a hash matches. Clamped to the last
   * capture's tail (ids not captured yet are in no store). Without a store, a no-op.
   */
  durable(partition: number, seq: number): void {
    if (this.#lookup === undefined) return;
    const ids = this.#seen.get(partition);
    if (ids) ids.dropRecent(Math.min(seq, ids.captured));
  }

  /**
   * Rebuilds from a store (replacing all state): per partition, `entries` are the seqs
   * [head, tail) in order, contiguous; hashes are recomputed from the ids. Afterwards every id
   * is durable (read through `lookup`; without a store they stay in memory), and the next
   * {@link capture} starts at each partition's `tail`.
   */
  restoreFrom(state: DedupRestoreState): void {
    this.#reset();
    for (const part of state.partitions) this.restorePartition(part);
    this.#evicted = state.evicted;
    this.#collisions = state.collisions;
  }

  /**
   * One partition's remembered ids in arrival order with their event times (ms), for handing
   * the partition to another group member (hot/two-phase.ts). Ids the store holds are read
   * through `lookup`.
   */
  exportPartition(partition: number): [string, number][] {
    const ids = this.#seen.get(partition);
    const out: [string, number][] = [];
    if (ids) for (let s = ids.head; s < ids.tail; s++) out.push([ids.idAt(s), ids.timeAt(s)]);
    return out;
  }

  /** Replaces one partition's ids with `entries` (from {@link exportPartition}), kept in memory. */
  importPartition(partition: number, entries: Iterable<readonly [string, number]>): void {
    this.dropPartition(partition);
    const ids = this.#partition(partition);
    const h = this.#h;
    for (const [id, t] of entries) {
      this.#hash(id, h);
      const hi = h.hi | 0;
      const lo = h.lo | 0;
      if (ids.probe(id, hi, lo) !== DUPLICATE) ids.push(id, hi, lo, t);
    }
  }

  /** Forgets one partition's ids (it went to another group member). */
  dropPartition(partition: number): void {
    this.#seen.delete(partition);
    if (this.#last?.partition === partition) this.#last = undefined;
  }

  /**
   * Rebuilds one partition from a store (replacing only that partition's ids): like
   * {@link restoreFrom} for a partition a group member takes over.
   */
  restorePartition(part: DedupRestoreState['partitions'][number]): void {
    this.dropPartition(part.partition);
    const keep = this.#lookup === undefined;
    const h = this.#h;
    const ids = this.#partition(part.partition);
    ids.startAt(part.head);
    for (const [seq, id, t] of part.entries) {
      if (seq !== ids.tail) throw new ExecutionError('PW_CHECKPOINT_CORRUPT', `state store: dedup ids of partition ${part.partition} have seq ${seq} where ${ids.tail} was expected; move the state directory away to restart from the committed offsets`);
      this.#hash(id, h);
      ids.appendRestored(id, h.hi | 0, h.lo | 0, t, keep);
    }
    if (ids.tail !== part.tail) throw new ExecutionError('PW_CHECKPOINT_CORRUPT', `state store: dedup ids of partition ${part.partition} end at seq ${ids.tail}, expected ${part.tail}; move the state directory away to restart from the committed offsets`);
    if (!keep) ids.recentOff = ids.recentBase = part.tail;
    ids.captured = part.tail;
  }

  #reset(): void {
    this.#seen.clear();
    this.#last = undefined;
    this.#evicted = 0;
    this.#collisions = 0;
  }
}
