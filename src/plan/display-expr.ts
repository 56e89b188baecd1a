/** One-line SQL-like rendering of bound expressions, for EXPLAIN and error messages. */
import { assertNever } from '../errors.js';
import { formatTimestamp } from '../util/timestamp.js';
import type { Expr } from './expr.js';

function literal(value: string | number | boolean | null, type: string): string {
  if (value === null) return 'NULL';
  if (type === 'timestamp' && typeof value === 'number') return `TIMESTAMP '${formatTimestamp(value)}'`;
  if (typeof value === 'string') return `'${value.replace(/'/g, "''")}'`;
  return String(value);
}

export function displayExpr(e: Expr): string {
  switch (e.kind) {
    case 'FieldExpr': return e.table === undefined ? e.path : `${e.table}.${e.path}`;
    case 'LiteralExpr': return literal(e.value, e.type);
    case 'WindowBoundExpr': return e.bound;
    case 'KeyRefExpr': return e.name;
    case 'AggRefExpr': return e.name;
    case 'NegateExpr': return `-${displayExpr(e.operand)}`;
    case 'NotExpr': return `NOT (${displayExpr(e.operand)})`;
    case 'BinaryExpr': return `(${displayExpr(e.left)} ${e.op} ${displayExpr(e.right)})`;
    case 'InExpr': return `${displayExpr(e.operand)} ${e.negated ? 'NOT IN' : 'IN'} (${e.list.map(displayExpr).join(', ')})`;
    case 'BetweenExpr': return `${displayExpr(e.operand)} ${e.negated ? 'NOT BETWEEN' : 'BETWEEN'} ${displayExpr(e.low)} AND ${displayExpr(e.high)}`;
    case 'LikeExpr': return `${displayExpr(e.operand)} ${e.negated ? 'NOT LIKE' : 'LIKE'} ${displayExpr(e.pattern)}${e.escape === undefined ? '' : ` ESCAPE ${literal(e.escape, 'string')}`}`;
    case 'IsNullExpr': return `${displayExpr(e.operand)} IS ${e.negated ? 'NOT NULL' : 'NULL'}`;
    case 'CaseExpr': {
      const head = e.operand ? `CASE ${displayExpr(e.operand)}` : 'CASE';
      const whens = e.whens.map((w) => ` WHEN ${displayExpr(w.when)} THEN ${displayExpr(w.then)}`).join('');
      return `${head}${whens}${e.otherwise ? ` ELSE ${displayExpr(e.otherwise)}` : ''} END`;
    }
    case 'CastExpr': return `CAST(${displayExpr(e.operand)} AS ${e.type})`;
    case 'CoalesceExpr': return `COALESCE(${e.args.map(displayExpr).join(', ')})`;
    case 'CallExpr': return `${e.fn}(${e.args.map(displayExpr).join(', ')})`;
    default: return assertNever(e, 'expression');
  }
}
