/**
 * Compiles bound expressions to DuckDB SQL. String values are bound as parameters; numbers,
 * booleans and timestamps (epoch ms) come from the plan as typed values and are written as
 * typed literals. Semantics pinned to match the hot path: `/` is floating-point division and
 * division or modulo by zero is NULL; CAST never fails (TRY_CAST: unconvertible → NULL).
 */
import { assertNever } from '../errors.js';
import type { Expr } from '../plan/index.js';
import { duckType, quoteIdent } from './duckdb-dialect.js';

/** Maps the slots an expression may reference (keys, aggregates, window bounds) to SQL. */
export interface ExprNames {
  readonly field: (path: string) => string;
  readonly key: (index: number) => string;
  readonly agg: (index: number) => string;
  readonly bound: (bound: 'window_start' | 'window_end') => string;
}

export const rowNames: ExprNames = {
  field: quoteIdent,
  key: (i) => `_pw_k${i}`,
  agg: (i) => `_pw_a${i}`,
  bound: (b) => (b === 'window_start' ? '_pw_ws' : '_pw_we'),
};

/** Collects bound parameters while compiling. */
export class Parameters {
  readonly values: (string | number | boolean)[] = [];
  add(value: string): string {
    this.values.push(value);
    return `$${this.values.length}::VARCHAR`;
  }
}

function literal(e: Extract<Expr, { kind: 'LiteralExpr' }>, params: Parameters): string {
  if (e.value === null) return 'NULL';
  switch (e.type) {
    case 'string': return params.add(String(e.value));
    case 'int': return `CAST(${String(e.value)} AS BIGINT)`;
    case 'double': return `CAST(${String(e.value)} AS DOUBLE)`;
    case 'boolean': return e.value ? 'TRUE' : 'FALSE';
    case 'timestamp': return `epoch_ms(CAST(${String(e.value)} AS BIGINT))`;
    case 'null': return 'NULL';
    default: return assertNever(e.type, 'literal type');
  }
}

export function compileExpr(e: Expr, names: ExprNames, params: Parameters): string {
  const c = (x: Expr): string => compileExpr(x, names, params);
  switch (e.kind) {
    case 'FieldExpr': return names.field(e.path);
    case 'LiteralExpr': return literal(e, params);
    case 'WindowBoundExpr': return names.bound(e.bound);
    case 'KeyRefExpr': return names.key(e.index);
    case 'AggRefExpr': return names.agg(e.index);
    case 'NegateExpr': return `(- ${c(e.operand)})`;
    case 'NotExpr': return `(NOT ${c(e.operand)})`;
    case 'BinaryExpr': {
      const l = c(e.left);
      const r = c(e.right);
      if (e.op === '/') return `(CAST(${l} AS DOUBLE) / NULLIF(CAST(${r} AS DOUBLE), 0))`;
      if (e.op === '%') return `(${l} % NULLIF(${r}, 0))`;
      return `(${l} ${e.op} ${r})`;
    }
    case 'InExpr': return `(${c(e.operand)} ${e.negated ? 'NOT IN' : 'IN'} (${e.list.map(c).join(', ')}))`;
    case 'BetweenExpr': return `(${c(e.operand)} ${e.negated ? 'NOT BETWEEN' : 'BETWEEN'} ${c(e.low)} AND ${c(e.high)})`;
    case 'LikeExpr': return `(${c(e.operand)} ${e.negated ? 'NOT LIKE' : 'LIKE'} ${c(e.pattern)})`;
    case 'IsNullExpr': return `(${c(e.operand)} IS ${e.negated ? 'NOT NULL' : 'NULL'})`;
    case 'CaseExpr': {
      const whens = e.whens.map((w) => ` WHEN ${c(w.when)} THEN ${c(w.then)}`).join('');
      return `(CASE${e.operand ? ` ${c(e.operand)}` : ''}${whens}${e.otherwise ? ` ELSE ${c(e.otherwise)}` : ''} END)`;
    }
    case 'CastExpr': return `TRY_CAST(${c(e.operand)} AS ${duckType(e.type)})`;
    case 'CoalesceExpr': return `COALESCE(${e.args.map(c).join(', ')})`;
    default: return assertNever(e, 'expression');
  }
}
