/**
 * Load shedding by priority tier (README "Shedding and backfill"). The engine reports its lag
 * — consumer lag (records behind the partition ends) and event-time lag (processing time −
 * watermark) — and the controller answers which tiers the hot path computes:
 *
 * - level 0: every metric; level 1: `batch` metrics shed; level 2: `batch` and `standard` shed.
 *   `critical` metrics are never shed.
 * - Above a shed threshold (either lag) the level goes up one step; below both resume thresholds
 *   (lower than the shed ones: hysteresis) it goes down one step; in between it holds.
 * - A level is kept at least `dwellMs` (processing time) before the next step either way, so
 *   lag hovering around a threshold does not make metrics flap.
 *
 * Pure and clock-free: callers pass `nowMs`, so tests drive it with a fake clock.
 */
import type { Tier } from '../sql/index.js';

export interface ShedThresholds {
  /** Event-time lag (ms) above which the level goes up. */
  readonly shedLagMs: number;
  /** Event-time lag (ms) below which (with records) the level may go down. At most shedLagMs. */
  readonly resumeLagMs: number;
  /** Consumer lag (records behind the partition ends) above which the level goes up. */
  readonly shedRecords: number;
  /** Consumer lag (records) below which (with the lag in ms) the level may go down. At most shedRecords. */
  readonly resumeRecords: number;
  /** Minimum time (ms) between two level changes. */
  readonly dwellMs: number;
}

/** Defaults: shed past 30 s of event-time lag or 100,000 records behind, resume under 5 s and 10,000, 30 s dwell. */
export const DEFAULT_SHED_THRESHOLDS: ShedThresholds = { shedLagMs: 30_000, resumeLagMs: 5_000, shedRecords: 100_000, resumeRecords: 10_000, dwellMs: 30_000 };

/** One lag sample; a figure the source cannot give is left out (it neither sheds nor holds back a resume). */
export interface LagSample {
  readonly eventLagMs?: number | undefined;
  readonly consumerLagRecords?: number | undefined;
}

export type ShedLevel = 0 | 1 | 2;

/** The tiers shed at each level. */
const SHED_AT: Record<ShedLevel, readonly Tier[]> = { 0: [], 1: ['batch'], 2: ['batch', 'standard'] };

export class ShedController {
  readonly thresholds: ShedThresholds;
  #level: ShedLevel = 0;
  #changedAtMs = Number.NEGATIVE_INFINITY;

  constructor(thresholds: ShedThresholds = DEFAULT_SHED_THRESHOLDS) {
    if (thresholds.resumeLagMs > thresholds.shedLagMs || thresholds.resumeRecords > thresholds.shedRecords) {
      throw new RangeError('resume thresholds must not exceed the shed thresholds');
    }
    this.thresholds = thresholds;
  }

  get level(): ShedLevel { return this.#level; }

  /** Whether metrics of `tier` are shed at the current level. */
  isShed(tier: Tier): boolean { return SHED_AT[this.#level].includes(tier); }

  /** Starts at `level` (a restart that found metrics shed), dwelling from `nowMs`. */
  restoreLevel(level: ShedLevel, nowMs: number): void { this.#set(level, nowMs); }

  /** Takes a lag sample at `nowMs` and returns the level now in force. */
  observe(sample: LagSample, nowMs: number): ShedLevel {
    const t = this.thresholds;
    const lag = sample.eventLagMs;
    const records = sample.consumerLagRecords;
    const over = (lag !== undefined && lag > t.shedLagMs) || (records !== undefined && records > t.shedRecords);
    const under = (lag === undefined || lag < t.resumeLagMs) && (records === undefined || records < t.resumeRecords);
    if (nowMs - this.#changedAtMs < t.dwellMs) return this.#level;
    if (over && this.#level < 2) this.#set((this.#level + 1) as ShedLevel, nowMs);
    else if (under && this.#level > 0) this.#set((this.#level - 1) as ShedLevel, nowMs);
    return this.#level;
  }

  #set(level: ShedLevel, nowMs: number): void {
    this.#level = level;
    this.#changedAtMs = nowMs;
  }
}
