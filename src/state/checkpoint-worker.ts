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
import { hasPrefix, type DbName, type GroupChunk, type KeyChange, type StateOp, type StoreKey } from './layout.js';
import { lowerThreadPriority } from '../util/thread-priority.js';
import { groupKeyPart, groupLayout, groupValue, openStateEnv, packr } from './lmdb-env.js';

export interface WriterInit { readonly path: string }
export type WriterMessage =
  | { readonly t: 'ops'; readonly ops: readonly StateOp[] }
  /** `changelog`: reply with every key the transaction wrote or deleted (state/changelog.ts). */
  | { readonly t: 'commit'; readonly id: number; readonly changelog?: boolean }
  /** Drop the operations sent since the last commit (a group member reloading what it owns). */
  | { readonly t: 'discard' }
  /** Start reading a metric's groups (`scan`), or send one more chunk of scan `id` (`more`). */
  | { readonly t: 'scan'; readonly id: number; readonly metric: string }
  | { readonly t: 'more'; readonly id: number };
export type WriterReply =
  | 'ready'
  | { readonly id: number; readonly bytes: number; readonly ops: number; readonly ms: number; readonly changes?: readonly KeyChange[] }
  | { readonly id: number; readonly error: string; readonly fenced?: boolean }
  /** A chunk of scan `id`; `chunk` undefined when the scan is complete. */
  | { readonly id: number; readonly chunk: GroupChunk | undefined };

/** Entries per group chunk, and chunks sent ahead of the reader (the reader asks for each next one). */
const CHUNK_ENTRIES = 16_384;
const CHUNKS_AHEAD = 3;

const port = parentPort;
if (!port) throw new Error('checkpoint-worker runs as a worker thread');
// Below the processing thread: on few cores, writing a checkpoint must not slow processing.
lowerThreadPriority(10);
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

/** While a commit asks for its changes: the last value written per key (null: deleted), by db and key. */
let recording: Map<string, KeyChange> | undefined;

function record(db: DbName, key: StoreKey, value: Buffer | null): void {
  // Copied: packed buffers are reused by the next pack, stored ones by the next write.
  recording?.set(`${db}\u0000${JSON.stringify(key)}`, { db, key, value: value === null ? null : new Uint8Array(value) });
}

/** A guard failed: another member owns what this transaction would write. */
class FencedError extends Error {}

/** Applies one op inside the open write transaction; returns the bytes it wrote. */
function apply(op: StateOp): number {
  switch (op.op) {
    case 'put': {
      const buf = packr.pack(op.value);
      env.dbs[op.db].putSync(op.key, buf);
      record(op.db, op.key, buf);
      return buf.length + keyBytes(op.key);
    }
    case 'del':
      env.dbs[op.db].removeSync(op.key);
      record(op.db, op.key, null);
      return keyBytes(op.key);
    case 'raw':
      if (op.value === null) env.dbs[op.db].removeSync(op.key); else env.dbs[op.db].putSync(op.key, Buffer.from(op.value.buffer, op.value.byteOffset, op.value.byteLength));
      return keyBytes(op.key) + (op.value?.length ?? 0);
    case 'guard': {
      const buf = env.dbs[op.db].getBinary(op.key);
      const found: unknown = buf === undefined ? undefined : packr.unpack(buf);
      if (JSON.stringify(found) !== JSON.stringify(op.equals)) throw new FencedError(`${JSON.stringify(op.key)} holds ${JSON.stringify(found)}, not ${JSON.stringify(op.equals)}`);
      return 0;
    }
    case 'clear': case 'dropBlocks': {
      let n = 0;
      for (const key of keysIn(op)) { env.dbs[op.db].removeSync(key); record(op.db, key, null); n += keyBytes(key); }
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
        const value = groupValue(keyPart, nums, op.objs ? packr.pack(op.objs[i]) : null);
        env.dbs.groups.putSync(key, value);
        record('groups', key, value);
        n += value.length + keyBytes(key);
      }
      return n;
    }
  }
}

/** Open scans: their iterators over the `groups` database (each in its own read snapshot). */
const scans = new Map<number, Iterator<{ key: StoreKey; value: Buffer }>>();

/** `buf` with room for `more` bytes after its first `used` (grown to at least twice its size when short). */
function room(buf: Buffer, used: number, more: number): Buffer {
  if (used + more <= buf.length) return buf;
  const b = Buffer.allocUnsafe(Math.max(buf.length * 2, used + more, 1 << 16));
  buf.copy(b, 0, 0, used);
  return b;
}

/** Reads the next chunk of scan `id` into flat arrays (see GroupChunk); undefined at the end. */
function nextChunk(id: number, metric: string): GroupChunk | undefined {
  const it = scans.get(id);
  if (!it) return undefined;
  const windowStarts = new Float64Array(CHUNK_ENTRIES);
  const slots = new Int32Array(CHUNK_ENTRIES);
  const keyEnds = new Int32Array(CHUNK_ENTRIES);
  const numEnds = new Int32Array(CHUNK_ENTRIES);
  const objEnds = new Int32Array(CHUNK_ENTRIES);
  let keyBytes: Buffer = Buffer.allocUnsafe(1 << 18);
  let objBytes: Buffer = Buffer.allocUnsafe(0);
  let nums = new Float64Array(CHUNK_ENTRIES * 4);
  let k = 0; let nn = 0; let o = 0; let n = 0;
  for (; n < CHUNK_ENTRIES; n++) {
    const next = it.next();
    if (next.done || !hasPrefix(next.value.key, [metric])) { scans.delete(id); break; }
    const { key, value } = next.value;
    windowStarts[n] = key[1] as number;
    slots[n] = key[2] as number;
    const { keyEnd, width, numsAt, objsAt } = groupLayout(value);
    keyBytes = room(keyBytes, k, keyEnd - 4);
    value.copy(keyBytes, k, 4, keyEnd);
    k += keyEnd - 4;
    keyEnds[n] = k;
    if (nn + width > nums.length) { const b = new Float64Array(Math.max(nums.length * 2, nn + width)); b.set(nums); nums = b; }
    for (let i = 0; i < width; i++) nums[nn++] = value.readDoubleLE(numsAt + i * 8);
    numEnds[n] = nn;
    if (objsAt < value.length) {
      objBytes = room(objBytes, o, value.length - objsAt);
      value.copy(objBytes, o, objsAt);
      o += value.length - objsAt;
    }
    objEnds[n] = o;
  }
  if (n === 0) return undefined;
  return {
    windowStarts: windowStarts.slice(0, n), slots: slots.slice(0, n), keyBytes: new Uint8Array(keyBytes.subarray(0, k)), keyEnds: keyEnds.slice(0, n),
    nums: nums.slice(0, nn), numEnds: numEnds.slice(0, n), objBytes: new Uint8Array(objBytes.subarray(0, o)), objEnds: objEnds.slice(0, n),
  };
}

function sendChunk(id: number, metric: string): void {
  try {
    const chunk = nextChunk(id, metric);
    if (!chunk) scanMetric.delete(id);
    const transfer = chunk ? [chunk.windowStarts.buffer, chunk.slots.buffer, chunk.keyBytes.buffer, chunk.keyEnds.buffer, chunk.nums.buffer, chunk.numEnds.buffer, chunk.objBytes.buffer, chunk.objEnds.buffer] : [];
    port?.postMessage({ id, chunk } satisfies WriterReply, transfer as ArrayBuffer[]);
  } catch (err) {
    scans.delete(id);
    port?.postMessage({ id, error: (err as Error).message } satisfies WriterReply);
  }
}

const scanMetric = new Map<number, string>();

port.on('message', (msg: WriterMessage) => {
  if (msg.t === 'ops') { pending.push(msg.ops); return; }
  if (msg.t === 'discard') { pending = []; return; }
  if (msg.t === 'scan') {
    scans.set(msg.id, env.dbs.groups.getRange({ start: [msg.metric] })[Symbol.iterator]() as Iterator<{ key: StoreKey; value: Buffer }>);
    scanMetric.set(msg.id, msg.metric);
    for (let i = 0; i < CHUNKS_AHEAD; i++) sendChunk(msg.id, msg.metric);
    return;
  }
  if (msg.t === 'more') { const metric = scanMetric.get(msg.id); if (metric !== undefined) sendChunk(msg.id, metric); return; }
  const started = performance.now();
  let bytes = 0;
  let count = 0;
  recording = msg.changelog ? new Map() : undefined;
  try {
    env.root.transactionSync(() => {
      for (const chunk of pending) for (const op of chunk) { bytes += apply(op); count++; }
    });
    pending = [];
    const changes = recording ? [...recording.values()] : undefined;
    recording = undefined;
    port.postMessage({ id: msg.id, bytes, ops: count, ms: performance.now() - started, ...(changes ? { changes } : {}) } satisfies WriterReply);
  } catch (err) {
    recording = undefined;
    // A fenced transaction must never be retried: its operations are dropped.
    if (err instanceof FencedError) pending = [];
    port.postMessage({ id: msg.id, error: (err as Error).message, ...(err instanceof FencedError ? { fenced: true } : {}) } satisfies WriterReply);
  }
});
port.postMessage('ready' satisfies WriterReply);
