/**
 * The state store of `pitwall run`: an LMDB environment in `<state dir>/state.lmdb`, written
 * by its own worker thread (checkpoint-worker.ts) and read by the processing thread (restore,
 * dedup lookups of ids already checkpointed).
 *
 * A checkpoint is `send(ops)` then `commit()`. `send` pulls changes from a lazy iterable in
 * slices of at most {@link SLICE_OPS} operations or {@link SLICE_MS} ms and yields to the event
 * loop between slices, so handing a large checkpoint over never stalls processing or serving
 * for long. Bound: at most one checkpoint's chunks are in flight (callers await `send` and
 * `commit`), and a failed commit's chunks stay with the writer until the next commit.
 *
 * Errors: PW_STATE_STORE when the environment cannot be opened or the writer thread fails.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { ExecutionError } from '../errors.js';
import type { WriterInit, WriterMessage, WriterReply } from './checkpoint-worker.js';
import { opWeight, type GroupChunk, type KeyChange, type StateOp, type StateReader } from './layout.js';
import { openStateEnv, readerOf, type StateEnv } from './lmdb-env.js';
import { workerExecArgv } from '../util/worker-argv.js';

const WORKER_URL = import.meta.url.endsWith('.ts')
  ? new URL('./checkpoint-worker-entry.mjs', import.meta.url)
  : new URL('./checkpoint-worker.js', import.meta.url);

/** Most work per message to the writer: operations, or groups and ids inside packed ones. */
export const SLICE_OPS = 4096;
/** Longest time (ms) spent producing one slice before yielding to the event loop. */
export const SLICE_MS = 4;

/** What a commit wrote. */
export interface CommitInfo {
  /** Bytes written (packed values and keys). */
  readonly bytes: number;
  /** Operations applied. */
  readonly ops: number;
  /** Time the writer thread spent in the transaction (ms). */
  readonly ms: number;
  /** With `commit({ changelog: true })`: every key written (its stored bytes) or deleted (null). */
  readonly changes?: readonly KeyChange[];
}

/** This machine's kernel boot id (Linux; shared by its containers), else its hostname. */
function machineId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || hostname();
  } catch {
    return hostname();
  }
}

export class StateStore {
  readonly path: string;
  readonly #env: StateEnv;
  readonly reader: StateReader;
  #worker: Worker | undefined;
  #ready: Promise<void> | undefined;
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve: (c: CommitInfo) => void; reject: (e: Error) => void }>();
  /** Set when the writer thread died: every later commit fails with it. */
  #broken: Error | undefined;

  constructor(stateDir: string) {
    mkdirSync(stateDir, { recursive: true });
    this.path = join(stateDir, 'state.lmdb');
    try {
      this.#env = openStateEnv(this.path);
    } catch (err) {
      throw new ExecutionError('PW_STATE_STORE', `cannot open the state store ${this.path} (${(err as Error).message}); check the --state directory (permissions, free space) or move it away to start fresh`, { cause: err });
    }
    this.reader = { ...readerOf(this.#env), groupChunks: (metric: string) => this.#groupChunks(metric) };
    this.#inode = this.#dataInode();
  }

  /** The data file's inode when opened: a store moved, removed or replaced under a running engine is noticed. */
  readonly #inode: number | undefined;

  #dataInode(): number | undefined {
    try {
      return statSync(this.path, { throwIfNoEntry: false })?.ino; // lmdb keeps the data in this one file (and `<path>-lock`)
    } catch {
      return undefined; // e.g. ENOTDIR: the state directory was replaced by a file
    }
  }

  /**
   * Identifies this store's file on this machine (`machine:device:inode`): every group member
   * that opens the same state directory sees the same id, members elsewhere another. The
   * machine is the kernel's boot id (Linux), which containers sharing the directory through a
   * volume on one host see alike (their hostnames differ); elsewhere the hostname.
   */
  get identity(): string {
    const st = statSync(this.path, { throwIfNoEntry: false });
    return `${machineId()}:${st?.dev ?? 0}:${st?.ino ?? 0}`;
  }

  /** Set when the writer thread stopped: restart to resume from the last commit. */
  get broken(): Error | undefined { return this.#broken; }

  /** True when no checkpoint was ever committed here. */
  get empty(): boolean { return this.reader.get('meta', ['format']) === undefined; }

  #start(): Promise<void> {
    if (this.#ready) return this.#ready;
    const execArgv = workerExecArgv();
    const worker = new Worker(WORKER_URL, { workerData: { path: this.path } satisfies WriterInit, name: 'pitwall-state', execArgv });
    this.#worker = worker;
    this.#ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (reply: WriterReply) => {
        if (reply === 'ready') { resolve(); worker.unref(); return; }
        const scan = this.#scans.get(reply.id);
        if (scan) {
          if ('chunk' in reply) scan.chunks.push(reply.chunk);
          else if ('error' in reply) scan.error = new ExecutionError('PW_STATE_STORE', `reading the state store failed: ${reply.error}`);
          scan.wake?.();
          return;
        }
        if ('chunk' in reply) return; // the end of a scan already finished
        const w = this.#waiting.get(reply.id);
        if (!w) return;
        this.#waiting.delete(reply.id);
        if (this.#waiting.size === 0) worker.unref();
        if ('error' in reply) {
          w.reject(reply.fenced
            ? new ExecutionError('PW_STATE_FENCED', `another group member took over what this checkpoint would write (${reply.error}); this member drops its unsaved work and reloads what it owns`)
            : new ExecutionError('PW_STATE_STORE', `state store commit failed: ${reply.error}; the previous checkpoint stays the recovery point`));
          return;
        }
        // Reads on this thread must see the commit before anyone relies on it (dedup drops the
        // full ids it committed and looks them up in the store from then on).
        this.#env.root.resetReadTxn();
        w.resolve(reply);
      });
      const fail = (err: Error): void => {
        this.#broken ??= new ExecutionError('PW_STATE_STORE', `the state store's writer thread stopped (${err.message}); restart pitwall to resume from the last checkpoint`, { cause: err });
        reject(this.#broken);
        for (const w of this.#waiting.values()) w.reject(this.#broken);
        this.#waiting.clear();
        for (const scan of this.#scans.values()) { scan.error = this.#broken; scan.wake?.(); }
      };
      worker.on('error', fail);
      worker.on('exit', (code) => { if (this.#worker === worker) fail(new Error(`exit code ${code}`)); });
    });
    this.#ready.catch(() => undefined);
    return this.#ready;
  }

  readonly #scans = new Map<number, { chunks: (GroupChunk | undefined)[]; wake: (() => void) | undefined; error: Error | undefined }>();

  /**
   * The groups of `metric`, read and flattened by the store's thread a few chunks ahead of the
   * caller (each chunk taken asks for the next: at most 3 wait), so a restore decodes and
   * rebuilds on this thread while the other reads.
   */
  async *#groupChunks(metric: string): AsyncGenerator<GroupChunk> {
    await this.#start();
    const worker = this.#worker as Worker;
    const id = this.#nextId++;
    const scan: { chunks: (GroupChunk | undefined)[]; wake: (() => void) | undefined; error: Error | undefined } = { chunks: [], wake: undefined, error: undefined };
    this.#scans.set(id, scan);
    worker.ref();
    worker.postMessage({ t: 'scan', id, metric } satisfies WriterMessage);
    try {
      for (;;) {
        while (scan.chunks.length === 0 && !scan.error) await new Promise<void>((resolve) => { scan.wake = resolve; });
        if (scan.error) throw scan.error;
        const chunk = scan.chunks.shift();
        if (chunk === undefined) return;
        worker.postMessage({ t: 'more', id } satisfies WriterMessage);
        yield chunk;
      }
    } finally {
      this.#scans.delete(id);
      if (this.#waiting.size === 0 && this.#scans.size === 0) worker.unref();
    }
  }

  /** Hands `ops` to the writer in slices, yielding to the event loop between them. */
  async send(ops: Iterable<StateOp>): Promise<void> {
    await this.#start();
    const worker = this.#worker as Worker;
    let slice: StateOp[] = [];
    let weight = 0;
    let sliceStart = performance.now();
    for (const op of ops) {
      if (this.#broken) throw this.#broken;
      slice.push(op);
      weight += opWeight(op);
      if (weight >= SLICE_OPS || ((slice.length & 63) === 0 && performance.now() - sliceStart > SLICE_MS)) {
        worker.postMessage({ t: 'ops', ops: slice } satisfies WriterMessage);
        slice = [];
        weight = 0;
        await yieldToLoop();
        sliceStart = performance.now();
      }
    }
    if (slice.length > 0) worker.postMessage({ t: 'ops', ops: slice } satisfies WriterMessage);
  }

  /** Drops the operations sent since the last successful commit (they will never be committed). */
  async discard(): Promise<void> {
    await this.#start();
    (this.#worker as Worker).postMessage({ t: 'discard' } satisfies WriterMessage);
  }

  /** Makes reads on this thread see every transaction committed so far (by any thread or process sharing the store). */
  refresh(): void { this.#env.root.resetReadTxn(); }

  /**
   * Commits everything sent since the last successful commit in one transaction; with
   * `changelog`, the reply lists every key it changed (for a changelog topic).
   */
  async commit(opts: { changelog?: boolean } = {}): Promise<CommitInfo> {
    await this.#start();
    if (this.#broken) throw this.#broken;
    // LMDB keeps writing to an open file after its directory is removed: such a commit would
    // "succeed" into a file no restart will find. Refuse it instead.
    const inode = this.#dataInode();
    if (inode === undefined || inode !== this.#inode) {
      throw new ExecutionError('PW_STATE_STORE', `the state store ${this.path} was removed or replaced while pitwall ran; checkpoints cannot be written there: restore the state directory or restart pitwall (it resumes from the last checkpoint it can find)`);
    }
    const worker = this.#worker as Worker;
    const id = this.#nextId++;
    const done = new Promise<CommitInfo>((resolve, reject) => this.#waiting.set(id, { resolve, reject }));
    worker.ref();
    worker.postMessage({ t: 'commit', id, ...(opts.changelog ? { changelog: true } : {}) } satisfies WriterMessage);
    return done;
  }

  /** Stops the writer (uncommitted changes are dropped: the last commit is the recovery point). */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) await worker.terminate();
    await this.#env.root.close();
  }
}

/**
 * The last checkpoint committed to the store under `stateDir`: `{ takenAt: ISO time, seq,
 * offsets }` with, per stream, the next offset of every partition it covers; undefined when
 * there is none. Safe while a `pitwall run` writes the store (LMDB readers see the last
 * committed transaction).
 */
export async function lastCheckpoint(stateDir: string): Promise<{ takenAt: string; seq: number; offsets: Record<string, [number, number][]> } | undefined> {
  const path = join(stateDir, 'state.lmdb');
  if (!existsSync(path)) return undefined;
  const env = openStateEnv(path);
  try {
    const reader = readerOf(env);
    const at = reader.get('meta', ['checkpoint']) as { takenAt: string; seq: number } | undefined;
    if (!at) return undefined;
    const offsets: Record<string, [number, number][]> = {};
    for (const { key, value } of reader.scan('meta', ['partition'])) {
      const offset = (value as { offset: number | null }).offset;
      if (offset !== null) (offsets[key[1] as string] ??= []).push([key[2] as number, offset]);
    }
    return { ...at, offsets };
  } finally {
    await env.root.close();
  }
}
