/**
 * `a IS [NOT] DISTINCT FROM b`, the NULL-safe comparison (PostgreSQL, DuckDB), which
 * node-sql-parser's PostgreSQL grammar does not read. Before parsing, the words are replaced by an
 * operator the grammar reads at comparison precedence, padded with spaces to the same length (line
 * breaks kept, so every offset and line stays): `!~*` for IS DISTINCT FROM, `!~` for IS NOT
 * DISTINCT FROM. `a + 1 IS DISTINCT FROM b AND c` then parses as ((a + 1) !~* b) AND c; the
 * binder reads the two operators back as the comparisons (plan/bind-expr.ts). Those operators
 * (PostgreSQL's regular-expression no-match) are refused when a metric writes them itself.
 */
import { PlanError } from '../errors.js';
import type { SourceText } from './source-text.js';

/** The operator each form becomes. */
export const DISTINCT_FROM_OPERATOR = '!~*';
export const NOT_DISTINCT_FROM_OPERATOR = '!~';

/** The text with string literals, quoted identifiers and comments blanked (same length). */
function codeOnly(text: string): string {
  return text.replace(/'(?:[^']|'')*'?|"(?:[^"]|"")*"?|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/g, (m) => m.replace(/[^\n]/g, ' '));
}

/** Replaces every IS [NOT] DISTINCT FROM outside literals and comments; refuses a written `!~`. */
export function rewriteDistinctFrom(text: string, source: SourceText): string {
  if (!text.includes('!~') && !/distinct/i.test(text)) return text;
  const code = codeOnly(text);
  const own = code.indexOf('!~');
  if (own >= 0) {
    const op = code.startsWith('!~*', own) ? '!~*' : '!~';
    throw new PlanError('PW_PLAN_UNSUPPORTED', `the operator ${op} (regular-expression no-match) is not supported; for a NULL-safe comparison write a IS ${op === '!~' ? 'NOT ' : ''}DISTINCT FROM b`,
      { position: source.position(own) });
  }
  let out = text;
  for (const m of code.matchAll(/\bIS(\s+NOT)?\s+DISTINCT\s+FROM\b/gi)) {
    const op = m[1] ? NOT_DISTINCT_FROM_OPERATOR : DISTINCT_FROM_OPERATOR;
    const blank = m[0].replace(/[^\n]/g, ' ');
    out = out.slice(0, m.index) + op + blank.slice(op.length) + out.slice(m.index + m[0].length);
  }
  return out;
}
