/** String functions in DuckDB SQL, value for value as hot/eval/functions/string.ts. */
import type { ColdFunction } from './types.js';

export const COLD_STRING: Readonly<Record<string, ColdFunction>> = {
  // DuckDB's length counts Unicode code points (length_grapheme counts graphemes).
  length: (_call, [s]) => `length(${s ?? 'NULL'})`,
};
