/**
 * Opens the state store's LMDB environment (`lmdb` package: prebuilt binaries, its own
 * ordered-binary keys) with the named databases of layout.ts. Values are msgpack bytes
 * (msgpackr), packed by the writer thread and unpacked by readers.
 *
 * Durability: `overlappingSync: false`, so a committed transaction is on disk when the commit
 * returns (LMDB's copy-on-write B+tree never exposes a torn transaction after a crash).
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import { Packr } from 'msgpackr';
import { DB_NAMES, hasPrefix, type DbName, type StateReader, type StoreKey } from './layout.js';

export const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export interface StateEnv {
  readonly root: RootDatabase<Buffer, StoreKey>;
  readonly dbs: Record<DbName, Database<Buffer, StoreKey>>;
}

/** Opens (creating when missing) the environment at `path` (a directory). */
export function openStateEnv(path: string): StateEnv {
  const root = open<Buffer, StoreKey>({ path, compression: false, encoding: 'binary', overlappingSync: false, maxDbs: 16 });
  const dbs = Object.fromEntries(DB_NAMES.map((n) => [n, root.openDB<Buffer, StoreKey>({ name: n, encoding: 'binary' })])) as Record<DbName, Database<Buffer, StoreKey>>;
  return { root, dbs };
}

/** A {@link StateReader} over an open environment (sees the last committed transaction). */
export function readerOf(env: StateEnv): StateReader {
  const reader: StateReader = {
    get(db: DbName, key: StoreKey): unknown {
      const buf = env.dbs[db].getBinary(key);
      return buf === undefined ? undefined : packr.unpack(buf);
    },
    *scan(db: DbName, prefix: StoreKey) {
      for (const { key, value } of env.dbs[db].getRange({ start: prefix })) {
        if (!hasPrefix(key, prefix)) return;
        yield { key, value: packr.unpack(value) as unknown };
      }
    },
    floor(db: DbName, prefix: StoreKey, key: StoreKey) {
      for (const e of env.dbs[db].getRange({ start: key, reverse: true, limit: 1 })) {
        return hasPrefix(e.key, prefix) ? { key: e.key, value: packr.unpack(e.value) as unknown } : undefined;
      }
      return undefined;
    },
    *scanGroups(prefix: StoreKey) {
      for (const { key, value } of env.dbs.groups.getRange({ start: prefix })) {
        if (!hasPrefix(key, prefix)) return;
        yield { key, ...decodeGroup(value) };
      }
    },
  };
  return reader;
}

/**
 * A group's stored value: u32 LE length of the key part, the key part (msgpack key values),
 * u16 LE count of numeric states, those numbers as f64 LE, then the object states (msgpack
 * array) when the metric has any. Numbers are raw bytes so a restore decodes one msgpack value
 * per group (the key values), not three.
 */
export function groupValue(keyPart: Uint8Array, nums: ArrayLike<number>, objsPart: Uint8Array | null): Buffer {
  const at = 4 + keyPart.length;
  const out = Buffer.allocUnsafe(at + 2 + nums.length * 8 + (objsPart?.length ?? 0));
  out.writeUInt32LE(keyPart.length, 0);
  out.set(keyPart, 4);
  out.writeUInt16LE(nums.length, at);
  for (let i = 0; i < nums.length; i++) out.writeDoubleLE(nums[i] as number, at + 2 + i * 8);
  if (objsPart) out.set(objsPart, at + 2 + nums.length * 8);
  return out;
}

/** Where the parts of a stored group value lie (byte offsets), as `groupLayout` last read them. */
export interface GroupLayout {
  /** The key part is `[4, keyEnd)`. */
  keyEnd: number;
  /** Numeric states: `width` f64s from `numsAt`. */
  width: number;
  numsAt: number;
  /** The object states (msgpack) are `[objsAt, value.length)`, absent when equal. */
  objsAt: number;
}

const LAYOUT: GroupLayout = { keyEnd: 0, width: 0, numsAt: 0, objsAt: 0 };

/** Reads the layout of a stored group value (see `groupValue`) into one shared object: no allocation per group. */
export function groupLayout(value: Buffer): GroupLayout {
  LAYOUT.keyEnd = 4 + value.readUInt32LE(0);
  LAYOUT.width = value.readUInt16LE(LAYOUT.keyEnd);
  LAYOUT.numsAt = LAYOUT.keyEnd + 2;
  LAYOUT.objsAt = LAYOUT.numsAt + LAYOUT.width * 8;
  return LAYOUT;
}

/** The key part of a stored group value (bytes, not decoded). */
export function groupKeyPart(value: Buffer): Buffer {
  return value.subarray(4, groupLayout(value).keyEnd);
}

/** Decodes a stored group value. */
export function decodeGroup(value: Buffer): { keys: unknown; nums: number[]; objs: unknown[] | null } {
  const { keyEnd, width, numsAt, objsAt } = groupLayout(value);
  const keys = packr.unpack(value, { start: 4, end: keyEnd }) as unknown;
  const nums = new Array<number>(width);
  for (let i = 0; i < width; i++) nums[i] = value.readDoubleLE(numsAt + i * 8);
  const objs = objsAt < value.length ? packr.unpack(value, { start: objsAt, end: value.length }) as unknown[] : null;
  return { keys, nums, objs };
}

/** Decodes the msgpack value at `bytes[start .. end)`. */
export function unpackStored(bytes: Uint8Array, start: number, end: number): unknown {
  return packr.unpack(bytes, { start, end }) as unknown;
}
