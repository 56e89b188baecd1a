/**
 * Where archive segments are encoded and written: by default one worker thread, so building
 * Arrow batches, Parquet encoding (zstd, in WebAssembly) and fsync never run on the thread that
 * processes events; with `threads: 0`, on the calling thread (synchronously inside `submit`).
 *
 * The worker starts on the first job and holds the process open only while jobs are in
 * flight. If it dies, every job in flight is rejected (the archive writer keeps their data and
 * retries them) and the next job starts a new worker.
 */
import { Worker } from 'node:worker_threads';
import { SegmentContext, type SegmentJob, type SegmentReply, type SegmentWriterInit } from './segment-job.js';

interface InFlight { resolve(bytes: number): void; reject(err: Error): void }

export class SegmentWriter {
  readonly #init: SegmentWriterInit;
  readonly #threads: 0 | 1;
  readonly #inFlight = new Map<number, InFlight>();
  #worker: Worker | undefined;
  #inline: SegmentContext | undefined;
  /** Workers started so far (1 unless one died). */
  workersStarted = 0;

  constructor(init: SegmentWriterInit, threads: 0 | 1 = 1) {
    this.#init = init;
    this.#threads = threads;
  }

  get inFlight(): number { return this.#inFlight.size; }

  /** Writes the job's segment; resolves with its size in bytes. */
  submit(job: SegmentJob): Promise<number> {
    if (this.#threads === 0) {
      try {
        this.#inline ??= new SegmentContext(this.#init);
        return Promise.resolve(this.#inline.run(job));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    const worker = this.#start();
    return new Promise<number>((resolve, reject) => {
      this.#inFlight.set(job.id, { resolve, reject });
      worker.ref();
      worker.postMessage(job);
    });
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./segment-worker-entry.mjs', import.meta.url), { workerData: this.#init, name: 'pitwall-archive' });
    this.workersStarted++;
    worker.on('message', (reply: SegmentReply) => {
      const waiting = this.#inFlight.get(reply.id);
      if (!waiting) return;
      this.#inFlight.delete(reply.id);
      if (this.#inFlight.size === 0) worker.unref();
      if ('error' in reply) waiting.reject(new Error(reply.error));
      else waiting.resolve(reply.bytes);
    });
    const fail = (err: Error): void => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      const waiting = [...this.#inFlight.values()];
      this.#inFlight.clear();
      for (const w of waiting) w.reject(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the archive worker exited (code ${code})`)));
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  /** Stops the worker (jobs still in flight are rejected). */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    await worker.terminate();
  }
}
