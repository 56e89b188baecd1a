/** Numeric functions in DuckDB SQL, value for value as hot/eval/functions/numeric.ts. */
import type { ColdFunction } from './types.js';

export const COLD_NUMERIC: Readonly<Record<string, ColdFunction>> = {
  abs: (_call, [x]) => `abs(${x ?? 'NULL'})`,
};
