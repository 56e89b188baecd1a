/** The hot path's side of a library function (src/plan/functions). */
import type { CallExpr } from '../../../plan/expr.js';
import type { Val } from '../cast.js';

/**
 * Builds the function for one call site, once, at compile time (so constant arguments such as
 * a pattern are read once): it takes the evaluated arguments, in order, and returns the value.
 * For a strict function (the plan's `strict`) it is only called with no argument NULL.
 */
export type HotFunction = (call: CallExpr) => (args: readonly Val[]) => Val;
