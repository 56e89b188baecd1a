/**
 * Parses one metric file: optional leading `-- emit: on_window_close | on_update` and
 * `-- tier: critical | standard | batch` comments
 * and one `CREATE VIEW <metric> AS SELECT …;` statement (node-sql-parser, PostgreSQL dialect).
 * Syntax errors carry file:line:col. Three gaps of the parser are closed here: FILTER after
 * pitwall's own aggregates ({@link liftCallFilters}), AND binding tighter than OR
 * ({@link fixBooleanPrecedence}) and IS [NOT] DISTINCT FROM ({@link rewriteDistinctFrom}). The file's size, nesting and identifier lengths are bounded
 * ({@link SQL_LIMITS}) before anything recursive runs over it, and a UTF-8 byte-order mark at
 * its start is ignored.
 */
// The PostgreSQL-only build: one grammar (0.3 MB) instead of every dialect (2.5 MB) at each start.
import sqlParser from 'node-sql-parser/build/postgresql.js';
import { PlanError } from '../errors.js';
import { SourceText } from './source-text.js';
import type { SqlNode } from './ast.js';
import { findTooDeep } from './ast-depth.js';
import { AstUsage } from './ast-usage.js';
import { fixBooleanPrecedence } from './bool-precedence.js';
import { attachCallFilters, liftCallFilters } from './call-filter.js';
import { rewriteDistinctFrom } from './distinct-from.js';
import { hideBackslashes } from './literal-backslashes.js';
import { meteredInput, ParseBudgetExceeded, type MeteredInput } from './metered-input.js';
import { stripBom } from '../util/utf8.js';
import { SQL_LIMITS } from './sql-limits.js';

const parser = new sqlParser.Parser();
const astify = (input: MeteredInput): unknown => parser.astify(input.input, { database: 'PostgresQL', trimQuery: false, parseOptions: { includeLocations: true } });

export const EMIT_MODES = ['on_window_close', 'on_update'] as const;
export type EmitMode = (typeof EMIT_MODES)[number];

/**
 * A metric's priority under load (README "Shedding and backfill"): at peak the engine stops
 * computing `batch` metrics on the hot path first, then `standard`; `critical` ones always run.
 */
export const TIERS = ['critical', 'standard', 'batch'] as const;
export type Tier = (typeof TIERS)[number];

export interface ParsedQuery {
  readonly name: string;
  readonly emit: EmitMode;
  /** Priority under load; `standard` when not declared. */
  readonly tier: Tier;
  /** The SELECT of the view, as node-sql-parser's AST, seen through `usage` (every read is recorded). */
  readonly select: SqlNode;
  readonly source: SourceText;
  /** What of the statement has been read so far; the planner rejects what it leaves unread. */
  readonly usage: AstUsage;
}

const tooDeep = (source: SourceText, offset: number, parens = false): PlanError => new PlanError('PW_SQL_TOO_DEEP', parens
  ? `parentheses nested more than ${SQL_LIMITS.maxParenDepth} deep; simplify the expression`
  : `expression nested too deeply (more than ${SQL_LIMITS.maxExprDepth} levels: each operator, call, CASE and CAST is one, and a chain a OR b OR … one per term); simplify it, and write long OR chains as x IN (…)`,
{ position: source.position(offset) });

/** Size, parenthesis nesting and identifier lengths: checked on the text, before the parser runs. */
function checkText(source: SourceText): void {
  const deepParen = source.firstParenAtLevel(SQL_LIMITS.maxParenDepth + 1);
  if (deepParen !== undefined) throw tooDeep(source, deepParen, true);
  const long = source.firstLongIdentifier(SQL_LIMITS.maxNameLength);
  if (long) {
    throw new PlanError('PW_SQL_NAME_TOO_LONG', `identifier '${long.text.slice(0, 20)}…' has ${[...long.text].length} characters; names are at most ${SQL_LIMITS.maxNameLength}`,
      { position: source.position(long.offset) });
  }
}

const isStackOverflow = (err: unknown): boolean => err instanceof RangeError && /call stack/i.test(err.message);

function leadingDirectives(source: SourceText): { emit: EmitMode; tier: Tier } {
  let emit: EmitMode = 'on_window_close';
  let tier: Tier = 'standard';
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
    const t = /^--\s*tier\s*:\s*(\S*)\s*$/i.exec(trimmed);
    if (t) {
      const value = (t[1] ?? '').toLowerCase();
      if (!(TIERS as readonly string[]).includes(value)) {
        throw new PlanError('PW_SQL_TIER', `unknown tier '${t[1] ?? ''}'; use -- tier: critical, -- tier: standard (default) or -- tier: batch`,
          { position: source.position(offset + line.indexOf(t[1] ?? '', line.indexOf(':'))) });
      }
      tier = value as Tier;
    }
    offset += line.length + 1;
  }
  return { emit, tier };
}

interface PegError { message: string; found?: string | null; location?: { start: { offset: number } } }

/** The name of the call whose parenthesis is still open at the end of `text`, if any (strings and comments are not skipped: a hint only). */
function enclosingCall(text: string): string | undefined {
  let depth = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text[i];
    if (c === ')') depth++;
    else if (c === '(') {
      if (depth === 0) return /([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(text.slice(0, i))?.[1];
      depth--;
    }
  }
  return undefined;
}

/** Parses a metric file's text. `file` is used in positions only. */
export function parseQuery(file: string, fileText: string): ParsedQuery {
  // A byte-order mark (Windows editors write one) is not part of the SQL; columns count without it.
  const text = stripBom(fileText);
  if (text.length > SQL_LIMITS.maxFileChars) {
    throw new PlanError('PW_SQL_TOO_LONG', `the file has ${text.length} characters; a metric file holds at most ${SQL_LIMITS.maxFileChars}: shorten it (e.g. long IN lists)`,
      { position: { file, line: 1, col: 1 } });
  }
  const source = new SourceText(file, text);
  checkText(source);
  const { emit, tier } = leadingDirectives(source);
  const rewritten = rewriteDistinctFrom(text, source);
  let ast: unknown;
  let metered: MeteredInput | undefined;
  const parse = (sql: string): unknown => {
    metered = meteredInput(sql);
    return astify(metered);
  };
  try {
    const hidden = hideBackslashes(rewritten);
    const lifted = liftCallFilters(hidden.text, (padded) => hidden.restore((parse(padded) as SqlNode).where as SqlNode));
    ast = hidden.restore(parse(lifted.text));
    attachCallFilters(ast, lifted.filters);
  } catch (err) {
    if (err instanceof ParseBudgetExceeded) {
      throw new PlanError('PW_SQL_TOO_DEEP', `too complex to parse: parenthesized AND/OR groups nested inside one another (such as ((a OR b) AND c) OR d) make the parser's work double with each level; flatten the nesting`,
        { position: source.position(source.firstParenAtLevel(source.maxParenLevel) ?? metered?.furthest() ?? 0) });
    }
    // Nesting the text checks cannot see (NOT NOT NOT …) can still run the parser out of stack.
    if (isStackOverflow(err)) throw tooDeep(source, source.findKeyword('create', 0) ?? 0);
    if (!(err instanceof Error) || !('location' in err)) {
      // The parser's grammar actions throw plain errors for some statements it cannot represent.
      throw new PlanError('PW_SQL_SYNTAX', `SQL syntax error: the parser rejected the statement (${err instanceof Error ? err.message : String(err)}); a metric is CREATE VIEW <name> AS SELECT …`,
        { position: source.position(Math.min(metered?.furthest() ?? 0, text.length)), cause: err });
    }
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
    // SUBSTRING(s FROM a FOR b), the SQL-standard keyword form: the library takes the comma form.
    const call = /^(from|for)$/i.test(word ?? '') ? enclosingCall(before) : undefined;
    if (call && /^(substring|substr)$/i.test(call)) {
      throw new PlanError('PW_PLAN_UNSUPPORTED', `the keyword form ${call}(s FROM start FOR length) is not supported; write ${call.toLowerCase()}(s, start, length)`, {
        position: source.position(offset), cause: err,
      });
    }
    // The character from the file, not the parser's `found` (which sees hidden backslashes).
    const found = word ? `'${word}'` : offset >= text.length ? 'end of input' : `'${text[offset] ?? ''}'`;
    throw new PlanError('PW_SQL_SYNTAX', `SQL syntax error: unexpected ${found}; a metric is CREATE VIEW <name> AS SELECT …`, {
      position: source.position(offset), cause: err,
    });
  }
  // Measured without recursion; from here on every walk of the tree is bounded by the limit.
  const deep = findTooDeep(ast, SQL_LIMITS.maxExprDepth);
  if (deep) throw tooDeep(source, deep.offset);
  ast = fixBooleanPrecedence(ast);
  const statements = (Array.isArray(ast) ? ast : [ast]) as SqlNode[];
  if (statements.length !== 1) {
    // Point at the second statement: its keyword after the first statement's semicolon.
    const second = source.findKeyword(String(statements[1]?.type ?? ''), 0, (source.semicolons[0] ?? -1) + 1);
    throw new PlanError('PW_SQL_STATEMENTS', `a metric file holds exactly one CREATE VIEW statement, found ${statements.length}; put each metric in its own .sql file`,
      { position: source.position(second ?? 0) });
  }
  const usage = new AstUsage(statements[0] as SqlNode);
  const stmt = usage.root as SqlNode;
  if (stmt.type !== 'create' || stmt.keyword !== 'view') {
    const what = String(stmt.type ?? 'statement').toUpperCase();
    throw new PlanError('PW_SQL_NOT_VIEW', `expected CREATE VIEW <metric> AS SELECT …, found a ${what} statement`,
      { position: source.position(source.findKeyword(String(stmt.type ?? ''), 0) ?? 0) });
  }
  const view = stmt.view as { view?: string; db?: string | null } | string | undefined;
  const name = typeof view === 'string' ? view : view?.view;
  const schema = typeof view === 'string' ? undefined : view?.db;
  const viewAt = source.findKeyword('view', 0) ?? 0;
  if (!name || schema || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    // A metric name is a file name, a topic key part and a URL segment: a plain identifier only.
    const at = schema ? source.findPath([schema], viewAt) : name ? source.findPath([name], viewAt) : viewAt;
    throw new PlanError('PW_SQL_VIEW_NAME', `the view name must be a plain identifier (letters, digits, _; not starting with a digit; no schema), got ${JSON.stringify(schema ? `${schema}.${name ?? ''}` : name ?? '')}`,
      { position: source.position(at) });
  }
  return { name, emit, tier, select: stmt.select as SqlNode, source, usage };
}
