/**
 * Parses one metric file: an optional leading `-- emit: on_window_close | on_update` comment
 * and one `CREATE VIEW <metric> AS SELECT …;` statement (node-sql-parser, PostgreSQL dialect).
 * Syntax errors carry file:line:col. Two gaps of the parser are closed here: FILTER after
 * pitwall's own aggregates ({@link liftCallFilters}) and AND binding tighter than OR
 * ({@link fixBooleanPrecedence}).
 */
// The PostgreSQL-only build: one grammar (0.3 MB) instead of every dialect (2.5 MB) at each start.
import sqlParser from 'node-sql-parser/build/postgresql.js';
import { PlanError } from '../errors.js';
import { SourceText } from './source-text.js';
import type { SqlNode } from './ast.js';
import { fixBooleanPrecedence } from './bool-precedence.js';
import { attachCallFilters, liftCallFilters } from './call-filter.js';

const parser = new sqlParser.Parser();
const astify = (sql: string): unknown => parser.astify(sql, { database: 'PostgresQL', trimQuery: false, parseOptions: { includeLocations: true } });

export const EMIT_MODES = ['on_window_close', 'on_update'] as const;
export type EmitMode = (typeof EMIT_MODES)[number];

export interface ParsedQuery {
  readonly name: string;
  readonly emit: EmitMode;
  /** The SELECT of the view, as node-sql-parser's AST. */
  readonly select: SqlNode;
  readonly source: SourceText;
}

function leadingDirectives(source: SourceText): { emit: EmitMode } {
  let emit: EmitMode = 'on_window_close';
  let offset = 0;
  for (const line of source.text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed !== '' && !trimmed.startsWith('--')) break;
    const m = /^--\s*emit\s*:\s*(\S*)\s*$/i.exec(trimmed);
    if (m) {
      const value = (m[1] ?? '').toLowerCase();
      if (!(EMIT_MODES as readonly string[]).includes(value)) {
        throw new PlanError('PW_SQL_EMIT', `unknown emit mode '${m[1] ?? ''}'; use -- emit: on_window_close (default) or -- emit: on_update`,
          { position: source.position(offset + line.indexOf(m[1] ?? '')) });
      }
      emit = value as EmitMode;
    }
    offset += line.length + 1;
  }
  return { emit };
}

interface PegError { message: string; found?: string | null; location?: { start: { offset: number } } }

/** Parses a metric file's text. `file` is used in positions only. */
export function parseQuery(file: string, text: string): ParsedQuery {
  const source = new SourceText(file, text);
  const { emit } = leadingDirectives(source);
  let ast: unknown;
  try {
    const lifted = liftCallFilters(text, (padded) => (astify(padded) as SqlNode).where as SqlNode);
    ast = astify(lifted.text);
    attachCallFilters(ast, lifted.filters);
    ast = fixBooleanPrecedence(ast);
  } catch (err) {
    if (!(err instanceof Error) || !('location' in err)) throw err; // not a syntax error: a bug, keep it visible
    const e = err as PegError;
    const offset = e.location?.start.offset ?? 0;
    // Name the whole word the parser stopped at, and the constructs it rejects that users write.
    const word = /^\w+/.exec(text.slice(offset))?.[0];
    const before = text.slice(0, offset);
    const tail = /\b(union|intersect|except)\s+(?:all\s+|distinct\s+)?$/i.exec(before);
    const setOp = /^(union|intersect|except)$/i.test(word ?? '') ? { kw: word as string, at: offset } : tail ? { kw: tail[1] as string, at: tail.index } : undefined;
    if (setOp) {
      throw new PlanError('PW_PLAN_SET_OPERATION', `${setOp.kw.toUpperCase()} is not supported: a metric is one SELECT over one stream`, { position: source.position(setOp.at), cause: err });
    }
    const distinct = /(\w+)\s*\(\s*distinct\s+$/i.exec(before);
    if (distinct && distinct[1]?.toUpperCase() !== 'COUNT') {
      throw new PlanError('PW_PLAN_DISTINCT', `DISTINCT is supported in COUNT(DISTINCT x) only, not in ${distinct[1]?.toUpperCase()}()`, {
        position: source.position(before.search(/distinct\s+$/i)), cause: err,
      });
    }
    const found = word ? `'${word}'` : e.found === null || e.found === undefined ? 'end of input' : `'${e.found}'`;
    throw new PlanError('PW_SQL_SYNTAX', `SQL syntax error: unexpected ${found}; a metric is CREATE VIEW <name> AS SELECT …`, {
      position: source.position(offset), cause: err,
    });
  }
  const statements = (Array.isArray(ast) ? ast : [ast]) as SqlNode[];
  if (statements.length !== 1) {
    // Point at the second statement: its keyword after the first statement's semicolon.
    const second = source.findKeyword(String(statements[1]?.type ?? ''), 0, (source.semicolons[0] ?? -1) + 1);
    throw new PlanError('PW_SQL_STATEMENTS', `a metric file holds exactly one CREATE VIEW statement, found ${statements.length}; put each metric in its own .sql file`,
      { position: source.position(second ?? 0) });
  }
  const stmt = statements[0] as SqlNode;
  if (stmt.type !== 'create' || stmt.keyword !== 'view') {
    const what = String(stmt.type ?? 'statement').toUpperCase();
    throw new PlanError('PW_SQL_NOT_VIEW', `expected CREATE VIEW <metric> AS SELECT …, found a ${what} statement`,
      { position: source.position(source.findKeyword(String(stmt.type ?? ''), 0) ?? 0) });
  }
  const view = stmt.view as { view?: string } | string | undefined;
  const name = typeof view === 'string' ? view : view?.view;
  if (!name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new PlanError('PW_SQL_VIEW_NAME', 'the view name must be an identifier (letters, digits, _)', { position: source.position(source.findKeyword('view', 0) ?? 0) });
  }
  return { name, emit, select: stmt.select as SqlNode, source };
}
