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
import { groupKeyPart, groupValue, openStateEnv, packr } from './lmdb-env.js';

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

/** Keys of a `clear` (every key under the prefix) or `dropBlocks` (blocks ending at or below `below`). */
function keysIn(op: Extract<StateOp, { op: 'clear' | 'dropBlocks' }>): StoreKey[] {
  const out: StoreKey[] = [];
  const at = op.prefix.length;
  for (const key of env.dbs[op.db].getKeys({ start: op.prefix })) {
    if (!hasPrefix(key, op.prefix)) break;
    if (op.op === 'dropBlocks') {
      const first = key[at] as number;
      if (first >= op.below) break;
      if (first + (key[at + 1] as number) > op.below) continue;
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
    case 'clear': case 'dropBlocks': {
      let n = 0;
      for (const key of keysIn(op)) { env.dbs[op.db].removeSync(key); n += keyBytes(key); }
      return n;
    }
    case 'groups': {
      let n = 0;
      const w = op.width;
      const nums: number[] = new Array<number>(w);
      for (let i = 0; i < op.slots.length; i++) {
        const key: StoreKey = [op.metric, op.windowStart, op.slots[i] as number];
        let keyPart: Uint8Array;
        const keys = op.keys[i];
        if (keys === null || keys === undefined) {
          const stored = env.dbs.groups.getBinary(key);
          if (stored === undefined) throw new Error(`group ${JSON.stringify(key)} changed but was never stored`);
          keyPart = Buffer.from(groupKeyPart(stored)); // copy: the stored bytes are only valid until the next write
        } else {
          keyPart = packr.pack(keys);
        }
        for (let k = 0; k < w; k++) nums[k] = op.nums[i * w + k] as number;
        const value = groupValue(keyPart, packr.pack([nums, op.objs ? op.objs[i] : null]));
        env.dbs.groups.putSync(key, value);
        n += value.length + keyBytes(key);
      }
      return n;
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
