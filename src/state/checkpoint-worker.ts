/**
 * The state store's writer thread. It receives a checkpoint's changes in chunks while the
 * processing thread goes on, packs them (msgpack) and, on `commit`, applies every chunk
 * received since the last successful commit in one LMDB write transaction, so a checkpoint's
 * state and offsets become durable together or not at all. A failed commit keeps its chunks;
 * they go with the next commit (each chunk holds whole values as of its checkpoint, so applying
 * an older checkpoint's changes before a newer one's gives the newer state).
 *
 * Messages in: `{ t: 'ops', ops: StateOp[] }`, `{ t: 'commit', id }`. Out: `'ready'`,
 * `{ id, bytes, ops, ms }` after a commit, `{ id, error }` when it failed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { hasPrefix, type StateOp, type StoreKey } from './layout.js';
import { openStateEnv, packr } from './lmdb-env.js';

export interface WriterInit { readonly path: string }
export type WriterMessage = { readonly t: 'ops'; readonly ops: readonly StateOp[] } | { readonly t: 'commit'; readonly id: number };
export type WriterReply = 'ready' | { readonly id: number; readonly bytes: number; readonly ops: number; readonly ms: number } | { readonly id: number; readonly error: string };

const port = parentPort;
if (!port) throw new Error('checkpoint-worker runs as a worker thread');
const env = openStateEnv((workerData as WriterInit).path);
let pending: (readonly StateOp[])[] = [];

/** Approximate key bytes (ordered-binary: string bytes or 9 bytes per number, plus separators). */
function keyBytes(key: StoreKey): number {
  let n = 0;
  for (const k of key) n += typeof k === 'string' ? Buffer.byteLength(k) + 1 : 9;
  return n;
}

function keysIn(op: Extract<StateOp, { op: 'clear' }>): StoreKey[] {
  const out: StoreKey[] = [];
  const at = op.prefix.length;
  for (const key of env.dbs[op.db].getKeys({ start: op.prefix })) {
    if (!hasPrefix(key, op.prefix)) break;
    if (op.below !== undefined) {
      const next = key[at];
      if (typeof next !== 'number' || next >= op.below) break;
    }
    out.push(key);
  }
  return out;
}

/** Applies one op inside the open write transaction; returns the bytes it wrote. */
function apply(op: StateOp): number {
  switch (op.op) {
    case 'put': {
      const buf = packr.pack(op.value);
      env.dbs[op.db].putSync(op.key, buf);
      return buf.length + keyBytes(op.key);
    }
    case 'del':
      env.dbs[op.db].removeSync(op.key);
      return keyBytes(op.key);
    case 'clear': {
      let n = 0;
      for (const key of keysIn(op)) { env.dbs[op.db].removeSync(key); n += keyBytes(key); }
      return n;
    }
    case 'group': {
      let keys = op.keys;
      if (keys === undefined) {
        const stored = env.dbs.groups.getBinary(op.key);
        if (stored === undefined) throw new Error(`group ${JSON.stringify(op.key)} changed but was never stored`);
        keys = (packr.unpack(stored) as unknown[])[0];
      }
      const buf = packr.pack([keys, op.nums, op.objs]);
      env.dbs.groups.putSync(op.key, buf);
      return buf.length + keyBytes(op.key);
    }
  }
}

port.on('message', (msg: WriterMessage) => {
  if (msg.t === 'ops') { pending.push(msg.ops); return; }
  const started = performance.now();
  let bytes = 0;
  let count = 0;
  try {
    env.root.transactionSync(() => {
      for (const chunk of pending) for (const op of chunk) { bytes += apply(op); count++; }
    });
    pending = [];
    port.postMessage({ id: msg.id, bytes, ops: count, ms: performance.now() - started } satisfies WriterReply);
  } catch (err) {
    port.postMessage({ id: msg.id, error: (err as Error).message } satisfies WriterReply);
  }
});
port.postMessage('ready' satisfies WriterReply);
