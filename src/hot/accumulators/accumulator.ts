/**
 * Mergeable aggregate state. Every aggregate of the dialect has one accumulator with `merge`,
 * so partial states can be combined (two-phase aggregation across processes, HOP panes,
 * SESSION merges). States are plain mutable objects; `add` and `merge` may mutate their first
 * argument and return it. `snapshot`/`restore` give a JSON-safe form for checkpoints.
 */
import type { ResultValue } from '../../util/result-row.js';

/** Values reaching an accumulator: NULLs are filtered out by the caller (except COUNT(*)). */
export type AccValue = string | number | boolean;

export interface Accumulator<S> {
  /** A fresh, empty state. */
  create(): S;
  /** Folds one non-NULL value into `state`. */
  add(state: S, value: AccValue): S;
  /** Folds `other` into `state` (both from this accumulator). */
  merge(state: S, other: S): S;
  /** The SQL result: NULL for an empty state where SQL says so (SUM, AVG, MIN, MAX). */
  result(state: S): ResultValue;
  snapshot(state: S): unknown;
  restore(json: unknown): S;
  /** Approximate heap bytes of `state`, for the state-size figures. */
  bytes(state: S): number;
}

/** An accumulator whose state type is hidden (what the operators hold). */
export type AnyAccumulator = Accumulator<unknown>;

/** Erases the state type (each state only ever meets its own accumulator). */
export function erase<S>(acc: Accumulator<S>): AnyAccumulator {
  return acc as unknown as AnyAccumulator;
}
