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
        const split = 4 + value.readUInt32LE(0);
        const [nums, objs] = packr.unpack(value.subarray(split)) as [number[], unknown[] | null];
        yield { key, keys: packr.unpack(value.subarray(4, split)) as unknown, nums, objs };
      }
    },
  };
  return reader;
}

/** A group's stored value: the key part's length (u32 LE), the key part, the state part. */
export function groupValue(keyPart: Uint8Array, statePart: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + keyPart.length + statePart.length);
  out.writeUInt32LE(keyPart.length, 0);
  out.set(keyPart, 4);
  out.set(statePart, 4 + keyPart.length);
  return out;
}

/** The key part of a stored group value (bytes, not decoded). */
export function groupKeyPart(value: Buffer): Buffer {
  return value.subarray(4, 4 + value.readUInt32LE(0));
}
