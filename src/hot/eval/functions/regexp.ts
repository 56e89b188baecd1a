/**
 * Regular-expression functions on the hot path, value for value as cold/functions/regexp.ts:
 * the pattern, parsed at plan time (plan/functions/regexp-subset.ts), is compiled once per call
 * site as an explicit JavaScript RegExp with the `u` flag (code points, as RE2 reads UTF-8).
 */
import { callGroup, callRegexp } from '../../../plan/functions/regexp.js';
import { jsRegexpSource } from '../../../plan/functions/regexp-subset.js';
import type { HotFunction } from './types.js';

const compile = (call: Parameters<HotFunction>[0]): RegExp => new RegExp(jsRegexpSource(callRegexp(call)), 'u');

export const HOT_REGEXP: Readonly<Record<string, HotFunction>> = {
  // A search anywhere in s, as DuckDB's regexp_matches (not a whole-string match).
  regexp_matches: (call) => {
    const re = compile(call);
    return (a) => re.test(a[0] as string);
  },
  // DuckDB's regexp_extract: '' when nothing matches or the group took no part in the match.
  regexp_extract: (call) => {
    const re = compile(call);
    const group = callGroup(call);
    return (a) => re.exec(a[0] as string)?.[group] ?? '';
  },
};
