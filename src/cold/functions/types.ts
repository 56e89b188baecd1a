/** The cold path's side of a library function (src/plan/functions). */
import type { CallExpr } from '../../plan/expr.js';
import type { Parameters } from '../compile-expr.js';

/**
 * The DuckDB SQL of one call, given the SQL of its arguments (each may be used once only
 * unless bound with `letIn`, since it can be any expression). Text constants go to `params`.
 * It must give what the hot path's function gives for every input, NULL included.
 */
export type ColdFunction = (call: CallExpr, args: readonly string[], params: Parameters) => string;
