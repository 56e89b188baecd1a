/**
 * Where archive segments are encoded and written: by default one worker thread, so building
 * Arrow batches, Parquet encoding (zstd, in WebAssembly) and fsync never run on the thread that
 * processes events; with `threads: 0`, on the calling thread (synchronously inside `submit`).
 *
 * The worker starts with `start()` (the archive writer calls it when opened, so its start-up —
 * loading modules, compiling the Parquet encoder — is paid before events flow) or else on the
 * first message, and holds the process open only while jobs are in flight. It holds the chunks of unwritten events segments, so if it dies those events are no
 * longer anywhere in this process: `lost` is then set for good, every job in flight is
 * rejected, and the archive writer fails every flush from then on — no checkpoint moves past
 * the lost events, and a restart archives them again from the input.
 */
import { Worker } from 'node:worker_threads';
import { SegmentContext, type ChunkMessage, type SegmentJob, type SegmentReply, type SegmentResult, type SegmentWriterInit } from './segment-job.js';
import { workerExecArgv } from '../util/worker-argv.js';

/**
 * The worker's entry: the compiled `segment-worker.js` beside this module when pitwall runs from
 * dist/ (always, for users); when this module itself is TypeScript source (tests and benchmarks
 * under vitest or tsx), a small entry that registers tsx in the worker first, since a worker does
 * not inherit its parent's loader.
 */
const WORKER_URL = import.meta.url.endsWith('.ts')
  ? new URL('./segment-worker-entry.mjs', import.meta.url)
  : new URL('./segment-worker.js', import.meta.url);

interface InFlight { resolve(result: SegmentResult): void; reject(err: Error): void }

export class SegmentWriter {
  readonly #init: SegmentWriterInit;
  readonly #threads: 0 | 1;
  readonly #inFlight = new Map<number, InFlight>();
  #worker: Worker | undefined;
  #inline: SegmentContext | undefined;
  /** Set when a worker died holding chunks: those events are gone from this process. */
  lost: Error | undefined;

  constructor(init: SegmentWriterInit, threads: 0 | 1 = 1) {
    this.#init = init;
    this.#threads = threads;
  }

  /** Hands over a chunk of an events segment (kept by the segment writer until the segment is written). */
  send(message: ChunkMessage): void {
    if (this.#threads === 0) {
      this.#context().chunk(message);
      return;
    }
    this.#start().postMessage(message);
    this.#holds = true;
  }

  /** Writes the job's segment; resolves with its size in bytes and the events it had to leave out. */
  submit(job: SegmentJob): Promise<SegmentResult> {
    if (this.lost) return Promise.reject(this.lost);
    if (this.#threads === 0) {
      try {
        return Promise.resolve(this.#context().run(job));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    const worker = this.#start();
    return new Promise<SegmentResult>((resolve, reject) => {
      this.#inFlight.set(job.id, { resolve, reject });
      worker.ref();
      worker.postMessage(job);
    });
  }

  /** The in-thread context (`threads: 0`). */
  #context(): SegmentContext {
    this.#inline ??= new SegmentContext(this.#init);
    return this.#inline;
  }

  /** Starts the worker; resolves when it is ready (modules loaded, encoder warmed up), rejects if it cannot start. */
  start(): Promise<void> {
    if (this.#threads === 0) return Promise.resolve();
    this.#start();
    return this.#ready;
  }

  #ready: Promise<void> = Promise.resolve();
  /** Whether the current worker holds chunks (then its death loses events). */
  #holds = false;

  #start(): Worker {
    if (this.#worker) return this.#worker;
    // Only the flags a worker accepts (a parent started with --max-old-space-size or `node -e`
    // would otherwise start none).
    const execArgv = workerExecArgv();
    const worker = new Worker(WORKER_URL, { workerData: this.#init, name: 'pitwall-archive', execArgv });
    this.#holds = false;
    let started = false;
    let ready: () => void = () => undefined;
    let failed: (err: Error) => void = () => undefined;
    this.#ready = new Promise<void>((resolve, reject) => { ready = resolve; failed = reject; });
    this.#ready.catch(() => undefined); // also reported by every job sent to this worker
    worker.on('message', (reply: SegmentReply | 'ready') => {
      if (reply === 'ready') {
        started = true;
        if (this.#inFlight.size === 0) worker.unref();
        ready();
        return;
      }
      const waiting = this.#inFlight.get(reply.id);
      if (!waiting) return;
      this.#inFlight.delete(reply.id);
      if (this.#inFlight.size === 0) worker.unref();
      if ('error' in reply) waiting.reject(new Error(reply.error));
      else waiting.resolve({ bytes: reply.bytes, rejected: reply.rejected });
    });
    const fail = (err: Error): void => {
      if (!started) failed(new Error(`the archive's worker thread did not start: ${err.message}`));
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      if (this.#holds) this.lost ??= new Error(`the archive's worker thread stopped (${err.message}); events it held are not archived — restart pitwall to archive them again from the input`);
      const waiting = [...this.#inFlight.values()];
      this.#inFlight.clear();
      for (const w of waiting) w.reject(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the archive worker exited (code ${code})`)));
    // Held open until ready (someone may be awaiting it), then only while jobs are in flight.
    this.#worker = worker;
    return worker;
  }

  /** Stops the worker (jobs still in flight are rejected). */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = undefined;
    for (const w of this.#inFlight.values()) w.reject(new Error('the archive writer was closed'));
    this.#inFlight.clear();
    await worker.terminate();
  }
}
