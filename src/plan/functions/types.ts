/**
 * The shape of a scalar function of the library: its name, the argument kinds it takes, its
 * result type, the checks made at plan time, and its reference entry (README "Scalar
 * functions"). Each function has one implementation per path, under the same name: the hot
 * path's (src/hot/eval/functions) and the DuckDB SQL it compiles to (src/cold/functions).
 * test/plan/functions-complete.test.ts keeps the three registries and the README table in step.
 */
import type { StreamDef } from '../../catalog/index.js';
import type { Expr, SqlType } from '../expr.js';

export type FunctionFamily = 'string' | 'numeric' | 'time' | 'conditional' | 'json';

/**
 * What an argument accepts: a type, `number` (int or double, the result type may depend on
 * which), or `any`. `double` accepts ints too (widened, exactly within ±(2^53 − 1)). A NULL
 * literal is accepted everywhere. `interval` takes an `INTERVAL '…'` literal of a fixed length
 * (as window sizes), bound to its positive length in ms as an int literal.
 */
export type ArgKind = 'string' | 'int' | 'double' | 'number' | 'boolean' | 'timestamp' | 'interval' | 'any';

/** A plan-time rejection: what is wrong, and the index of the argument it is about. */
export interface ArgProblem {
  readonly message: string;
  readonly arg: number;
  /** The error code, when not PW_PLAN_ARGUMENTS (e.g. PW_PLAN_REGEXP for a pattern outside the subset). */
  readonly code?: string;
}

export interface ScalarFunction {
  /** The SQL name, lower case (names match case-insensitively). */
  readonly name: string;
  readonly family: FunctionFamily;
  /** Argument kinds, in order. */
  readonly params: readonly ArgKind[];
  /** How many of the trailing `params` may be left out. */
  readonly optional?: number;
  /** The last parameter repeats: at least `params.length` arguments, any number more. */
  readonly variadic?: boolean;
  /** The result type, or how it follows from the bound arguments. */
  readonly result: SqlType | ((args: readonly Expr[]) => SqlType);
  /**
   * Checks beyond kinds (an argument that must be a literal, a literal's value): the problem,
   * or undefined when the call is fine.
   */
  readonly check?: (args: readonly Expr[], stream?: StreamDef) => ArgProblem | undefined;
  /**
   * The index of an argument that names the stream (or its FROM alias) and stands for the
   * whole event payload: bound as a {@link PAYLOAD_FIELD} field, read only by this function.
   */
  readonly payloadArg?: number;
  /**
   * True when a NULL argument makes the result NULL without the function running (most
   * functions); false for those that give NULL their own meaning (concat, greatest, least, …).
   */
  readonly strict: boolean;
  /** The reference entry: `signature` as in the README table, the NULL rule, one example. */
  readonly doc: { readonly signature: string; readonly nulls: string; readonly example: string };
}

/**
 * The field path that stands for the whole event payload (a function's `payloadArg`): the hot
 * path reads the parsed payload object, DuckDB the archive's `_pw_payload` JSON text column.
 */
export const PAYLOAD_FIELD = '_pw_payload';

/** True if an expression of type `type` may be passed where `kind` is taken. */
export function accepts(kind: ArgKind, type: SqlType): boolean {
  if (type === 'null' || kind === 'any') return true;
  switch (kind) {
    case 'number': return type === 'int' || type === 'double';
    case 'double': return type === 'int' || type === 'double';
    case 'interval': return type === 'int';
    default: return kind === type;
  }
}

/** `int` when every argument is an int (or NULL), else `double`: the result type of abs, mod, … */
export const numericResult = (args: readonly Expr[]): SqlType => (args.every((a) => a.type === 'int' || a.type === 'null') ? 'int' : 'double');

/** A problem unless argument `i` is a literal (a constant the plan can check and precompile). */
export function literalArg(args: readonly Expr[], i: number, what: string): ArgProblem | undefined {
  const a = args[i];
  return a && a.kind !== 'LiteralExpr' ? { message: `${what} must be a constant (a literal), not an expression`, arg: i } : undefined;
}
