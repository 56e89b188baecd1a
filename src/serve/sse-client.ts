/**
 * One Server-Sent Events client's outgoing side, bounded by bytes (WHATWG HTML, "Server-sent
 * events"; the flow control is Node's writable-stream backpressure).
 *
 * - Frames go to the socket while it takes them (`res.write` until it asks for 'drain'); after
 *   that they wait in a queue, written as 'drain' allows, so a replay of the resume log is
 *   delivered to a client that reads, however long it is.
 * - Bound: the bytes the socket holds plus the queue may not pass `budgetBytes`. A client that
 *   falls that far behind loses the queue (never more than the budget is held per client) and
 *   skips frames until its socket drains; then it gets `event: reset` (refetch the rows, then
 *   carry on live) before anything else. Counted as `behind`.
 * - A client whose socket has not drained for `stallMs` while it is behind never reads: it is
 *   dropped (socket destroyed), counted as `stalled`.
 *
 * Memory per client: at most `budgetBytes` of frames plus the socket's own buffer.
 */
import type { ServerResponse } from 'node:http';

export interface SseClientOptions {
  /** Most bytes held for the client (socket buffer + queue) before it is reset (bytes). */
  readonly budgetBytes: number;
  /** How long a client may stay behind without draining before it is dropped (ms). */
  readonly stallMs: number;
  /** The reset frame a client that fell behind gets when it drains. */
  readonly resetFrame: () => string;
  /** The client fell behind (`behind`: it gets a reset when it drains), or did not drain for `stallMs` (`stalled`: the owner closes it with `close(true)`; it is closed anyway after the call). */
  readonly onEvent: (what: 'behind' | 'stalled') => void;
}

export class SseClient {
  readonly #res: ServerResponse;
  readonly #opts: SseClientOptions;
  #queue: string[] = [];
  #queued = 0;
  /** Set while the client is behind: frames are skipped until it drains, then it is reset. */
  #behindSince: number | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(res: ServerResponse, opts: SseClientOptions) {
    this.#res = res;
    this.#opts = opts;
    res.on('drain', () => this.#drain());
  }

  /** True once the client is behind (frames are skipped until it drains and is reset). */
  get behind(): boolean { return this.#behindSince !== undefined; }

  /** Sends a frame (text of one or more SSE fields ending in a blank line), or queues or skips it. */
  send(frame: string): void {
    if (this.#closed) return;
    if (this.#behindSince !== undefined) return;
    if (this.#queue.length === 0 && !this.#res.writableNeedDrain) {
      this.#res.write(frame);
      return;
    }
    if (this.#res.writableLength + this.#queued + frame.length > this.#opts.budgetBytes) {
      this.#fallBehind();
      return;
    }
    this.#queue.push(frame);
    this.#queued += frame.length;
  }

  #fallBehind(): void {
    this.#queue = [];
    this.#queued = 0;
    this.#behindSince = Date.now();
    this.#opts.onEvent('behind');
    this.#stallTimer = setTimeout(() => {
      if (this.#closed || this.#behindSince === undefined) return;
      this.#opts.onEvent('stalled');
      this.close(true);
    }, this.#opts.stallMs);
    this.#stallTimer.unref();
  }

  #drain(): void {
    if (this.#closed) return;
    if (this.#behindSince !== undefined) {
      clearTimeout(this.#stallTimer);
      this.#behindSince = undefined;
      this.#res.write(this.#opts.resetFrame());
    }
    while (this.#queue.length > 0 && !this.#res.writableNeedDrain) {
      const frame = this.#queue.shift() as string;
      this.#queued -= frame.length;
      this.#res.write(frame);
    }
  }

  /** Ends the stream (`drop`: destroys the socket, for a client that does not read). */
  close(drop = false): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#stallTimer);
    this.#queue = [];
    this.#queued = 0;
    if (drop) this.#res.destroy(); else this.#res.end();
  }
}
