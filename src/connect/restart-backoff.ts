/**
 * Restart delays for a supervised process: exponential (initial, doubling, capped), and back
 * to the initial delay once the process had stayed up long enough to count as healthy.
 */

export interface BackoffPolicy {
  /** Delay before the first restart. */
  readonly initialMs: number;
  /** Cap on the delay. */
  readonly maxMs: number;
  /** A process that ran at least this long before exiting restarts after `initialMs` again. */
  readonly resetAfterMs: number;
}

/** 0.5 s doubling to 30 s; reset after a minute of healthy running. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };

export class RestartBackoff {
  readonly #policy: BackoffPolicy;
  /** Consecutive quick failures so far. */
  #attempt = 0;

  constructor(policy: Partial<BackoffPolicy> = {}) {
    this.#policy = { ...DEFAULT_BACKOFF, ...policy };
  }

  /** The delay before restarting a process that ran for `ranForMs`; advances the sequence. */
  next(ranForMs: number): number {
    if (ranForMs >= this.#policy.resetAfterMs) this.#attempt = 0;
    const delay = Math.min(this.#policy.maxMs, this.#policy.initialMs * 2 ** this.#attempt);
    // Stop growing the exponent once capped, so it never overflows on a long crash loop.
    if (delay < this.#policy.maxMs) this.#attempt++;
    return delay;
  }
}
