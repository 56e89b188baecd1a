/**
 * Compiles bound expressions into JavaScript closures for the hot path. SQL semantics:
 * NULL propagates through operators, AND/OR/NOT use three-valued logic; arithmetic follows
 * arithmetic.ts (exact ints in ±(2^53 − 1), finite doubles, NULL on overflow and on division or
 * modulo by zero), CAST follows cast.ts, and text compares by code point (value-text.ts), each
 * as the cold path's compiled SQL does. Timestamps are epoch milliseconds.
 */
import { assertNever, InternalError } from '../../errors.js';
import type { ComparisonOp, Expr, SqlType } from '../../plan/expr.js';
import { parseTimestampMs } from '../../util/timestamp.js';
import { compileArithmetic, finiteOrNull, intOrNull, negate } from './arithmetic.js';
import { compileCast, type Val } from './cast.js';
import { HOT_FUNCTIONS } from './functions/index.js';
import { PAYLOAD_FIELD, scalarFunction } from '../../plan/functions/index.js';
import { likeRegExp } from './like.js';
import { compareText, doubleToText, timestampToText } from './value-text.js';

export type { Val } from './cast.js';

/** How leaves read their values from the context `C`. */
export interface Leaves<C> {
  /** `table`: the field is one of the joined reference table's row (see {@link JOINED_ROW}). */
  field?: (path: string, type: Expr['type'], table: string | undefined) => (ctx: C) => Val;
  windowBound?: (bound: 'window_start' | 'window_end') => (ctx: C) => Val;
  key?: (index: number) => (ctx: C) => Val;
  agg?: (index: number) => (ctx: C) => Val;
}

export type Evaluator<C> = (ctx: C) => Val;

function leaf<T>(f: T | undefined, what: string): T {
  if (!f) throw new InternalError(`${what} is not readable in this expression context`);
  return f;
}

/** Orders two non-NULL values of one comparable type: text by code point, others natively. */
export function order(a: Val, b: Val): number {
  if (typeof a === 'string') return compareText(a, b as string);
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

function compare(op: ComparisonOp, a: Val, b: Val): Val {
  if (a === null || b === null) return null;
  switch (op) {
    case '=': return a === b;
    case '<>': return a !== b;
    case '<': return order(a, b) < 0;
    case '<=': return order(a, b) <= 0;
    case '>': return order(a, b) > 0;
    case '>=': return order(a, b) >= 0;
    default: return assertNever(op, 'comparison');
  }
}

/** The text of a non-NULL value of type `type`, as `CAST(x AS VARCHAR)` gives it (for `||`). */
export function textOf(type: SqlType): (v: Val) => Val {
  switch (type) {
    case 'string': return (v) => v;
    case 'int': return (v) => String(v);
    case 'double': return (v) => doubleToText(v as number);
    case 'boolean': return (v) => (v ? 'true' : 'false');
    case 'timestamp': return (v) => timestampToText(v as number);
    case 'null': return () => null;
    default: return assertNever(type, 'type');
  }
}

/** A literal as the value domain holds it: ints past ±(2^53 − 1) and non-finite doubles are NULL. */
function literalValue(e: Extract<Expr, { kind: 'LiteralExpr' }>): Val {
  if (typeof e.value !== 'number') return e.value;
  if (e.type === 'int') return intOrNull(e.value);
  if (e.type === 'double') return finiteOrNull(e.value);
  return e.value;
}

/** Compiles `expr` to a closure over the context type `C`. */
export function compileExpr<C>(expr: Expr, leaves: Leaves<C>): Evaluator<C> {
  const c = (e: Expr): Evaluator<C> => compileExpr(e, leaves);
  switch (expr.kind) {
    case 'FieldExpr': return leaf(leaves.field, 'a field')(expr.path, expr.type, expr.table);
    case 'WindowBoundExpr': return leaf(leaves.windowBound, 'a window bound')(expr.bound);
    case 'KeyRefExpr': return leaf(leaves.key, 'a group key')(expr.index);
    case 'AggRefExpr': return leaf(leaves.agg, 'an aggregate')(expr.index);
    case 'LiteralExpr': { const v = literalValue(expr); return () => v; }
    case 'NegateExpr': {
      const o = c(expr.operand);
      const neg = negate(expr.type);
      return (x) => { const v = o(x); return v === null ? null : neg(v as number); };
    }
    case 'NotExpr': { const o = c(expr.operand); return (x) => { const v = o(x); return v === null ? null : !v; }; }
    case 'BinaryExpr': {
      const l = c(expr.left);
      const r = c(expr.right);
      switch (expr.op) {
        case 'AND': return (x) => {
          const a = l(x);
          if (a === false) return false;
          const b = r(x);
          if (b === false) return false;
          return a === null || b === null ? null : true;
        };
        case 'OR': return (x) => {
          const a = l(x);
          if (a === true) return true;
          const b = r(x);
          if (b === true) return true;
          return a === null || b === null ? null : false;
        };
        case '+': case '-': case '*': case '/': case '%': return compileArithmetic(expr.op, expr.type, l, r);
        case '||': {
          const lt = textOf(expr.left.type);
          const rt = textOf(expr.right.type);
          return (x) => {
            const a = l(x);
            const b = r(x);
            if (a === null || b === null) return null;
            const sa = lt(a);
            const sb = rt(b);
            return sa === null || sb === null ? null : `${String(sa)}${String(sb)}`;
          };
        }
        case '=': case '<>': case '<': case '<=': case '>': case '>=': {
          const op = expr.op;
          return (x) => compare(op, l(x), r(x));
        }
        default: return assertNever(expr.op, 'operator');
      }
    }
    case 'InExpr': {
      const o = c(expr.operand);
      const list = expr.list.map(c);
      const neg = expr.negated;
      return (x) => {
        const v = o(x);
        if (v === null) return null;
        let sawNull = false;
        for (const item of list) {
          const w = item(x);
          if (w === null) sawNull = true; else if (w === v) return !neg;
        }
        return sawNull ? null : neg;
      };
    }
    case 'BetweenExpr': {
      const o = c(expr.operand);
      const lo = c(expr.low);
      const hi = c(expr.high);
      const neg = expr.negated;
      return (x) => {
        const v = o(x);
        const a = compare('>=', v, lo(x));
        const b = compare('<=', v, hi(x));
        const both = a === false || b === false ? false : a === null || b === null ? null : true;
        return both === null ? null : neg ? !both : both;
      };
    }
    case 'LikeExpr': {
      const o = c(expr.operand);
      const p = c(expr.pattern);
      const neg = expr.negated;
      return (x) => {
        const v = o(x);
        const pat = p(x);
        if (v === null || pat === null) return null;
        const m = likeRegExp(String(pat), expr.escape).test(String(v));
        return neg ? !m : m;
      };
    }
    case 'IsNullExpr': { const o = c(expr.operand); const neg = expr.negated; return (x) => (o(x) === null) !== neg; };
    case 'CaseExpr': {
      const operand = expr.operand ? c(expr.operand) : undefined;
      const whens = expr.whens.map((w) => ({ when: c(w.when), then: c(w.then) }));
      const otherwise = expr.otherwise ? c(expr.otherwise) : () => null;
      return (x) => {
        const v = operand ? operand(x) : undefined;
        for (const w of whens) {
          const cond = w.when(x);
          if (operand ? v !== null && cond !== null && v === cond : cond === true) return w.then(x);
        }
        return otherwise(x);
      };
    }
    case 'CastExpr': {
      const o = c(expr.operand);
      const cast = compileCast(expr.operand.type, expr.type);
      return (x) => cast(o(x));
    }
    case 'CoalesceExpr': {
      const args = expr.args.map(c);
      return (x) => { for (const a of args) { const v = a(x); if (v !== null) return v; } return null; };
    }
    case 'CallExpr': return compileCall(expr, expr.args.map(c));
    default: return assertNever(expr, 'expression');
  }
}

/**
 * A library function call: the arguments evaluated in order into one reused array (calls do
 * not keep it), and for a strict function NULL as soon as one argument is NULL.
 */
function compileCall<C>(call: Extract<Expr, { kind: 'CallExpr' }>, args: readonly Evaluator<C>[]): Evaluator<C> {
  const make = HOT_FUNCTIONS[call.fn];
  const def = scalarFunction(call.fn);
  if (!make || !def) throw new InternalError(`scalar function ${call.fn}() has no hot-path implementation`);
  const f = make(call);
  const values: Val[] = new Array<Val>(args.length).fill(null);
  const n = args.length;
  if (def.strict) {
    return (x) => {
      for (let i = 0; i < n; i++) {
        const v = (args[i] as Evaluator<C>)(x);
        if (v === null) return null;
        values[i] = v;
      }
      return f(values);
    };
  }
  return (x) => {
    for (let i = 0; i < n; i++) values[i] = (args[i] as Evaluator<C>)(x);
    return f(values);
  };
}

/**
 * The payload key under which a lookup join hangs the joined table row (null when a LEFT join
 * found none). Not a catalog field name (those are identifiers), and set non-enumerable, so it
 * is never serialized with the payload.
 */
export const JOINED_ROW = '$joined';

/** The payload of `payload` joined with `row` (the payload itself is not changed). */
export function withJoinedRow(payload: Record<string, unknown>, row: Readonly<Record<string, unknown>> | null): Record<string, unknown> {
  const out = { ...payload };
  Object.defineProperty(out, JOINED_ROW, { value: row, enumerable: false });
  return out;
}

/**
 * A getter for a payload field by dot path (of the joined table row with `table`); timestamps
 * are read as epoch ms. PAYLOAD_FIELD reads the payload object itself, which only a function's
 * `payloadArg` binds to (and only it reads).
 */
export function fieldGetter(path: string, type: Expr['type'], table?: string): (payload: Record<string, unknown>) => Val {
  // The whole payload, an object, for the one function argument bound to it (json_extract_string).
  if (path === PAYLOAD_FIELD) return (p) => p as unknown as Val;
  const segs = table === undefined ? path.split('.') : [JOINED_ROW, ...path.split('.')];
  const norm = type === 'timestamp'
    ? (v: unknown): Val => (v === undefined || v === null ? null : parseTimestampMs(v) ?? null)
    : (v: unknown): Val => (v === undefined ? null : (v as Val));
  if (segs.length === 1) { const a = segs[0] as string; return (p) => norm(p[a]); }
  if (segs.length === 2) {
    const [a, b] = segs as [string, string];
    return (p) => { const o = p[a] as Record<string, unknown> | null | undefined; return norm(o === null || o === undefined ? undefined : o[b]); };
  }
  return (p) => {
    let cur: unknown = p;
    for (const s of segs) { if (cur === null || typeof cur !== 'object') return null; cur = (cur as Record<string, unknown>)[s]; }
    return norm(cur);
  };
}

/** Compiles a row-level expression (WHERE, keys, aggregate arguments) over a payload. */
export function compileRowExpr(expr: Expr): Evaluator<Record<string, unknown>> {
  return compileExpr<Record<string, unknown>>(expr, { field: fieldGetter });
}
