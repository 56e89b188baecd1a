/** Conditional functions in DuckDB SQL, value for value as hot/eval/functions/conditional.ts. */
import type { CallExpr, SqlType } from '../../plan/expr.js';
import { commonType } from '../../plan/functions/conditional.js';
import { duckType } from '../duckdb-dialect.js';
import type { ColdFunction } from './types.js';

/** Every argument cast to the call's type, so DuckDB compares them as the hot path does. */
const typed = (type: SqlType, args: readonly string[]): string => args.map((a) => `CAST(${a} AS ${duckType(type)})`).join(', ');

/** Both sides in their common type (an int against a double as doubles: exact in the int range). */
function distinctSql(call: CallExpr, a: string | undefined, b: string | undefined, op: string): string {
  const [x, y] = [a ?? 'NULL', b ?? 'NULL'];
  const common = commonType(call.args);
  return `(CAST(${x} AS ${duckType(common)}) ${op} CAST(${y} AS ${duckType(common)}))`;
}

export const COLD_CONDITIONAL: Readonly<Record<string, ColdFunction>> = {
  // DuckDB's greatest/least skip NULLs and keep the earlier argument on a tie.
  greatest: (call, args) => `greatest(${typed(call.type, args)})`,
  least: (call, args) => `least(${typed(call.type, args)})`,
  nullif: (call, args) => `nullif(${typed(call.type, args)})`,
  is_distinct_from: (call, [a, b]) => distinctSql(call, a, b, 'IS DISTINCT FROM'),
  is_not_distinct_from: (call, [a, b]) => distinctSql(call, a, b, 'IS NOT DISTINCT FROM'),
};
