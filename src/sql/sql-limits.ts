/**
 * Bounds on one metric file. They are checked before and right after parsing, so that no file
 * can exhaust the parser's, the binder's or DuckDB's stack, or take long to plan; each breach is
 * a coded error at a position (README.md, "Writing metrics", lists them for analysts).
 */
export const SQL_LIMITS = {
  /** Characters in one metric file (PW_SQL_TOO_LONG). */
  maxFileChars: 100_000,
  /** Parentheses nested inside one another (PW_SQL_TOO_DEEP, at the first parenthesis past it). */
  maxParenDepth: 64,
  /**
   * Levels of the parsed statement: every operator, call, CASE, CAST and clause is one level, so
   * a chain `a OR b OR c …` is as deep as it has terms (PW_SQL_TOO_DEEP). DuckDB's own limit is
   * 1,000 levels and the compiled SQL can be up to three times deeper than the metric's.
   */
  maxExprDepth: 128,
  /**
   * Characters in an identifier: metric, column, stream and alias names (PW_SQL_NAME_TOO_LONG).
   * A metric name becomes a file name, part of a topic key and a URL segment; 63 is PostgreSQL's
   * limit too (it truncates silently; pitwall rejects).
   */
  maxNameLength: 63,
} as const;
