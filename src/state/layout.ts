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
 * | `groups`   | `[metric, windowStart, slot]`      | a TUMBLE/HOP/CUMULATE group (windowStart: the window's key, its end for CUMULATE) (lmdb-env.ts `groupValue`): the key values (msgpack, written once and copied as bytes on later updates), the numeric state as f64s, the object states (msgpack) |
 * | `emitted`  | `[metric, windowStart]`            | ids of rows emitted for an open window (top-N, HAVING) |
 * | `sessions` | `[metric, serial]`                 | `[id, start, end, emittedStart, groupSnapshot]`   |
 * | `closed`   | `[metric, id]`                     | end of the key's last closed session (late detection) |
 * | `dedup`    | `[stream, partition, firstSeq, n]` | a block of n event ids in arrival order: `{ ids, times }`, seq = arrival order per partition (blocks of at most {@link DEDUP_BLOCK} ids) |
 *
 * Per input partition: the offset, watermark mark and dedup ids live under the partition's own
 * keys, so one partition's state can be read or dropped alone.
 */

/** Bump when the layout changes; a store of another format is refused with PW_CHECKPOINT_VERSION. */
export const STATE_FORMAT = 3;

/** Most event ids in one `dedup` block (a lookup reads one block; a checkpoint writes one per 4,096 new ids). */
export const DEDUP_BLOCK = 4096;

export const DB_NAMES = ['meta', 'groups', 'emitted', 'sessions', 'closed', 'dedup'] as const;
export type DbName = (typeof DB_NAMES)[number];

/** A key: an array of strings and numbers (ordered element by element). */
export type StoreKey = (string | number)[];

/**
 * One change a checkpoint makes, applied by the writer thread in order inside one LMDB
 * transaction:
 * - `put`: set `key` to `value` (any msgpack-able value);
 * - `del`: remove `key`;
 * - `clear`: remove every key that starts with `prefix`;
 * - `dropBlocks`: remove the blocks under `prefix` (keys `[...prefix, first, n]`) that end at
 *   or below `below` (first + n <= below): the dedup ids a partition forgot;
 * - `groups`: TUMBLE/HOP/CUMULATE groups of one window, packed: `slots[i]`'s numeric state is
 *   `nums[i * width .. (i + 1) * width)`, its object states `objs[i]`; `keys[i]` is its key
 *   values when the group is new, null when it is stored already (the writer keeps the stored
 *   key bytes), so unchanged key strings are not sent again.
 */
export type StateOp =
  | { readonly op: 'put'; readonly db: DbName; readonly key: StoreKey; readonly value: unknown }
  | { readonly op: 'del'; readonly db: DbName; readonly key: StoreKey }
  | { readonly op: 'clear'; readonly db: DbName; readonly prefix: StoreKey }
  | { readonly op: 'dropBlocks'; readonly db: DbName; readonly prefix: StoreKey; readonly below: number }
  /** Sets `key` to stored bytes as they are (null: removes it): a change read back from a changelog. */
  | { readonly op: 'raw'; readonly db: DbName; readonly key: StoreKey; readonly value: Uint8Array | null }
  /**
   * Fencing for group members sharing one store (hot/member-runner.ts): the transaction
   * commits only if `key` holds `equals` (compared as JSON); otherwise nothing of it is written
   * and the operations sent with it are dropped (the commit fails with PW_STATE_FENCED).
   */
  | { readonly op: 'guard'; readonly db: DbName; readonly key: StoreKey; readonly equals: unknown }
  | {
    readonly op: 'groups'; readonly metric: string; readonly windowStart: number; readonly slots: Int32Array;
    readonly width: number; readonly nums: Float64Array; readonly keys: readonly unknown[]; readonly objs: readonly unknown[][] | null;
  };

/**
 * One key a committed transaction wrote (`value`: the stored bytes) or deleted (`value` null),
 * as a changelog records it (state/changelog.ts). Range operations (`clear`, `dropBlocks`)
 * appear as the deletes of the keys they removed.
 */
export interface KeyChange {
  readonly db: DbName;
  readonly key: StoreKey;
  readonly value: Uint8Array | null;
}

/** How much work an op carries (groups or ids in it), for slicing a checkpoint's hand-over. */
export function opWeight(op: StateOp): number {
  if (op.op === 'groups') return op.slots.length;
  if (op.op === 'put' && op.db === 'dedup') return (op.value as { ids: readonly unknown[] }).ids.length;
  return 1;
}

/**
 * Stored TUMBLE/HOP/CUMULATE groups in bulk, decoded by the store's thread into flat arrays: entry `i`
 * is group `slots[i]` of window `windowStarts[i]`, its key values the msgpack bytes
 * `keyBytes[keyEnds[i - 1] .. keyEnds[i])`, its numeric state `nums[numEnds[i - 1] ..
 * numEnds[i])`, its object states (msgpack array) `objBytes[objEnds[i - 1] .. objEnds[i])`
 * (empty when the metric has none).
 */
export interface GroupChunk {
  readonly windowStarts: Float64Array;
  readonly slots: Int32Array;
  readonly keyBytes: Uint8Array;
  readonly keyEnds: Int32Array;
  readonly nums: Float64Array;
  readonly numEnds: Int32Array;
  readonly objBytes: Uint8Array;
  readonly objEnds: Int32Array;
}

/** Read access to a committed store, for restore and dedup lookups (main thread). */
export interface StateReader {
  get(db: DbName, key: StoreKey): unknown;
  /** Entries whose key starts with `prefix`, in key order (values decoded as msgpack). */
  scan(db: DbName, prefix: StoreKey): Iterable<{ readonly key: StoreKey; readonly value: unknown }>;
  /** The entry with the greatest key at or below `key` that starts with `prefix`, or undefined. */
  floor(db: DbName, prefix: StoreKey, key: StoreKey): { readonly key: StoreKey; readonly value: unknown } | undefined;
  /** Entries of the `groups` database under `prefix`: key values and state, decoded. */
  scanGroups(prefix: StoreKey): Iterable<{ readonly key: StoreKey; readonly keys: unknown; readonly nums: readonly number[]; readonly objs: readonly unknown[] | null }>;
  /** The groups of `metric` in chunks read by another thread (restore overlaps reading and rebuilding), when the store offers it. */
  groupChunks?(metric: string): AsyncIterable<GroupChunk>;
}

/** True when `key` starts with the elements of `prefix`. */
export function hasPrefix(key: StoreKey, prefix: StoreKey): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}
