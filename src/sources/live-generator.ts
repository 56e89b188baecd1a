/**
 * A scenario generator in real time: event times follow the wall clock at a bursty rate;
 * each event arrives after a small jitter, some much later (late events), some twice
 * (redelivered duplicates), and a trickle is malformed. `take(now)` returns what has arrived by
 * `now`, in arrival order. Memory: only events not yet arrived (bounded by rate × lateness).
 */
import { malformed, payload, prng, type GeneratorOptions, type Scenario } from './generator.js';

export interface Arrival {
  readonly value: string;
  readonly key: string;
  readonly kind: 'event' | 'duplicate' | 'late' | 'malformed';
}

export class LiveGenerator {
  readonly scenario: Scenario;
  readonly #r: () => number;
  readonly #opts: Required<Omit<GeneratorOptions, 'seed' | 'startMs'>>;
  #t: number;
  #n = 0;
  /** Pending arrivals, kept sorted by arrival time. */
  #pending: { at: number; a: Arrival }[] = [];
  readonly counts = { event: 0, duplicate: 0, late: 0, malformed: 0 };

  constructor(scenario: Scenario, opts: GeneratorOptions & { startMs: number }) {
    this.scenario = scenario;
    this.#r = prng(opts.seed ?? 42);
    this.#t = opts.startMs;
    this.#opts = {
      ratePerSec: opts.ratePerSec ?? 200, jitterMs: opts.jitterMs ?? 1500, duplicateRate: opts.duplicateRate ?? 0.03,
      lateRate: opts.lateRate ?? 0.01, lateByMs: opts.lateByMs ?? 90_000, malformedRate: opts.malformedRate ?? 0.005, keys: opts.keys ?? 20,
    };
  }

  #push(at: number, a: Arrival): void {
    // Arrivals are nearly in order: insert from the back.
    let i = this.#pending.length;
    while (i > 0 && (this.#pending[i - 1] as { at: number }).at > at) i--;
    this.#pending.splice(i, 0, { at, a });
  }

  /** Creates events up to `nowMs` and returns every arrival due by then. */
  take(nowMs: number): Arrival[] {
    const r = this.#r;
    const o = this.#opts;
    while (true) {
      // A rush every few minutes: the rate swings between 0.3x and 2.5x.
      const wave = 1.4 + 1.1 * Math.sin(this.#t / 90_000);
      const next = this.#t + Math.max(1, Math.round((-Math.log(1 - r()) * 1000) / (o.ratePerSec * wave)));
      if (next > nowMs) break;
      this.#t = next;
      const { body, key } = payload(this.scenario, r, this.#n++, next, o.keys);
      let at = next + r() * o.jitterMs;
      if (r() < o.malformedRate) { this.#push(at, { value: malformed(r, body), key, kind: 'malformed' }); continue; }
      let kind: Arrival['kind'] = 'event';
      if (r() < o.lateRate) { at += o.lateByMs; kind = 'late'; }
      const value = JSON.stringify(body);
      this.#push(at, { value, key, kind });
      if (r() < o.duplicateRate) this.#push(at + r() * 3000, { value, key, kind: 'duplicate' });
    }
    let k = 0;
    while (k < this.#pending.length && (this.#pending[k] as { at: number }).at <= nowMs) k++;
    const due = this.#pending.splice(0, k).map((p) => p.a);
    for (const a of due) this.counts[a.kind]++;
    return due;
  }
}
