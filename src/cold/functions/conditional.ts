/** Conditional functions in DuckDB SQL, value for value as hot/eval/functions/conditional.ts. */
import type { SqlType } from '../../plan/expr.js';
import { duckType } from '../duckdb-dialect.js';
import type { ColdFunction } from './types.js';

/** Every argument cast to the call's type, so DuckDB compares them as the hot path does. */
const typed = (type: SqlType, args: readonly string[]): string => args.map((a) => `CAST(${a} AS ${duckType(type)})`).join(', ');

export const COLD_CONDITIONAL: Readonly<Record<string, ColdFunction>> = {
  // DuckDB's greatest/least skip NULLs and keep the earlier argument on a tie.
  greatest: (call, args) => `greatest(${typed(call.type, args)})`,
  least: (call, args) => `least(${typed(call.type, args)})`,
  nullif: (call, args) => `nullif(${typed(call.type, args)})`,
};
