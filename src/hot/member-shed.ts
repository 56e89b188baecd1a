/**
 * Shedding in member threads (README "Shedding and backfill"), the member's side. The main
 * thread decides which metrics are shed and owns the shed log; it sends each member a
 * {@link ShedUpdate} (at start, in workerData, and on every change). A member then:
 *
 * - sets `shed` on every phase-one operator of a shed metric (every input partition's set,
 *   including sets created later), all sharing one skipped range per metric, so the event
 *   times skipped are known exactly whichever partition skipped them, even after the partition
 *   moved away;
 * - holds back, in phase two, every row change whose window overlaps an interval of its metric
 *   in its replica of the log (the rule of Engine's result sink), counting held-back SESSION
 *   windows and the earliest window end held back, as Engine does;
 * - answers every update with a {@link ShedAck}: for each metric it stopped shedding, the event
 *   times it skipped and the earliest window end it held back, which the main thread needs to
 *   close the interval.
 *
 * Between a member's resume and the closed interval reaching it (one message round trip), a
 * row affected only by the still-open interval of a metric it no longer sheds may yet fall
 * outside the closed interval: it waits in a bounded list and is released or held back when the
 * next log arrives.
 */
import type { MetricPlan } from '../plan/index.js';
import { windowEndOf } from './engine.js';
import type { MetricOperator } from './metric-operator.js';
import type { RowChange } from './operator-types.js';
import { ShedLog, type ShedLogJson } from './shed-log.js';

/** The main thread's shed state, as sent to members: the metrics shed now and the whole log. */
export interface ShedUpdate {
  /** Sequence number of the update (acknowledged by {@link ShedAck}); 0 for the state at start. */
  readonly seq: number;
  /** Names of the metrics shed now. */
  readonly shed: readonly string[];
  readonly log: ShedLogJson;
}

/** Per metric a member stopped shedding: the event times it skipped (null: none) and the earliest window end it held back (ms; null: none). */
export type ShedClosed = [metric: string, skipped: { minMs: number; maxMs: number } | null, heldFromMs: number | null];

/** A member's answer to a {@link ShedUpdate}, once applied. */
export interface ShedAck {
  readonly seq: number;
  readonly closed: ShedClosed[];
}

/** What a member reports with its figures: per metric shed now, the event times skipped so far, and per metric the SESSION windows held back (cumulative). */
export interface MemberShedFigures {
  readonly skipped: [metric: string, minMs: number, maxMs: number][];
  readonly sessions: [metric: string, count: number][];
}

/** Most row changes waiting for a closed interval (see the file comment); past it, rows are held back and it is logged. */
export const MAX_WAITING_ROWS = 200_000;

/** The event times skipped, shared by every operator of a metric (min > max: none yet). */
interface Skipped { minMs: number; maxMs: number }

export class MemberShed {
  readonly #plans: ReadonlyMap<string, MetricPlan>;
  readonly #log = new ShedLog();
  readonly #shed = new Set<string>();
  readonly #skipped = new Map<string, Skipped>();
  /** Per metric: SESSION windows held back (cumulative), the last one counted, the earliest window end held back since shedding began (ms). */
  readonly #counts = new Map<string, { sessions: number; last: string; heldFromMs: number }>();
  #waiting: [MetricPlan, RowChange][] = [];
  #overflowed = false;
  /** Said once when the waiting list overflows. */
  onOverflow: ((msg: string) => void) | undefined;

  constructor(plans: readonly MetricPlan[], initial: ShedUpdate) {
    this.#plans = new Map(plans.map((p) => [p.name, p]));
    this.#log.load(initial.log);
    for (const m of initial.shed) {
      this.#shed.add(m);
      // A restart carries on from the event times skipped before it (as Engine.resumeShedLog does).
      const open = this.#log.intervals(m).find((i) => i.toMs === null);
      this.#skipped.set(m, open?.skipped ? { ...open.skipped } : { minMs: Number.POSITIVE_INFINITY, maxMs: Number.NEGATIVE_INFINITY });
    }
  }

  /** Whether `metric` is shed in this member now. */
  isShed(metric: string): boolean { return this.#shed.has(metric); }

  /** Sets each operator's `shed` flag and shared skipped range from the current state (call for every operator set, new ones included). */
  adopt(ops: Iterable<MetricOperator>): void {
    for (const op of ops) {
      const s = this.#shed.has(op.plan.name) ? this.#skipped.get(op.plan.name) : undefined;
      op.shed = s !== undefined;
      op.skipped = s;
    }
  }

  /**
   * Applies an update: the replica of the log is replaced, metrics start or stop shedding
   * (call {@link adopt} on every operator set afterwards), and rows waiting for this log are
   * released through `emit` or held back. Returns the acknowledgement to send.
   */
  update(u: ShedUpdate, emit: (plan: MetricPlan, change: RowChange) => void): ShedAck {
    this.#log.load(u.log);
    const next = new Set(u.shed);
    const closed: ShedClosed[] = [];
    for (const m of this.#shed) {
      if (next.has(m)) continue;
      const s = this.#skipped.get(m);
      const held = this.#counts.get(m)?.heldFromMs ?? Number.POSITIVE_INFINITY;
      closed.push([m, s && s.minMs <= s.maxMs ? { minMs: s.minMs, maxMs: s.maxMs } : null, Number.isFinite(held) ? held : null]);
      this.#shed.delete(m);
      this.#skipped.delete(m);
    }
    for (const m of next) {
      if (this.#shed.has(m)) continue;
      this.#shed.add(m);
      this.#skipped.set(m, { minMs: Number.POSITIVE_INFINITY, maxMs: Number.NEGATIVE_INFINITY });
      this.#count(m).heldFromMs = Number.POSITIVE_INFINITY;
    }
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const [p, c] of waiting) if (this.filter(p, c)) emit(p, c);
    return { seq: u.seq, closed };
  }

  /**
   * Whether a row change of phase two goes out (results topic, serving store). A row whose
   * window overlaps an interval of its metric is held back (counted), or waits when only an
   * open interval of a metric this member already resumed covers it.
   */
  filter(plan: MetricPlan, change: RowChange): boolean {
    const log = this.#log;
    if (!log.has(plan.name)) return true;
    const end = windowEndOf(plan, change);
    if (!log.affects(plan.name, change.windowStart, end)) return true;
    if (!this.#shed.has(plan.name) && log.isOpen(plan.name) && !this.#closedAffects(plan.name, change.windowStart, end)) {
      if (this.#waiting.length < MAX_WAITING_ROWS) { this.#waiting.push([plan, change]); return false; }
      if (!this.#overflowed) { this.#overflowed = true; this.onOverflow?.(`shedding: more than ${MAX_WAITING_ROWS} rows waited for a closed shed interval of ${plan.name}; rows past that are held back (their windows stay incomplete on the hot path until a backfill covers them)`); }
    }
    this.#heldBack(plan, change, end);
    return false;
  }

  /** Row changes waiting for the next log. */
  get waiting(): number { return this.#waiting.length; }

  /** The figures sent to the main thread every second. */
  figures(): MemberShedFigures {
    const skipped: MemberShedFigures['skipped'] = [];
    for (const [m, s] of this.#skipped) if (s.minMs <= s.maxMs) skipped.push([m, s.minMs, s.maxMs]);
    return { skipped, sessions: [...this.#counts].filter(([, c]) => c.sessions > 0).map(([m, c]) => [m, c.sessions]) };
  }

  #closedAffects(metric: string, startMs: number, endMs: number): boolean {
    for (const i of this.#log.intervals(metric)) if (i.toMs !== null && endMs > i.fromMs && startMs < i.toMs) return true;
    return false;
  }

  #count(metric: string): { sessions: number; last: string; heldFromMs: number } {
    let c = this.#counts.get(metric);
    if (!c) { c = { sessions: 0, last: '', heldFromMs: Number.POSITIVE_INFINITY }; this.#counts.set(metric, c); }
    return c;
  }

  #heldBack(plan: MetricPlan, change: RowChange, end: number): void {
    const c = this.#count(plan.name);
    if (end < c.heldFromMs) c.heldFromMs = end;
    if (plan.window.type === 'session' && change.kind === 'upsert' && change.final) {
      const w = `${change.windowStart}/${change.id}`;
      if (w !== c.last) { c.sessions++; c.last = w; }
    }
  }

  /** The plan of a metric (for callers that hold names). */
  plan(metric: string): MetricPlan | undefined { return this.#plans.get(metric); }
}
