/**
 * The layout of the state store (an LMDB environment, `<state dir>/state.lmdb`): named
 * databases, their keys, and the operations a checkpoint hands to the writer thread.
 *
 * Keys are arrays in LMDB-js's ordered-binary encoding, so every database sorts by its key
 * elements and a key prefix selects a range:
 *
 * | database   | key                                | value (msgpack)                                   |
 * |------------|------------------------------------|---------------------------------------------------|
 * | `meta`     | `['format']`                       | {@link STATE_FORMAT}                              |
 * | `meta`     | `['checkpoint']`                   | `{ takenAt, seq }` of the last committed checkpoint |
 * | `meta`     | `['metric', name]`                 | `{ hash, stats, watermark }`                      |
 * | `meta`     | `['stream', name]`                 | `{ stats, watermark, evicted, collisions }`       |
 * | `meta`     | `['partition', stream, p]`         | `{ offset, maxEventMs, head, tail }` — next offset to read, the partition's watermark mark, its dedup id range |
 * | `groups`   | `[metric, windowStart, slot]`      | `[keyValues, numericState[], objectStates[]]` (TUMBLE/HOP) |
 * | `emitted`  | `[metric, windowStart]`            | ids of rows emitted for an open window (top-N, HAVING) |
 * | `sessions` | `[metric, serial]`                 | `[id, start, end, emittedStart, groupSnapshot]`   |
 * | `closed`   | `[metric, id]`                     | end of the key's last closed session (late detection) |
 * | `dedup`    | `[stream, partition, seq]`         | `[eventId, eventTimeMs]`, seq = arrival order per partition |
 *
 * Per input partition: the offset, watermark mark and dedup ids live under the partition's own
 * keys, so one partition's state can be read or dropped alone.
 */

/** Bump when the layout changes; a store of another format is refused with PW_CHECKPOINT_VERSION. */
export const STATE_FORMAT = 2;

export const DB_NAMES = ['meta', 'groups', 'emitted', 'sessions', 'closed', 'dedup'] as const;
export type DbName = (typeof DB_NAMES)[number];

/** A key: an array of strings and numbers (ordered element by element). */
export type StoreKey = (string | number)[];

/**
 * One change a checkpoint makes, applied by the writer thread in order inside one LMDB
 * transaction:
 * - `put`: set `key` to `value` (any msgpack-able value);
 * - `del`: remove `key`;
 * - `clear`: remove every key that starts with `prefix`, and, when `below` is given, whose
 *   next element is a number below it (the dedup ids of a partition below its new head);
 * - `group`: a TUMBLE/HOP group's state; `keys` is omitted for a group already stored (the
 *   writer keeps the stored key values), so its unchanged key strings are not sent again.
 */
export type StateOp =
  | { readonly op: 'put'; readonly db: DbName; readonly key: StoreKey; readonly value: unknown }
  | { readonly op: 'del'; readonly db: DbName; readonly key: StoreKey }
  | { readonly op: 'clear'; readonly db: DbName; readonly prefix: StoreKey; readonly below?: number }
  | { readonly op: 'group'; readonly key: StoreKey; readonly keys: unknown; readonly nums: readonly number[]; readonly objs: readonly unknown[] | null };

/** Read access to a committed store, for restore and dedup lookups (main thread). */
export interface StateReader {
  get(db: DbName, key: StoreKey): unknown;
  /** Entries whose key starts with `prefix`, in key order. */
  scan(db: DbName, prefix: StoreKey): Iterable<{ readonly key: StoreKey; readonly value: unknown }>;
}

/** True when `key` starts with the elements of `prefix`. */
export function hasPrefix(key: StoreKey, prefix: StoreKey): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}
