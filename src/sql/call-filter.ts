/**
 * `FILTER (WHERE …)` after pitwall's own aggregates. node-sql-parser reads FILTER only after its
 * built-in aggregates (COUNT, SUM, AVG, MIN, MAX); after any other call, such as
 * `quantile_cont(x, 0.9) FILTER (WHERE …)`, it is a syntax error. So for the calls below the
 * clause is blanked out before parsing (same length: every offset stays), its condition is parsed
 * on its own at the same offsets, and it is attached to the call as the parser would have done.
 */
import { isNode, type SqlNode } from './ast.js';

const CALLS = ['approx_count_distinct', 'quantile_cont', 'approx_quantile'];

export interface LiftedFilter {
  /** Offset just after the call's closing parenthesis (the call node's `loc.end.offset`). */
  readonly callEnd: number;
  readonly where: SqlNode;
}

/** Offset of the parenthesis matching the one at `at`, scanning forward (1) or back (-1); skips '…' literals. */
function matching(text: string, at: number, step: 1 | -1): number {
  let depth = 0;
  for (let i = at; i >= 0 && i < text.length; i += step) {
    const c = text[i];
    if (c === "'") {
      do i += step; while (i >= 0 && i < text.length && text[i] !== "'");
      continue;
    }
    if (c === '(' || c === ')') depth += (c === '(') === (step === 1) ? 1 : -1;
    if (depth === 0) return i;
  }
  return -1;
}

/** The text with its comments blanked (same length), so that nothing inside them is lifted. */
function blankComments(text: string): string {
  return text.replace(/'(?:[^']|'')*'|--[^\n]*|\/\*[\s\S]*?\*\//g, (m) => (m.startsWith("'") ? m : m.replace(/[^\n]/g, ' ')));
}

/**
 * Blanks the FILTER clauses that follow the calls above. `parseWhere` parses a text of the same
 * length holding `SELECT 1 WHERE <condition>` with the condition at its original offset, so its
 * syntax errors point into the user's file.
 */
export function liftCallFilters(text: string, parseWhere: (padded: string) => SqlNode): { text: string; filters: LiftedFilter[] } {
  const code = blankComments(text);
  const filters: LiftedFilter[] = [];
  let out = code;
  for (const m of code.matchAll(/\)\s*filter\s*\(\s*where\b/gi)) {
    const close = m.index;
    const open = matching(code, close, -1);
    const name = open < 0 ? undefined : /(\w+)\s*$/.exec(code.slice(0, open))?.[1]?.toLowerCase();
    const end = matching(code, code.indexOf('(', close + 1), 1);
    const whereAt = close + m[0].length - 'where'.length;
    const prefix = 'SELECT 1 ';
    if (!name || !CALLS.includes(name) || end < 0 || whereAt < prefix.length) continue;
    filters.push({ callEnd: close + 1, where: parseWhere(prefix + ' '.repeat(whereAt - prefix.length) + code.slice(whereAt, end)) });
    out = out.slice(0, close + 1) + code.slice(close + 1, end + 1).replace(/[^\n]/g, ' ') + out.slice(end + 1);
  }
  return { text: filters.length > 0 ? out : text, filters };
}

/** Attaches each lifted condition to its call: `filter: { keyword: 'filter', parentheses: true, where }`. */
export function attachCallFilters(ast: unknown, filters: readonly LiftedFilter[]): void {
  if (filters.length === 0) return;
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) { v.forEach(visit); return; }
    if (!isNode(v)) return;
    const lifted = v.type === 'function' ? filters.find((f) => f.callEnd === (v.loc as { end?: { offset: number } } | undefined)?.end?.offset) : undefined;
    if (lifted) (v as Record<string, unknown>).filter = { keyword: 'filter', parentheses: true, where: lifted.where };
    for (const [key, c] of Object.entries(v)) if (key !== 'loc') visit(c);
  };
  visit(ast);
}
