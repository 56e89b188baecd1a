/**
 * Shed intervals per metric (README "Shedding and backfill"): while a metric is shed, the hot
 * path skips its operators, so every window an event skipped then could have landed in is
 * incomplete there. An interval records which, in event time:
 *
 * - `fromMs`: the watermark − allowed lateness when shedding began. A window `[start, end)` with
 *   `end > fromMs` was still open then (it closes at watermark ≥ end + allowed lateness), so a
 *   skipped event could belong to it; a window with `end ≤ fromMs` had closed, and a skipped
 *   event for it would have been late anyway.
 * - `toMs`: one past the latest event time skipped (set when shedding ends; `null` while it
 *   lasts): no skipped event belongs to a window with `start ≥ toMs`.
 *
 * A window is affected when `end > fromMs && start < toMs`: every window open when shedding
 * began, every one opened while it lasted, and every one still open when it ended whose start
 * a skipped event reached. Their hot rows are suppressed (results topic, serving store) and
 * `pitwall backfill` recomputes them from the archive. Bounded: at most
 * {@link MAX_INTERVALS_PER_METRIC} per metric; past it the oldest backfilled one is forgotten,
 * or, when none is, the two oldest pending ones merge into one that covers both (a superset: more
 * windows recomputed, none missed).
 */

/** Kept intervals per metric. */
export const MAX_INTERVALS_PER_METRIC = 1_000;

export interface ShedInterval {
  /** Stable id within the metric (ISO time shedding began, plus a sequence number). */
  readonly id: string;
  readonly metric: string;
  /**
   * Windows with end > fromMs are affected (ms, event time). Shedding before any watermark
   * starts it at the earliest window that could be touched, set when the interval closes.
   */
  fromMs: number;
  /** Windows with start < toMs are affected (ms, event time); null while the metric is shed. */
  toMs: number | null;
  /** Processing time (ISO) shedding began. */
  readonly shedAt: string;
  /**
   * Set when a restart found the interval open: its fromMs before the restart. The engine then
   * replays from its checkpoint with the metric shed, so replayed events may belong to windows
   * that had closed before shedding began; the interval reopens from the floor and, when it
   * closes, starts at the earliest of this, the earliest event skipped and the earliest row held back.
   */
  restartedFromMs?: number | undefined;
  /** While open: the event times skipped so far, as of the last write (a restart carries on from them). */
  skipped?: { minMs: number; maxMs: number } | undefined;
  /** Processing time (ISO) its windows were backfilled, once they were. */
  backfilledAt: string | null;
  /** Windows recomputed by the backfill. */
  backfilledWindows: number;
}

/** The file form (state dir, shed-intervals.json). */
export interface ShedLogJson {
  readonly version: 1;
  readonly seq: number;
  readonly intervals: readonly ShedInterval[];
}

/** Whether window [startMs, endMs) overlaps an interval (an open one reaches +∞). */
export function affects(i: Pick<ShedInterval, 'fromMs' | 'toMs'>, startMs: number, endMs: number): boolean {
  return endMs > i.fromMs && (i.toMs === null || startMs < i.toMs);
}

export class ShedLog {
  readonly #byMetric = new Map<string, ShedInterval[]>();
  #seq = 0;
  /** Called after every change (the owner persists the log). */
  onChange: (() => void) | undefined;

  /** Opens an interval for `metric` (no-op when one is open). */
  begin(metric: string, fromMs: number, nowMs: number): void {
    const list = this.#list(metric);
    if (list.some((i) => i.toMs === null)) return;
    list.push({ id: `${new Date(nowMs).toISOString()}#${++this.#seq}`, metric, fromMs: Math.max(fromMs, Number.MIN_SAFE_INTEGER), toMs: null, shedAt: new Date(nowMs).toISOString(), backfilledAt: null, backfilledWindows: 0 });
    this.#bound(list);
    this.onChange?.();
  }

  /**
   * Closes the open interval of `metric` and returns it. `skipped` holds the earliest and latest
   * event times skipped (none: the interval is dropped, nothing was missed); `heldFromMs` the
   * earliest window end of a row held back while it was open. An interval begun before any
   * watermark (fromMs at its floor) starts just below the earlier of the two, so every window
   * a skipped event reached, and every one whose row was held back, stays covered.
   */
  end(metric: string, skipped: { minMs: number; maxMs: number } | undefined, heldFromMs = Number.POSITIVE_INFINITY): ShedInterval | undefined {
    const list = this.#list(metric);
    const open = list.findIndex((i) => i.toMs === null);
    if (open < 0) return undefined;
    const interval = list[open] as ShedInterval;
    if (skipped === undefined) {
      list.splice(open, 1);
      this.onChange?.();
      return undefined;
    }
    interval.toMs = skipped.maxMs + 1;
    delete interval.skipped;
    if (interval.fromMs === Number.MIN_SAFE_INTEGER) interval.fromMs = Math.min(skipped.minMs, heldFromMs - 1, interval.restartedFromMs ?? Number.POSITIVE_INFINITY);
    delete interval.restartedFromMs;
    this.onChange?.();
    return interval;
  }

  /** Whether `metric` has any interval kept (open, pending or backfilled): cheap, for the per-row check. */
  has(metric: string): boolean { return (this.#byMetric.get(metric)?.length ?? 0) > 0; }

  /** Whether `metric` is shed now (an interval is open). */
  isOpen(metric: string): boolean { return this.#list(metric).some((i) => i.toMs === null); }

  /** The open interval's start (processing time, ISO), if shed now. */
  openSince(metric: string): string | undefined { return this.#list(metric).find((i) => i.toMs === null)?.shedAt; }

  /**
   * Whether a row of window [startMs, endMs) of `metric` is incomplete on the hot path: it overlaps
   * a kept interval, open, pending or backfilled (a backfilled row must not be overwritten by the
   * hot path's incomplete one).
   */
  affects(metric: string, startMs: number, endMs: number): boolean {
    const list = this.#byMetric.get(metric);
    if (list === undefined) return false;
    for (const i of list) if (affects(i, startMs, endMs)) return true;
    return false;
  }

  /** Closed intervals not yet backfilled (all metrics, or one). */
  pending(metric?: string): ShedInterval[] {
    const lists = metric === undefined ? [...this.#byMetric.values()] : [this.#list(metric)];
    return lists.flat().filter((i) => i.toMs !== null && i.backfilledAt === null);
  }

  /** Every kept interval of `metric` (oldest first). */
  intervals(metric: string): readonly ShedInterval[] { return this.#list(metric); }

  /** Marks intervals backfilled, with the number of windows each recomputed. */
  markBackfilled(done: readonly { id: string; metric: string; windows: number }[], nowMs: number): void {
    for (const d of done) {
      const i = this.#list(d.metric).find((x) => x.id === d.id);
      if (i) { i.backfilledAt = new Date(nowMs).toISOString(); i.backfilledWindows = d.windows; }
    }
    this.onChange?.();
  }

  toJSON(): ShedLogJson {
    return { version: 1, seq: this.#seq, intervals: [...this.#byMetric.values()].flat() };
  }

  /** Replaces the log with a stored one. An interval left open by a stop stays open: its metric starts shed again until the controller resumes it. */
  load(json: ShedLogJson): void {
    this.#byMetric.clear();
    this.#seq = json.seq;
    for (const i of json.intervals) this.#list(i.metric).push({ ...i });
  }

  #list(metric: string): ShedInterval[] {
    let list = this.#byMetric.get(metric);
    if (!list) { list = []; this.#byMetric.set(metric, list); }
    return list;
  }

  #bound(list: ShedInterval[]): void {
    while (list.length > MAX_INTERVALS_PER_METRIC) {
      const done = list.findIndex((i) => i.backfilledAt !== null);
      if (done >= 0) { list.splice(done, 1); continue; }
      const [a, b] = list as [ShedInterval, ShedInterval];
      if (a.toMs === null || b.toMs === null) return;
      list.splice(0, 2, { ...a, fromMs: Math.min(a.fromMs, b.fromMs), toMs: Math.max(a.toMs, b.toMs) });
    }
  }
}
