/**
 * Calls one external lookup (`kind: lookup`) for a key: cache first, then the HTTP service
 * through a circuit breaker (opossum), at most `concurrency` calls at a time, each key called
 * once at a time (askers of a key being called share the call). Never throws: a failure,
 * a timeout, an open breaker or a bad answer is a fallback with its reason.
 *
 * - Timeout: a key is answered within the lookup's `timeout`, the wait for a call slot
 *   included: a call is aborted when it runs out (the socket is freed), and a key still
 *   waiting for a slot then falls back without a call.
 * - Breaker: opens when, over its rolling `window` (default 10 s), at least `volume_threshold` calls were made and
 *   `error_threshold` % of them failed (timeouts, network errors, HTTP statuses other than
 *   200 and 404, bad answers); while open, calls fall back at once; after `reset_timeout` it
 *   half-opens and lets one call through: success closes it, failure opens it again.
 * - 404 is an answer: the service has no row for the key (a join miss, not a fallback).
 * - Queue: calls waiting for a concurrency slot are at most the distinct keys of the events in
 *   flight (bounded by the enrichment stage's window), each at most `timeout`.
 */
import CircuitBreaker from 'opossum';
import type { LookupSpec, StreamDef } from '../../catalog/index.js';
import { InternalError } from '../../errors.js';
import { BadResponseError, rowOfAnswer, type FallbackReason, type LookupAnswer, type LookupRow } from './lookup-answer.js';
import { LookupCache } from './lookup-cache.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface LookupStats {
  /** Keys asked (one per event and lookup). */
  asked: number;
  cacheHits: number;
  /** HTTP requests sent. */
  requests: number;
  /** Requests that failed (counted by the breaker). */
  failures: number;
  /** Events that fell back, by reason (counted by the enrichment stage, per event; breaker_open without a request). */
  fallbacks: Record<FallbackReason, number>;
  /** Breaker transitions. */
  opened: number;
  halfOpened: number;
  closed: number;
  state: BreakerState;
  /** Latency of requests that got an answer (ms): sum, count and maximum. */
  latencyMsSum: number;
  latencyCount: number;
  latencyMsMax: number;
}

class HttpStatusError extends Error {}

export class LookupClient {
  readonly def: StreamDef;
  readonly stats: LookupStats = {
    asked: 0, cacheHits: 0, requests: 0, failures: 0,
    fallbacks: { breaker_open: 0, timeout: 0, http_status: 0, network: 0, bad_response: 0 },
    opened: 0, halfOpened: 0, closed: 0, state: 'closed', latencyMsSum: 0, latencyCount: 0, latencyMsMax: 0,
  };
  readonly #spec: LookupSpec;
  readonly #cache: LookupCache;
  readonly #breaker: CircuitBreaker<[string | number, number], LookupRow | null>;
  readonly #calling = new Map<string, Promise<LookupAnswer>>();
  readonly #waiting: { grant: () => void }[] = [];
  #active = 0;
  readonly #now: () => number;

  constructor(def: StreamDef, now: () => number = Date.now) {
    if (!def.lookup) throw new InternalError(`${def.name} is not an external lookup`);
    this.def = def;
    this.#spec = def.lookup;
    this.#now = now;
    this.#cache = new LookupCache(this.#spec.cacheTtlMs, this.#spec.cacheSize);
    this.#breaker = new CircuitBreaker((key: string | number, deadline: number) => this.#request(key, deadline), {
      timeout: false, // the request aborts itself at the lookup's timeout
      errorThresholdPercentage: this.#spec.errorThresholdPercent,
      volumeThreshold: this.#spec.volumeThreshold,
      resetTimeout: this.#spec.resetTimeoutMs,
      rollingCountTimeout: this.#spec.windowMs,
      rollingCountBuckets: 10,
    });
    this.#breaker.on('open', () => { this.stats.opened++; this.stats.state = 'open'; });
    this.#breaker.on('halfOpen', () => { this.stats.halfOpened++; this.stats.state = 'half_open'; });
    this.#breaker.on('close', () => { this.stats.closed++; this.stats.state = 'closed'; });
  }

  /**
   * The answer for `key`: the cache, the call already in flight for it, at once a `breaker_open`
   * fallback while the breaker is open (or half-open with its trial call taken), else a call to
   * the service. Resolves, never rejects.
   *
   * The open breaker is checked here, before opossum's `fire`, which would answer the same but
   * build an error and emit two events per event (a dead service at 60,000 events/s made that
   * the stream's main cost). Such short-circuited events are not counted as calls in the
   * breaker's rolling window: its error percentage is over the calls made (as Hystrix's health
   * counts leave short-circuited commands out).
   */
  ask(key: string | number): Promise<LookupAnswer> | LookupAnswer {
    this.stats.asked++;
    const k = String(key);
    const hit = this.#cache.get(k, this.#now());
    if (hit) { this.stats.cacheHits++; return { kind: 'row', row: hit.row }; }
    let call = this.#calling.get(k);
    if (!call && !this.#breaker.closed && !this.#breaker.pendingClose) return BREAKER_OPEN;
    if (!call) {
      call = this.#call(key).finally(() => this.#calling.delete(k));
      this.#calling.set(k, call);
    }
    return call;
  }

  /** Stops the breaker's timers (the client is not used afterwards). */
  shutdown(): void { this.#breaker.shutdown(); }

  async #call(key: string | number): Promise<LookupAnswer> {
    // The timeout bounds the whole wait, for a call slot included: a dead service at full
    // concurrency must not make the keys queued behind it wait one timeout each.
    const deadline = performance.now() + this.#spec.timeoutMs;
    if (this.#active >= this.#spec.concurrency && !(await this.#slot(deadline))) {
      return { kind: 'fallback', reason: 'timeout', detail: `no call slot free within ${this.#spec.timeoutMs} ms (${this.#spec.concurrency} calls in flight)` };
    }
    this.#active++;
    try {
      const row = await this.#breaker.fire(key, deadline);
      this.#cache.set(String(key), row, this.#now());
      return { kind: 'row', row };
    } catch (err) {
      const reason = reasonOf(err);
      return { kind: 'fallback', reason, detail: err instanceof Error ? err.message : String(err) };
    } finally {
      this.#active--;
      this.#waiting.shift()?.grant();
    }
  }

  /** Waits for a call slot until `deadline` (performance.now() ms): true when granted, false when the deadline came first. */
  #slot(deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter = { grant: (): void => { clearTimeout(timer); resolve(true); } };
      const timer = setTimeout(() => {
        const at = this.#waiting.indexOf(waiter);
        if (at >= 0) this.#waiting.splice(at, 1);
        resolve(false);
      }, Math.max(0, deadline - performance.now()));
      this.#waiting.push(waiter);
    });
  }

  async #request(key: string | number, deadline: number): Promise<LookupRow | null> {
    this.stats.requests++;
    const started = performance.now();
    try {
      const url = this.#spec.url.replace(`{${this.#spec.key}}`, encodeURIComponent(String(key)));
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(1, Math.ceil(deadline - performance.now()))), headers: { accept: 'application/json' } });
      if (res.status === 404) { await res.body?.cancel(); this.#latency(started); return null; }
      if (res.status !== 200) { await res.body?.cancel(); throw new HttpStatusError(`HTTP ${res.status}`); }
      const text = await res.text();
      let body: unknown;
      try { body = JSON.parse(text); } catch { throw new BadResponseError('the answer is not JSON'); }
      const row = rowOfAnswer(this.def, key, body);
      this.#latency(started);
      return row;
    } catch (err) {
      this.stats.failures++;
      throw err;
    }
  }

  #latency(started: number): void {
    const ms = performance.now() - started;
    this.stats.latencyMsSum += ms;
    this.stats.latencyCount++;
    if (ms > this.stats.latencyMsMax) this.stats.latencyMsMax = ms;
  }
}

/** The answer while the breaker is open (shared: answers are never mutated). */
const BREAKER_OPEN: LookupAnswer = Object.freeze({ kind: 'fallback', reason: 'breaker_open', detail: 'the circuit breaker is open (the service failed too often); it tries again after reset_timeout' });

function reasonOf(err: unknown): FallbackReason {
  if ((err as { code?: unknown }).code === 'EOPENBREAKER') return 'breaker_open';
  if (err instanceof HttpStatusError) return 'http_status';
  if (err instanceof BadResponseError) return 'bad_response';
  const name = (err as { name?: unknown }).name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  return 'network';
}
