/**
 * The text forms `CAST(text AS …)` reads, written once as regular-expression sources that both
 * paths use: the hot path compiles them with `new RegExp`, the cold path embeds the same text in
 * DuckDB's `regexp_extract` (RE2). They use only ASCII character classes, greedy quantifiers,
 * capturing and non-capturing groups and `^…$` anchors, on which ECMAScript (without flags) and
 * RE2 agree: `$` matches only at the very end, `[0-9]` never matches other Unicode digits, and
 * no case folding is involved (letters are spelled `[tT]`, because RE2's `(?i)` folds `s` with
 * `ſ` and `k` with the Kelvin sign). `\x0B` is the vertical tab (RE2 has no `\v`).
 *
 * Whitespace is PostgreSQL's (C `isspace`: space, \t, \n, \v, \f, \r), allowed before and after
 * every form, never inside a number.
 */

/** Optional whitespace: space, tab, line feed, vertical tab, form feed, carriage return. */
const WS = '[ \\t\\n\\x0B\\f\\r]*';

/**
 * BIGINT: an optional sign and decimal digits (PostgreSQL `int8in` without the PostgreSQL 16
 * extensions: no `0x`/`0o`/`0b` prefixes, no `_` separators, no decimal point or exponent).
 * Group 1: the signed digits.
 */
export const INT_TEXT = `^${WS}([+-]?[0-9]+)${WS}$`;

/**
 * DOUBLE: a decimal number with an optional fraction and exponent (`1`, `-1.5`, `.5`, `5.`,
 * `1e-3`, `+2.5E+10`), PostgreSQL's `float8in` syntax minus its special words: `inf`,
 * `Infinity`, `NaN` are not numbers here (pitwall doubles are finite). Group 1: the number.
 */
export const DOUBLE_TEXT = `^${WS}([+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?)${WS}$`;

/**
 * BOOLEAN true, as PostgreSQL's `boolin`: `true` or a prefix of it (`t`, `tr`, `tru`), `yes` or a
 * prefix (`y`, `ye`), `on`, `1`; ASCII letters in any case.
 */
export const TRUE_TEXT = `^${WS}(?:[tT](?:[rR](?:[uU][eE]?)?)?|[yY](?:[eE][sS]?)?|[oO][nN]|1)${WS}$`;

/** BOOLEAN false, as PostgreSQL's `boolin`: `false` or a prefix, `no`, `n`, `off`, `of`, `0`. */
export const FALSE_TEXT = `^${WS}(?:[fF](?:[aA](?:[lL](?:[sS][eE]?)?)?)?|[nN][oO]?|[oO][fF][fF]?|0)${WS}$`;

/**
 * TIMESTAMP: `YYYY-MM-DD`, optionally followed by `T` or a space and `HH:MM`, `HH:MM:SS` or
 * `HH:MM:SS.fraction` (any number of digits, truncated to milliseconds), then optionally by a
 * UTC offset `Z`, `z`, `±HH`, `±HHMM` or `±HH:MM` (whitespace allowed before it). Without an
 * offset the text is UTC, as the catalog reads event times. Groups, in order:
 * {@link TIMESTAMP_GROUPS}.
 */
export const TIMESTAMP_TEXT = `^${WS}([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\\.([0-9]+))?)?)?${WS}(?:([Zz])|([+-])([0-9]{2})(?::?([0-9]{2}))?)?${WS}$`;

/** Names of the capture groups of {@link TIMESTAMP_TEXT}, in order. */
export const TIMESTAMP_GROUPS = ['y', 'mo', 'd', 'h', 'mi', 's', 'f', 'z', 'sg', 'oh', 'om'] as const;
