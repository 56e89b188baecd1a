/**
 * Bound, typed scalar expressions: readonly data in a discriminated union. Evaluation lives in
 * visitors (the hot path's evaluator, the DuckDB compiler), never in the nodes.
 *
 * Before aggregation an expression reads payload fields (`FieldExpr`); after aggregation it
 * reads the window bounds, group keys and aggregate results (`WindowBoundExpr`, `KeyRefExpr`,
 * `AggRefExpr`) by slot.
 */
import type { FieldType } from '../catalog/index.js';

/** SQL value types: the catalog's types plus the type of a bare NULL. */
export type SqlType = FieldType | 'null';

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%';
export type ComparisonOp = '=' | '<>' | '<' | '<=' | '>' | '>=';
export type LogicalOp = 'AND' | 'OR';
export type BinaryOp = ArithmeticOp | ComparisonOp | LogicalOp | '||';

export type Expr =
  | FieldExpr | LiteralExpr | WindowBoundExpr | KeyRefExpr | AggRefExpr
  | NegateExpr | NotExpr | BinaryExpr | InExpr | BetweenExpr | LikeExpr | IsNullExpr
  | CaseExpr | CastExpr | CoalesceExpr | CallExpr;

export type ExprKind = Expr['kind'];

/**
 * A payload field by dot path (before aggregation): of the stream's event, or, with `table`, of
 * the version of that reference table's row the event joined (NULL when a LEFT join found none).
 */
export interface FieldExpr { readonly kind: 'FieldExpr'; readonly path: string; readonly type: SqlType; readonly table?: string }
/** A literal. Timestamps are epoch milliseconds. */
export interface LiteralExpr { readonly kind: 'LiteralExpr'; readonly value: string | number | boolean | null; readonly type: SqlType }
/** `window_start` or `window_end` (after window assignment). */
export interface WindowBoundExpr { readonly kind: 'WindowBoundExpr'; readonly bound: 'window_start' | 'window_end'; readonly type: 'timestamp' }
/** The value of group key `index` (after aggregation). */
export interface KeyRefExpr { readonly kind: 'KeyRefExpr'; readonly index: number; readonly name: string; readonly type: SqlType }
/** The result of aggregate `index` (after aggregation). */
export interface AggRefExpr { readonly kind: 'AggRefExpr'; readonly index: number; readonly name: string; readonly type: SqlType }
export interface NegateExpr { readonly kind: 'NegateExpr'; readonly operand: Expr; readonly type: SqlType }
export interface NotExpr { readonly kind: 'NotExpr'; readonly operand: Expr; readonly type: 'boolean' }
export interface BinaryExpr { readonly kind: 'BinaryExpr'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr; readonly type: SqlType }
export interface InExpr { readonly kind: 'InExpr'; readonly operand: Expr; readonly list: readonly Expr[]; readonly negated: boolean; readonly type: 'boolean' }
export interface BetweenExpr { readonly kind: 'BetweenExpr'; readonly operand: Expr; readonly low: Expr; readonly high: Expr; readonly negated: boolean; readonly type: 'boolean' }
/**
 * `LIKE` with `%` and `_` wildcards, case-sensitive. `escape` (one ASCII character, from `ESCAPE
 * '!'`) makes the character after it literal; it is only set with a literal pattern, which the
 * binder has checked does not end with an unpaired escape. Without it, no character escapes.
 */
export interface LikeExpr {
  readonly kind: 'LikeExpr';
  readonly operand: Expr;
  readonly pattern: Expr;
  readonly escape: string | undefined;
  readonly negated: boolean;
  readonly type: 'boolean';
}
export interface IsNullExpr { readonly kind: 'IsNullExpr'; readonly operand: Expr; readonly negated: boolean; readonly type: 'boolean' }
export interface CaseExpr {
  readonly kind: 'CaseExpr';
  /** `CASE x WHEN …` form; undefined for `CASE WHEN cond …`. */
  readonly operand: Expr | undefined;
  readonly whens: readonly { readonly when: Expr; readonly then: Expr }[];
  readonly otherwise: Expr | undefined;
  readonly type: SqlType;
}
/** `CAST(x AS t)`: a value that does not convert becomes NULL (never a run-time failure). */
export interface CastExpr { readonly kind: 'CastExpr'; readonly operand: Expr; readonly type: SqlType }
export interface CoalesceExpr { readonly kind: 'CoalesceExpr'; readonly args: readonly Expr[]; readonly type: SqlType }
/**
 * A call of a scalar function of the library (src/plan/functions): `fn` is its lower-case SQL
 * name, `args` its bound arguments. What it computes, for every input including NULL, is the
 * same on both paths (hot/eval/functions, cold/functions).
 */
export interface CallExpr { readonly kind: 'CallExpr'; readonly fn: string; readonly args: readonly Expr[]; readonly type: SqlType }

export const isNumeric = (t: SqlType): boolean => t === 'int' || t === 'double' || t === 'null';

/** Structural equality, used to match SELECT expressions against GROUP BY keys. */
export function sameExpr(a: Expr, b: Expr): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Calls `visit` on `expr` and every sub-expression. */
export function walkExpr(expr: Expr, visit: (e: Expr) => void): void {
  visit(expr);
  for (const c of exprChildren(expr)) walkExpr(c, visit);
}

export function exprChildren(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case 'FieldExpr': case 'LiteralExpr': case 'WindowBoundExpr': case 'KeyRefExpr': case 'AggRefExpr': return [];
    case 'NegateExpr': case 'NotExpr': case 'IsNullExpr': case 'CastExpr': return [e.operand];
    case 'BinaryExpr': return [e.left, e.right];
    case 'InExpr': return [e.operand, ...e.list];
    case 'BetweenExpr': return [e.operand, e.low, e.high];
    case 'LikeExpr': return [e.operand, e.pattern];
    case 'CaseExpr': return [...(e.operand ? [e.operand] : []), ...e.whens.flatMap((w) => [w.when, w.then]), ...(e.otherwise ? [e.otherwise] : [])];
    case 'CoalesceExpr': case 'CallExpr': return e.args;
  }
}

/** The stream fields an expression reads (table fields of a join are left out). */
export function fieldsOf(expr: Expr): string[] {
  const out: string[] = [];
  walkExpr(expr, (e) => { if (e.kind === 'FieldExpr' && e.table === undefined && !out.includes(e.path)) out.push(e.path); });
  return out;
}

/** True if the expression reads a field of a joined reference table. */
export function readsTable(expr: Expr): boolean {
  let found = false;
  walkExpr(expr, (e) => { if (e.kind === 'FieldExpr' && e.table !== undefined) found = true; });
  return found;
}
