/**
 * Shedding in member threads (README "Shedding and backfill"), the main thread's side: it owns
 * the authoritative shed log and decides, from the controller's level, which metrics are shed;
 * members apply it (hot/member-shed.ts). Pure and clock-free (callers pass `nowMs` and the
 * members' figures), so tests drive it without threads.
 *
 * - Shedding metric M opens its interval from the lowest watermark members report for M's
 *   stream − allowed lateness (as Engine.setShed does with its own watermark), then sends the
 *   new state to every member.
 * - Resuming M sends the new state, and waits for every member's acknowledgement: each carries
 *   the event times that member skipped, final once it stopped skipping, and the earliest window
 *   end it held back. Their union closes the interval (ShedLog.end), its start lowered to the
 *   earliest event skipped when a member re-read older events (a reload while shed); the closed
 *   log is sent again. Rows of those older windows that went out while the interval was open are
 *   replaced by its backfill (same results-topic key).
 *   While a resume waits for its acknowledgements no other change is made (a metric shed again
 *   before its interval closed would find it still open).
 * - Disabled (a group of several processes: their members would not hear this thread), every
 *   metric is resumed and none is shed again.
 */
import type { MetricPlan } from '../plan/index.js';
import type { ShedStats } from './engine.js';
import type { MemberShedFigures, ShedAck, ShedUpdate } from './member-shed.js';
import type { ShedLog } from './shed-log.js';
import type { Tier } from '../sql/index.js';
import { windowSlots } from './window-slots.js';

type Range = { minMs: number; maxMs: number };

const union = (a: Range | undefined, b: Range | undefined): Range | undefined => {
  if (!a) return b ? { ...b } : undefined;
  if (!b) return { ...a };
  return { minMs: Math.min(a.minMs, b.minMs), maxMs: Math.max(a.maxMs, b.maxMs) };
};

export class ShedCoordinator {
  readonly log: ShedLog;
  readonly #plans: readonly MetricPlan[];
  readonly #members: number;
  readonly #send: (u: ShedUpdate) => void;
  /** Metrics shed now (as last sent). */
  readonly #shed = new Set<string>();
  #seq = 0;
  /** A resume waiting for acknowledgements: its update's seq, the metrics resumed, acks so far and what they carried. */
  #closing: { seq: number; metrics: string[]; acks: number; skipped: Map<string, Range | undefined>; heldFromMs: Map<string, number> } | undefined;
  /** Window slots of the intervals closed in this run, per metric. */
  readonly #slots = new Map<string, number>();
  #disabled: string | undefined;

  /**
   * `log`: the stored log, already read back (state/shed-file.ts); `members`: how many
   * acknowledge each update; `send`: delivers an update to every member.
   */
  constructor(plans: readonly MetricPlan[], log: ShedLog, members: number, send: (u: ShedUpdate) => void) {
    this.#plans = plans;
    this.log = log;
    this.#members = members;
    this.#send = send;
    // A metric left shed by a stop starts shed, covering from the floor until it closes (as Engine.resumeShedLog).
    for (const p of plans) {
      const open = log.intervals(p.name).find((i) => i.toMs === null);
      if (!open) continue;
      if (open.fromMs !== Number.MIN_SAFE_INTEGER) { open.restartedFromMs = open.fromMs; open.fromMs = Number.MIN_SAFE_INTEGER; }
      this.#shed.add(p.name);
    }
  }

  /** The state members start with (MemberInit.shed). */
  initial(): ShedUpdate { return { seq: 0, shed: [...this.#shed], log: this.log.toJSON() }; }

  /** Metrics shed now. */
  get shed(): readonly string[] { return [...this.#shed]; }

  /** Whether a resume waits for members' acknowledgements. */
  get closing(): boolean { return this.#closing !== undefined; }

  /** Why shedding is off for good, once it is. */
  get disabled(): string | undefined { return this.#disabled; }

  /**
   * Sheds exactly the metrics whose tier `isShed` says (never any once disabled). `watermarkOf`:
   * the lowest watermark members report for a stream (ms; −∞ when none yet). Returns false when
   * a resume still waits for acknowledgements (nothing changed: try again later).
   */
  apply(isShed: (tier: Tier) => boolean, watermarkOf: (stream: string) => number, nowMs: number): boolean {
    if (this.#closing) return false;
    const wanted = new Set(this.#disabled ? [] : this.#plans.filter((p) => isShed(p.tier)).map((p) => p.name));
    const resumed = [...this.#shed].filter((m) => !wanted.has(m));
    let changed = resumed.length > 0;
    for (const p of this.#plans) {
      if (!wanted.has(p.name) || this.#shed.has(p.name)) continue;
      this.log.begin(p.name, watermarkOf(p.stream.name) - p.stream.allowedLatenessMs, nowMs);
      this.#shed.add(p.name);
      changed = true;
    }
    for (const m of resumed) this.#shed.delete(m);
    if (!changed) return true;
    const seq = ++this.#seq;
    if (resumed.length > 0) {
      // What members reported while shed (and a restart's stored ranges) count too.
      const skipped = new Map(resumed.map((m) => [m, this.log.intervals(m).find((i) => i.toMs === null)?.skipped]));
      this.#closing = { seq, metrics: resumed, acks: 0, skipped, heldFromMs: new Map() };
    }
    this.#send({ seq, shed: [...this.#shed], log: this.log.toJSON() });
    return true;
  }

  /** A member's acknowledgement; the last one of a resume closes its intervals and sends the closed log. */
  ack(a: ShedAck): void {
    const c = this.#closing;
    if (!c || a.seq !== c.seq) return;
    for (const [m, skipped, held] of a.closed) {
      if (!c.skipped.has(m)) continue;
      c.skipped.set(m, union(c.skipped.get(m), skipped ?? undefined));
      if (held !== null) c.heldFromMs.set(m, Math.min(c.heldFromMs.get(m) ?? Number.POSITIVE_INFINITY, held));
    }
    if (++c.acks < this.#members) return;
    this.#closing = undefined;
    for (const m of c.metrics) {
      const plan = this.#plans.find((p) => p.name === m);
      // A member that reloads while shed (a fenced checkpoint, a partition handed over) reads
      // again, and skips, events older than the interval's start: their windows join it.
      const open = this.log.intervals(m).find((i) => i.toMs === null);
      const skipped = c.skipped.get(m);
      if (open && skipped && open.fromMs !== Number.MIN_SAFE_INTEGER && skipped.minMs < open.fromMs) open.fromMs = skipped.minMs;
      const closed = this.log.end(m, c.skipped.get(m), c.heldFromMs.get(m));
      if (closed && plan) this.#slots.set(m, (this.#slots.get(m) ?? 0) + (windowSlots(plan.window, closed.fromMs, closed.toMs as number) ?? 0));
    }
    this.#send({ seq: ++this.#seq, shed: [...this.#shed], log: this.log.toJSON() });
  }

  /** Sends the log as it is now (after a backfill marked intervals done). */
  sendLog(): void { this.#send({ seq: ++this.#seq, shed: [...this.#shed], log: this.log.toJSON() }); }

  /**
   * Copies the event times members skipped so far into each open interval (so the stored log
   * carries them over a restart, as Engine.syncShedLog does). Returns whether any changed.
   */
  sync(figures: readonly (MemberShedFigures | undefined)[]): boolean {
    let changed = false;
    for (const m of this.#shed) {
      const open = this.log.intervals(m).find((i) => i.toMs === null);
      if (!open) continue;
      let range = open.skipped;
      for (const f of figures) for (const [metric, minMs, maxMs] of f?.skipped ?? []) if (metric === m) range = union(range, { minMs, maxMs });
      if (range && (range.minMs !== open.skipped?.minMs || range.maxMs !== open.skipped.maxMs)) { open.skipped = range; changed = true; }
    }
    return changed;
  }

  /** Turns shedding off for good (`reason` says why): every metric resumes at the next {@link apply}. */
  disable(reason: string): void { this.#disabled ??= reason; }

  /** Per metric: tier, shed now, windows held back and backfilled (EngineHandle.shed); `figures`: every member's last. */
  stats(figures: readonly (MemberShedFigures | undefined)[]): Record<string, ShedStats> {
    const sessions = new Map<string, number>();
    for (const f of figures) for (const [m, n] of f?.sessions ?? []) sessions.set(m, (sessions.get(m) ?? 0) + n);
    return Object.fromEntries(this.#plans.map((p) => [p.name, {
      tier: p.tier, shed: this.log.isOpen(p.name), since: this.log.openSince(p.name),
      shedWindows: (this.#slots.get(p.name) ?? 0) + (sessions.get(p.name) ?? 0),
      backfilledWindows: this.log.intervals(p.name).reduce((n, i) => n + i.backfilledWindows, 0), pendingIntervals: this.log.pending(p.name).length,
    }]));
  }
}
