/** Compiling functions whose constant arguments are read at plan time. */

/**
 * `sql` unless `literal`, the SQL of a literal argument that the plan has already read (a
 * pattern, a path), is NULL. It never is (the binder takes a text literal only), but text
 * literals compile to bound parameters, and DuckDB requires a statement to use each of them.
 */
export const withLiteralArg = (literal: string | undefined, sql: string): string => `CASE WHEN ${literal ?? 'NULL'} IS NOT NULL THEN ${sql} END`;
