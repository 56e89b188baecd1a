/**
 * String scalar functions (signatures; semantics in hot/eval/functions/string.ts, DuckDB SQL in
 * cold/functions/string.ts). Positions and lengths count Unicode code points, as DuckDB does.
 */
import type { ScalarFunction } from './types.js';

const strict = { family: 'string', strict: true } as const;

export const STRING_FUNCTIONS: readonly ScalarFunction[] = [
  {
    name: 'length', params: ['string'], result: 'int', ...strict,
    doc: { signature: 'length(s varchar) → bigint', nulls: 'NULL → NULL', example: "length('héllo') = 5 (Unicode code points)" },
  },
  {
    name: 'lower', params: ['string'], result: 'string', ...strict,
    doc: {
      signature: 'lower(s varchar) → varchar', nulls: 'NULL → NULL',
      example: "lower('ÀB İ ΣΑΣ') = 'àb i σασ' (each code point by its Unicode simple lower-case mapping, DuckDB's: no final sigma, İ → i)",
    },
  },
  {
    name: 'upper', params: ['string'], result: 'string', ...strict,
    doc: {
      signature: 'upper(s varchar) → varchar', nulls: 'NULL → NULL',
      example: "upper('straße ǆ ﬀ') = 'STRAẞE Ǆ ﬀ' (each code point by its Unicode simple upper-case mapping, DuckDB's: ß → ẞ, ligatures kept)",
    },
  },
  {
    name: 'substring', params: ['string', 'int', 'int'], optional: 1, result: 'string', ...strict,
    doc: {
      signature: 'substring(s varchar, start bigint [, len bigint]) → varchar', nulls: 'any NULL → NULL',
      example: "substring('héllo', 2, 3) = 'éll'; start counts code points from 1, from the end when negative (-2 → 'lo'); 0 is just before the first; len < 0 takes the len before start; out of range gives ''",
    },
  },
  {
    name: 'trim', params: ['string', 'string'], optional: 1, result: 'string', ...strict,
    doc: {
      signature: 'trim(s varchar [, chars varchar]) → varchar', nulls: 'any NULL → NULL',
      example: "trim(' a ') = 'a'; trim('xax', 'x') = 'a' (removes Unicode space separators, Zs: not tabs or newlines; or any code point of chars)",
    },
  },
  {
    name: 'ltrim', params: ['string', 'string'], optional: 1, result: 'string', ...strict,
    doc: { signature: 'ltrim(s varchar [, chars varchar]) → varchar', nulls: 'any NULL → NULL', example: "ltrim(' a ') = 'a ' (trim at the start only)" },
  },
  {
    name: 'rtrim', params: ['string', 'string'], optional: 1, result: 'string', ...strict,
    doc: { signature: 'rtrim(s varchar [, chars varchar]) → varchar', nulls: 'any NULL → NULL', example: "rtrim(' a ') = ' a' (trim at the end only)" },
  },
  {
    name: 'replace', params: ['string', 'string', 'string'], result: 'string', ...strict,
    doc: {
      signature: 'replace(s varchar, from varchar, to varchar) → varchar', nulls: 'any NULL → NULL',
      example: "replace('aaa', 'aa', 'b') = 'ba' (left to right, not overlapping; from '' changes nothing)",
    },
  },
  {
    name: 'concat', params: ['any'], variadic: true, result: 'string', family: 'string', strict: false,
    doc: {
      signature: 'concat(x any, …) → varchar', nulls: 'NULL arguments are skipped; all NULL → \'\'',
      example: "concat('a', NULL, 1, 2.5, true) = 'a12.5true' (each argument's text form, as ||)",
    },
  },
  {
    name: 'starts_with', params: ['string', 'string'], result: 'boolean', ...strict,
    doc: { signature: 'starts_with(s varchar, prefix varchar) → boolean', nulls: 'any NULL → NULL', example: "starts_with('pitwall', 'pit') = true; any s starts with ''" },
  },
  {
    name: 'contains', params: ['string', 'string'], result: 'boolean', ...strict,
    doc: { signature: 'contains(s varchar, needle varchar) → boolean', nulls: 'any NULL → NULL', example: "contains('pitwall', 'twa') = true; any s contains ''" },
  },
  {
    name: 'split_part', params: ['string', 'string', 'int'], result: 'string', ...strict,
    doc: {
      signature: 'split_part(s varchar, sep varchar, n bigint) → varchar', nulls: 'any NULL → NULL',
      example: "split_part('a,b,c', ',', 2) = 'b'; n < 0 counts from the end (-1 → 'c'); n = 0 or out of range → ''; sep '' splits into code points",
    },
  },
];
