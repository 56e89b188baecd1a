/**
 * Dedup by event id, per input partition (a redelivered event lands on the partition it was
 * keyed to): the first arrival wins; a later arrival with the same id is a duplicate while the
 * id is remembered. An id is remembered until the watermark passes its event time +
 * `dedup_ttl`. Memory: ids within the TTL, at most `maxIds` per partition; past the cap the
 * oldest ids are forgotten early and counted (`evicted`), so a very late redelivery of one of
 * them would pass as new.
 *
 * Ids sit in a set and in an arrival-ordered queue with their event times; expiry and eviction
 * pop from the queue's head, so each id costs one hash operation to add and O(1) to forget.
 */
class PartitionIds {
  readonly set = new Set<string>();
  /** Arrival-ordered ids and their event times; `head` is the oldest still remembered. */
  ids: string[] = [];
  times: number[] = [];
  head = 0;

  /** Records `id` unless present; returns true when it was already there (a duplicate). */
  seen(id: string, t: number): boolean {
    const before = this.set.size;
    this.set.add(id);
    if (this.set.size === before) return true;
    this.ids.push(id);
    this.times.push(t);
    return false;
  }

  /** Forgets the oldest id; returns false when empty. */
  popOldest(): boolean {
    if (this.head >= this.ids.length) return false;
    this.set.delete(this.ids[this.head++] as string);
    this.#compact();
    return true;
  }

  /** Forgets ids from the head while their TTL has passed; stops at the first live one. */
  expire(ttlMs: number, watermarkMs: number): void {
    while (this.head < this.ids.length && (this.times[this.head] as number) + ttlMs <= watermarkMs) {
      this.set.delete(this.ids[this.head++] as string);
    }
    this.#compact();
  }

  #compact(): void {
    if (this.head > 65_536 && this.head * 2 > this.ids.length) {
      this.ids = this.ids.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}

/** The dedup state of a checkpoint: ids in arrival order per partition, and the eviction count. */
export interface DedupSnapshot {
  readonly partitions: [number, [string, number][]][];
  readonly evicted: number;
}

/**
 * First-arrival-wins dedup over every partition of one stream. `evicted` counts ids forgotten
 * early at the per-partition cap (`maxIds`); it is kept in checkpoints and reported (replay's
 * `_summary.json`, `pitwall_dedup_evicted_total`), since each such id lets a later copy count twice.
 */
export class DedupFilter {
  readonly #ttlMs: number;
  readonly #maxIds: number;
  readonly #seen = new Map<number, PartitionIds>();
  #evicted = 0;

  constructor(ttlMs: number, maxIds: number) {
    this.#ttlMs = ttlMs;
    this.#maxIds = maxIds;
  }

  /** Ids forgotten early because a partition held more than the cap (not those past `dedup_ttl`). */
  get evicted(): number { return this.#evicted; }

  /** The cap on remembered ids per partition. */
  get maxIds(): number { return this.#maxIds; }

  /** True when this id was seen before (a duplicate); records it otherwise. */
  isDuplicate(partition: number, eventId: string, eventTimeMs: number): boolean {
    let ids = this.#seen.get(partition);
    if (!ids) { ids = new PartitionIds(); this.#seen.set(partition, ids); }
    if (ids.seen(eventId, eventTimeMs)) return true;
    if (ids.set.size > this.#maxIds && ids.popOldest()) this.#evicted++;
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
    for (const ids of this.#seen.values()) n += ids.set.size;
    return n;
  }

  /** Ids in arrival order, per partition, and the eviction count. */
  snapshot(): DedupSnapshot {
    return {
      partitions: [...this.#seen].map(([p, ids]) => [p, ids.ids.slice(ids.head).map((id, i): [string, number] => [id, ids.times[ids.head + i] as number])]),
      evicted: this.#evicted,
    };
  }

  /** Restores a {@link snapshot} (or the bare per-partition list older checkpoints hold). */
  restore(json: unknown): void {
    const snap = Array.isArray(json) ? { partitions: json as DedupSnapshot['partitions'], evicted: 0 } : json as DedupSnapshot;
    this.#seen.clear();
    for (const [p, entries] of snap.partitions) {
      const ids = new PartitionIds();
      for (const [id, t] of entries) ids.seen(id, t);
      this.#seen.set(p, ids);
    }
    this.#evicted = snap.evicted ?? 0;
  }
}
