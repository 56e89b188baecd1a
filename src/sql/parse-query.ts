/**
 * Parses one metric file: an optional leading `-- emit: on_window_close | on_update` comment
 * and one `CREATE VIEW <metric> AS SELECT …;` statement (node-sql-parser, PostgreSQL dialect).
 * Syntax errors carry file:line:col.
 */
import sqlParser from 'node-sql-parser';
import { PlanError } from '../errors.js';
import { SourceText } from './source-text.js';
import type { SqlNode } from './ast.js';

const parser = new sqlParser.Parser();

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
    ast = parser.astify(text, { database: 'PostgresQL', parseOptions: { includeLocations: true } });
  } catch (err) {
    const e = err as PegError;
    const found = e.found === null || e.found === undefined ? 'end of input' : `'${e.found}'`;
    throw new PlanError('PW_SQL_SYNTAX', `SQL syntax error: unexpected ${found}; a metric is CREATE VIEW <name> AS SELECT …`, {
      position: source.position(e.location?.start.offset ?? 0), cause: err,
    });
  }
  const statements = (Array.isArray(ast) ? ast : [ast]) as SqlNode[];
  if (statements.length !== 1) {
    throw new PlanError('PW_SQL_STATEMENTS', `a metric file holds exactly one CREATE VIEW statement, found ${statements.length}; put each metric in its own .sql file`,
      { position: source.position(0) });
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
