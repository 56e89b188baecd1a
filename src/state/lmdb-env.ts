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
  return {
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
  };
}
