/**
 * Event-time watermarks of one stream. Per partition: max event time of valid events −
 * `watermark_delay`. The stream watermark is the minimum over active partitions and never
 * moves backwards. A partition with no event for `idle_timeout` (processing time) stops
 * holding it back until it sends again; a partition assigned but silent counts as idle once
 * the timeout passes. End of input moves it to +∞.
 */
import { InternalError } from '../errors.js';

interface PartitionMark {
  maxEventMs: number; lastSeenAt: number; idle: boolean;
  /** Never idle: not owned by this process (another member, maybe a dead one, holds it) or known to have unread records. */
  held: boolean;
  /**
   * The partition went idle and has not caught up since: the watermark judging its events may
   * be ahead of its own (set by other partitions while it was idle). Cleared once its own
   * watermark reaches the watermark an event of it is judged by.
   */
  lent: boolean;
}

export class WatermarkTracker {
  readonly #delayMs: number;
  readonly #idleMs: number;
  readonly #parts = new Map<number, PartitionMark>();
  #watermark = Number.NEGATIVE_INFINITY;
  readonly #monotone: boolean;

  /**
   * `options.monotone` (default true): the stream watermark never moves back. A member of a
   * group (hot/two-phase.ts) passes false: its watermark is the minimum over the partitions it
   * owns now, and a partition handed to it with older events lowers it (per-partition floors
   * keep what was already published).
   */
  constructor(delayMs: number, idleTimeoutMs: number, options: { monotone?: boolean } = {}) {
    this.#delayMs = delayMs;
    this.#idleMs = idleTimeoutMs;
    this.#monotone = options.monotone ?? true;
  }

  get watermarkMs(): number { return this.#watermark; }

  /** Registers a partition before it sends anything (it holds the watermark back until idle). */
  assign(partition: number, nowMs: number): void {
    if (!this.#parts.has(partition)) this.#parts.set(partition, { maxEventMs: Number.NEGATIVE_INFINITY, lastSeenAt: nowMs, idle: false, held: false, lent: false });
  }

  /**
   * Holds a partition (it never goes idle) or releases the hold. Live sources hold every
   * partition of the topic this process does not own, and every owned one with unread records:
   * a partition whose consumer died, or that was handed to this process with a backlog, is not
   * quiet and must not let the watermark pass its events (../shared/cases/run-restart-false-late).
   * A held partition that was idle holds the watermark again from now on (it never moves back).
   * A released one gets a fresh `idle_timeout` from `nowMs`.
   */
  hold(partition: number, held: boolean, nowMs: number): void {
    this.assign(partition, nowMs);
    const p = this.#parts.get(partition) as PartitionMark;
    if (p.held === held) return;
    p.held = held;
    p.lastSeenAt = nowMs;
    if (held && p.idle) { p.idle = false; this.#recompute(); }
  }

  /**
   * Takes over a partition with its mark from another member (non-monotone trackers only);
   * it holds the watermark at `maxEventMs` − delay until it reads newer events or goes idle.
   * `floorMs`: the watermark already published for it; above its own watermark, it was
   * published while the partition was idle (see {@link lent}).
   */
  adopt(partition: number, maxEventMs: number, nowMs: number, floorMs = Number.NEGATIVE_INFINITY): void {
    if (this.#monotone) throw new InternalError('adopt() is for a group member\'s (non-monotone) watermark');
    this.#parts.set(partition, { maxEventMs, lastSeenAt: nowMs, idle: false, held: false, lent: floorMs > maxEventMs - this.#delayMs });
    this.#recompute();
  }

  /** Gives a partition up (non-monotone trackers only): it no longer holds this member's watermark. */
  release(partition: number): void {
    if (this.#monotone) throw new InternalError('release() is for a group member\'s (non-monotone) watermark');
    this.#parts.delete(partition);
    this.#recompute();
  }

  /** The mark (max valid event time, ms) of a partition, −∞ before its first event. */
  markOf(partition: number): number { return this.#parts.get(partition)?.maxEventMs ?? Number.NEGATIVE_INFINITY; }

  /** A partition's own watermark (its mark − `watermark_delay`, ms; −∞ before its first event). */
  partitionWatermark(partition: number): number { return this.markOf(partition) - this.#delayMs; }

  /**
   * True while a partition that went idle has not caught up: the watermark may have been moved
   * past its own by other partitions meanwhile, so one of its events can be late without being
   * late in its own partition (the idle rule, not a fault). Reconciliation tells such lateness
   * from lateness no rule explains (reconcile/reconcile.ts).
   */
  lent(partition: number): boolean { return this.#parts.get(partition)?.lent ?? false; }

  // There is deliberately no `revoke`: a partition taken away by a rebalance keeps holding the
  // watermark until it has been silent for idle_timeout, like any quiet partition. Dropping it at
  // once would let the watermark jump past its unread events when it comes back (a restart's
  // rebalance hands partitions out in two steps), turning on-time events late.

  /**
   * Records a valid event that was judged by `judgedMs` (default: the stream watermark);
   * returns the (possibly advanced) stream watermark.
   */
  observe(partition: number, eventTimeMs: number, nowMs: number, judgedMs = this.#watermark): number {
    let p = this.#parts.get(partition);
    if (!p) { p = { maxEventMs: Number.NEGATIVE_INFINITY, lastSeenAt: nowMs, idle: false, held: false, lent: false }; this.#parts.set(partition, p); }
    p.lastSeenAt = nowMs;
    const wasIdle = p.idle;
    p.idle = false;
    if (eventTimeMs > p.maxEventMs) {
      p.maxEventMs = eventTimeMs;
      this.#recompute();
    } else if (wasIdle) {
      this.#recompute();
    }
    if (p.lent && p.maxEventMs - this.#delayMs >= judgedMs) p.lent = false;
    return this.#watermark;
  }

  /** Marks partitions idle after `idle_timeout` without events; returns the watermark. */
  tick(nowMs: number): number {
    let changed = false;
    for (const p of this.#parts.values()) {
      if (!p.idle && !p.held && nowMs - p.lastSeenAt >= this.#idleMs) { p.idle = true; p.lent = true; changed = true; }
    }
    if (changed) this.#recompute();
    return this.#watermark;
  }

  /** End of a finite input: every window may close. */
  endOfInput(): number {
    this.#watermark = Number.POSITIVE_INFINITY;
    return this.#watermark;
  }

  #recompute(): void {
    let min = Number.POSITIVE_INFINITY;
    let active = 0;
    for (const p of this.#parts.values()) {
      if (p.idle) continue;
      active++;
      if (p.maxEventMs - this.#delayMs < min) min = p.maxEventMs - this.#delayMs;
    }
    if (active === 0) return;
    if (min > this.#watermark || !this.#monotone) this.#watermark = min;
  }

  /** Sets the watermark from a checkpoint; moving it backwards is a bug. */
  restore(json: unknown, nowMs: number): void {
    const s = json as { watermark: number | null; parts: [number, number | null][] };
    const wm = s.watermark ?? Number.NEGATIVE_INFINITY;
    if (wm < this.#watermark) throw new InternalError(`watermark would move backwards (${this.#watermark} -> ${wm})`);
    this.#watermark = wm;
    this.#parts.clear();
    // A partition whose own watermark is behind the stream's was idle when the stream's passed it.
    for (const [p, max] of s.parts) {
      const maxEventMs = max ?? Number.NEGATIVE_INFINITY;
      this.#parts.set(p, { maxEventMs, lastSeenAt: nowMs, idle: false, held: false, lent: maxEventMs - this.#delayMs < wm });
    }
  }

  snapshot(): unknown {
    const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);
    return { watermark: finite(this.#watermark), parts: [...this.#parts].map(([p, m]) => [p, finite(m.maxEventMs)]) };
  }

  partitions(): { partition: number; maxEventMs: number; idle: boolean; held: boolean }[] {
    return [...this.#parts].map(([partition, m]) => ({ partition, maxEventMs: m.maxEventMs, idle: m.idle, held: m.held }));
  }
}
