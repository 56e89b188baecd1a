/**
 * Regular-expression functions in DuckDB SQL, value for value as hot/eval/functions/regexp.ts:
 * the pattern, parsed at plan time, is written out as explicit RE2 source (a SQL literal of
 * ASCII, so DuckDB compiles it once), never the user's text as written.
 */
import { callGroup, callRegexp } from '../../plan/functions/regexp.js';
import { re2Source } from '../../plan/functions/regexp-subset.js';
import { withLiteralArg } from './literal-arg.js';
import type { ColdFunction } from './types.js';

const patternSql = (call: Parameters<ColdFunction>[0], before = '', after = ''): string => `'${before}${re2Source(callRegexp(call)).replace(/'/g, "''")}${after}'`;

export const COLD_REGEXP: Readonly<Record<string, ColdFunction>> = {
  // A search written as a whole-text match between two runs of anything: DuckDB's optimizer
  // rewrites regexp_matches with a literal-looking pattern to contains/prefix/suffix tests and
  // loses anchors on the way (regexp_matches(s, '$a') is true for s = 'a'); full matches of
  // this shape are left alone.
  regexp_matches: (call, [s, p]) => withLiteralArg(p, `regexp_full_match(${s ?? 'NULL'}, ${patternSql(call, '(?s:.*)(?:', ')(?s:.*)')})`),
  regexp_extract: (call, [s, p]) => withLiteralArg(p, `regexp_extract(${s ?? 'NULL'}, ${patternSql(call)}, ${callGroup(call)})`),
};
