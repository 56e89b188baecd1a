/**
 * Dedup by event id, per input partition (a redelivered event lands on the partition it was
 * keyed to): the first arrival wins; a later arrival with the same id is a duplicate while the
 * id is remembered. An id is remembered until the watermark passes its event time +
 * `dedup_ttl`. Memory: ids within the TTL, at most `maxIds` per partition; past the cap the
 * oldest ids are forgotten early and counted (`evicted`), so a very late redelivery of one of
 * them would pass as new.
 */
export class DedupFilter {
  readonly #ttlMs: number;
  readonly #maxIds: number;
  /** Per partition: id → event time of its first arrival, in arrival order. */
  readonly #seen = new Map<number, Map<string, number>>();
  evicted = 0;

  constructor(ttlMs: number, maxIds: number) {
    this.#ttlMs = ttlMs;
    this.#maxIds = maxIds;
  }

  /** True when this id was seen before (a duplicate); records it otherwise. */
  isDuplicate(partition: number, eventId: string, eventTimeMs: number): boolean {
    let ids = this.#seen.get(partition);
    if (!ids) { ids = new Map(); this.#seen.set(partition, ids); }
    if (ids.has(eventId)) return true;
    ids.set(eventId, eventTimeMs);
    if (ids.size > this.#maxIds) {
      const oldest = ids.keys().next().value as string;
      ids.delete(oldest);
      this.evicted++;
    }
    return false;
  }

  /**
   * Forgets ids whose TTL has passed. Ids are visited in arrival order and the sweep stops at
   * the first one still live, so out-of-order ids may be kept a little longer (never shorter).
   */
  expire(watermarkMs: number): void {
    for (const ids of this.#seen.values()) {
      for (const [id, t] of ids) {
        if (t + this.#ttlMs > watermarkMs) break;
        ids.delete(id);
      }
    }
  }

  size(): number {
    let n = 0;
    for (const ids of this.#seen.values()) n += ids.size;
    return n;
  }

  snapshot(): unknown {
    return [...this.#seen].map(([p, ids]) => [p, [...ids]]);
  }

  restore(json: unknown): void {
    this.#seen.clear();
    for (const [p, ids] of json as [number, [string, number][]][]) this.#seen.set(p, new Map(ids));
  }
}
