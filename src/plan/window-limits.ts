/**
 * Bounds on window definitions, so that one event can neither fan out into unbounded work nor
 * produce window bounds outside what every path represents. Event times are limited to
 * 0001-01-01 … 9999-12-31 (validation); with windows of at most 100 years their bounds stay
 * within a century of that range, far inside JavaScript dates, Arrow timestamp[ms] and DuckDB
 * TIMESTAMP, and `end + allowed_lateness` stays an exact (safe) integer. Listed for analysts in
 * README.md, "Writing metrics".
 */
export const WINDOW_LIMITS = {
  /** Longest TUMBLE/HOP/CUMULATE size, HOP slide, CUMULATE step or SESSION gap: 36,500 days (100 years of 365 days), in ms. */
  maxDurationMs: 36_500 * 86_400_000,
  /** Most HOP or CUMULATE windows one event belongs to (size / slide, size / step): the hot path keeps a group table per window. */
  maxHopWindowsPerEvent: 1000,
} as const;
