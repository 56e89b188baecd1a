/**
 * The versions of one reference table that a stream's lookup joins still need: Flink's
 * event-time temporal join (`FOR SYSTEM_TIME AS OF` the event time) over a versioned table.
 *
 * Changes arrive as upserts by key (a row) or deletes (a tombstone, `row: null`), each valid
 * from `validFromMs`. A lookup at event time `t` returns the row of the latest version of its
 * key with `validFromMs <= t`; a tombstone, or no version at all, is no match.
 *
 * - Late changes: a change valid at or before the latest event time this table has been
 *   joined against ({@link observe}) could change rows already computed; it is not applied and
 *   reported `late` (the caller sends it to the late lane), as a late event is.
 * - Ties: a change with the validity time of a version of its key replaces it (the
 *   later-arriving change wins); the DuckDB path keeps the same one (highest arrival).
 * - Memory: versions older than the newest one valid at the prune horizon (watermark −
 *   allowed lateness − the longest window of the joining metrics; no on-time event is older)
 *   are dropped by {@link prune}, as are keys whose only remaining version is such a
 *   tombstone. At most `maxVersions` versions are kept: a change past the cap is not applied
 *   and reported `overflow` (counted, and left out by the cold path as late changes are).
 */

/** One change of a reference table, validated and decoded. */
export interface TableChange {
  /** The key (a string or an int, as the catalog declares it). */
  readonly key: string | number;
  /** Event time (ms) from which the change holds. */
  readonly validFromMs: number;
  /** The row's payload, or null for a tombstone (delete). */
  readonly row: Readonly<Record<string, unknown>> | null;
}

export type ChangeOutcome = 'applied' | 'late' | 'overflow';

export interface TableStats {
  /** Valid changes offered (applied + late + overflow). */
  changes: number;
  applied: number;
  late: number;
  overflow: number;
  /** Versions held now. */
  versions: number;
}

interface Version { readonly validFromMs: number; readonly row: Readonly<Record<string, unknown>> | null }

export class TableVersions {
  readonly stats: TableStats = { changes: 0, applied: 0, late: 0, overflow: 0, versions: 0 };
  /** Per key: versions in ascending `validFromMs`, at most one per validity time. */
  readonly #byKey = new Map<string | number, Version[]>();
  /** Keys prune() may shorten: more than one version, or a tombstone. */
  readonly #prunable = new Set<string | number>();
  readonly #maxVersions: number;
  #latestEventMs = Number.NEGATIVE_INFINITY;

  constructor(maxVersions: number) {
    this.#maxVersions = maxVersions;
  }

  /** Records that an event of time `eventTimeMs` (ms) is being joined: changes valid at or before it are late from now on. */
  observe(eventTimeMs: number): void {
    if (eventTimeMs > this.#latestEventMs) this.#latestEventMs = eventTimeMs;
  }

  /** Applies `change` unless it is late or over the cap; says which. */
  apply(change: TableChange): ChangeOutcome {
    this.stats.changes++;
    if (change.validFromMs <= this.#latestEventMs) { this.stats.late++; return 'late'; }
    let list = this.#byKey.get(change.key);
    const version: Version = { validFromMs: change.validFromMs, row: change.row };
    const at = list ? upperBound(list, change.validFromMs) : 0;
    if (list && at > 0 && (list[at - 1] as Version).validFromMs === change.validFromMs) {
      list[at - 1] = version;
    } else {
      if (this.stats.versions >= this.#maxVersions) { this.stats.overflow++; return 'overflow'; }
      if (!list) { list = []; this.#byKey.set(change.key, list); }
      list.splice(at, 0, version);
      this.stats.versions++;
    }
    if (list.length > 1 || change.row === null) this.#prunable.add(change.key);
    this.stats.applied++;
    return 'applied';
  }

  /** The row of `key` valid at `eventTimeMs` (ms), or undefined (no version, or a tombstone). */
  lookup(key: string | number, eventTimeMs: number): Readonly<Record<string, unknown>> | undefined {
    const list = this.#byKey.get(key);
    if (!list) return undefined;
    const at = upperBound(list, eventTimeMs);
    return at === 0 ? undefined : (list[at - 1] as Version).row ?? undefined;
  }

  /** Drops the versions no lookup at or after `horizonMs` (ms) can reach. Cost: O(prunable keys). */
  prune(horizonMs: number): void {
    for (const key of this.#prunable) {
      const list = this.#byKey.get(key) as Version[];
      // The newest version valid at the horizon stays (it answers lookups from there on) unless it is a tombstone.
      let drop = Math.max(0, upperBound(list, horizonMs) - 1);
      if (drop < list.length && (list[drop] as Version).row === null && (list[drop] as Version).validFromMs <= horizonMs) drop++;
      if (drop > 0) {
        list.splice(0, drop);
        this.stats.versions -= drop;
      }
      if (list.length === 0) this.#byKey.delete(key);
      if (list.length <= 1 && list[0]?.row !== null) this.#prunable.delete(key);
    }
  }
}

/** Index of the first version with `validFromMs` > `t` (binary search). */
function upperBound(list: readonly Version[], t: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as Version).validFromMs <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
