/**
 * Binds node-sql-parser expressions to typed {@link Expr}s against a stream's fields.
 *
 * Two modes: `row` (WHERE, GROUP BY, aggregate arguments and FILTER) reads payload fields;
 * `aggregate` (SELECT, HAVING, ROW_NUMBER ordering) reads window bounds, group keys and
 * aggregates, registering each distinct aggregate call once. Every rejection is a
 * {@link PlanError} naming the construct, at its position.
 */
import type { FieldDef, StreamDef } from '../catalog/index.js';
import { PlanError } from '../errors.js';
import { accept, child, children, columnPath, functionArgs, functionName, isNode, type SqlNode } from '../sql/ast.js';
import { rawAst } from '../sql/ast-usage.js';
import { DISTINCT_FROM_OPERATOR, NOT_DISTINCT_FROM_OPERATOR } from '../sql/distinct-from.js';
import type { SourceText } from '../sql/source-text.js';
import { didYouMean } from '../util/did-you-mean.js';
import { INTERVAL_HELP, parseIntervalMs } from '../util/duration.js';
import { parseTimestampMs } from '../util/timestamp.js';
import { findBySignature } from './find-by-signature.js';
import { accepts, PAYLOAD_FIELD, SCALAR_FUNCTION_LIST, scalarFunction, type ScalarFunction } from './functions/index.js';
import {
  isNumeric, type AggRefExpr, type BinaryOp, type Expr, type SqlType,
} from './expr.js';
import type { AggregateCall, AggregateFunction, GroupKey } from './nodes.js';

export const AGGREGATE_NAMES = ['COUNT', 'SUM', 'AVG', 'MIN', 'MAX', 'approx_count_distinct', 'quantile_cont', 'approx_quantile'] as const;
const WINDOW_TVFS = ['TUMBLE', 'HOP', 'CUMULATE', 'SESSION'];
const WINDOW_BOUNDS = ['window_start', 'window_end'];

export interface BindScope {
  readonly mode: 'row' | 'aggregate';
  readonly stream: StreamDef;
  readonly source: SourceText;
  /** The clause being bound, for messages (`WHERE`, `SELECT`, …). */
  readonly clause: string;
  /** Names that may prefix a column: the stream name and the FROM alias. */
  readonly qualifiers: readonly string[];
  /** A joined reference table: its fields are readable, prefixed by its name or alias, or alone when unambiguous. */
  readonly join?: { readonly table: StreamDef; readonly qualifiers: readonly string[] };
  /** Offset where the clause starts, to locate nodes the parser gives no position for. */
  readonly hint: number;
  /** Aggregate mode: the group keys. */
  readonly keys?: readonly GroupKey[];
  /** Aggregate mode: the aggregate registry (appended to). */
  readonly aggregates?: AggregateCall[];
}

const CAST_TYPES: Record<string, SqlType> = {
  VARCHAR: 'string', TEXT: 'string', STRING: 'string', CHAR: 'string',
  INT: 'int', INTEGER: 'int', BIGINT: 'int', SMALLINT: 'int', INT4: 'int', INT8: 'int',
  DOUBLE: 'double', FLOAT: 'double', REAL: 'double', FLOAT8: 'double', NUMERIC: 'double', DECIMAL: 'double',
  'DOUBLE PRECISION': 'double', BOOLEAN: 'boolean', BOOL: 'boolean', TIMESTAMP: 'timestamp', TIMESTAMPTZ: 'timestamp',
};

export function offsetOf(tracked: SqlNode, scope: Pick<BindScope, 'source' | 'hint'>): number {
  // Locating a node is not binding it: read the plain AST, so nothing here counts as handled.
  const node = rawAst(tracked);
  if (node.loc) return node.loc.start.offset;
  const { source, hint } = scope;
  if (node.type === 'column_ref' && columnPath(node).join('.') === '*') {
    const star = /(?<![(/]\s*)\*(?!\/)/g;
    star.lastIndex = hint;
    return star.exec(source.text)?.index ?? hint;
  }
  if (node.type === 'column_ref') return source.findPath(columnPath(node), hint);
  // The parser gives these no location: find their first token at or after the clause start.
  if (node.type === 'aggr_func' && typeof node.name === 'string') return source.findKeyword(node.name, undefined, hint) ?? hint;
  if (node.type === 'case') return source.findKeyword('case', undefined, hint) ?? hint;
  if (node.type === 'cast') return node.symbol === '::' ? offsetOf(child(node, 'expr') ?? {}, scope) : source.findKeyword('cast', undefined, hint) ?? hint;
  if (isNode(node.ast)) return source.findKeyword('select', undefined, hint + 1) ?? hint;
  if (node.type === 'number' || node.type === 'bigint' || node.type === 'single_quote_string' || node.type === 'timestamp') {
    const escape = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const quoted = escape(`'${String(node.value)}'`); // the parser keeps '' doubled: this is the source text
    const text = node.type === 'number' || node.type === 'bigint' ? escape(String(node.value)) : node.type === 'timestamp' ? `timestamp\\s*${quoted}` : quoted;
    const re = new RegExp(`(?<![\\w.'])${text}(?![\\w.'])`, 'gi');
    re.lastIndex = hint;
    return re.exec(source.text)?.index ?? hint;
  }
  return hint;
}

export function planError(code: string, message: string, node: SqlNode, scope: Pick<BindScope, 'source' | 'hint'>): PlanError {
  return new PlanError(code, message, { position: scope.source.position(offsetOf(node, scope)) });
}

/** True if the AST holds an aggregate call anywhere. */
export function containsAggregate(tracked: unknown): boolean {
  // A search, not binding: read the plain AST (see AstUsage).
  const node = rawAst(tracked);
  if (Array.isArray(node)) return node.some(containsAggregate);
  if (!isNode(node)) return false;
  if (node.type === 'aggr_func') return true;
  if (node.type === 'function' && isAggregateName(functionName(node))) return true;
  if (node.type === 'select') return false;
  return Object.entries(node).some(([k, v]) => k !== 'loc' && containsAggregate(v));
}

function isAggregateName(name: string): boolean {
  return AGGREGATE_NAMES.some((a) => a.toLowerCase() === name.toLowerCase());
}

const fieldNamed = (def: StreamDef, name: string): FieldDef | undefined =>
  def.fields.get(name) ?? [...def.fields.values()].find((f) => f.path.toLowerCase() === name.toLowerCase());

/**
 * Resolves a column path to a field of the stream or of the joined table: a stream/alias
 * qualifier picks the stream, a table name/alias the table; an unqualified name is the one
 * side that declares it (PW_PLAN_AMBIGUOUS_COLUMN when both do).
 */
function resolveField(path: readonly string[], node: SqlNode, scope: BindScope): Expr {
  let parts = [...path];
  const first = (parts[0] as string).toLowerCase();
  const join = scope.join;
  if (join && parts.length > 1 && join.qualifiers.some((q) => q.toLowerCase() === first)) {
    const name = parts.slice(1).join('.');
    const field = fieldNamed(join.table, name);
    if (!field) {
      throw planError('PW_PLAN_UNKNOWN_COLUMN',
        `unknown column '${name}' of table '${join.table.name}' in ${scope.clause}${didYouMean(name, join.table.fields.keys())} (it declares: ${[...join.table.fields.keys()].join(', ')}; declare new fields in ${join.table.file})`,
        node, scope);
    }
    return { kind: 'FieldExpr', path: field.path, type: field.type, table: join.table.name };
  }
  const qualified = parts.length > 1 && scope.qualifiers.some((q) => q.toLowerCase() === first);
  if (qualified) parts = parts.slice(1);
  const name = parts.join('.');
  const field = fieldNamed(scope.stream, name);
  const tableField = join && !qualified ? fieldNamed(join.table, name) : undefined;
  if (field && tableField && join) {
    throw planError('PW_PLAN_AMBIGUOUS_COLUMN',
      `column '${name}' in ${scope.clause} is declared by stream '${scope.stream.name}' and by table '${join.table.name}'; qualify it: ${scope.qualifiers.at(-1) ?? scope.stream.name}.${name} or ${join.qualifiers.at(-1) ?? join.table.name}.${name}`,
      node, scope);
  }
  if (!field && tableField && join) return { kind: 'FieldExpr', path: tableField.path, type: tableField.type, table: join.table.name };
  if (!field) {
    const candidates = [...scope.stream.fields.keys(), ...(scope.mode === 'aggregate' ? WINDOW_BOUNDS : [])];
    throw planError('PW_PLAN_UNKNOWN_COLUMN',
      `unknown column '${name}' in ${scope.clause}${didYouMean(name, candidates)} (stream '${scope.stream.name}' declares: ${[...scope.stream.fields.keys()].join(', ')}; declare new fields in ${scope.stream.file})`,
      node, scope);
  }
  return { kind: 'FieldExpr', path: field.path, type: field.type };
}

function numberLiteral(node: SqlNode): Expr {
  const raw = node.value;
  const text = String(raw);
  const value = Number(raw);
  const isInt = Number.isInteger(value) && !/[.eE]/.test(text);
  return { kind: 'LiteralExpr', value, type: isInt ? 'int' : 'double' };
}

/**
 * A number the parser kept as text (`1e3`, `9007199254740991`): an int when written without `.`
 * or exponent and exactly representable, a double when finite and not rounded to zero; anything
 * else would silently become another number on one path or both, so it is rejected.
 */
function bigNumberLiteral(node: SqlNode, scope: BindScope): Expr {
  const text = String(node.value);
  const value = Number(text);
  const isInt = !/[.eE]/.test(text);
  const writtenZero = !/[1-9]/.test(text.replace(/[eE].*$/, ''));
  if (isInt ? !Number.isSafeInteger(value) : !Number.isFinite(value) || (value === 0 && !writtenZero)) {
    throw planError('PW_PLAN_UNSUPPORTED', `the number ${text} is outside what both engines hold exactly (integers up to ±9007199254740991, finite doubles)`, node, scope);
  }
  return { kind: 'LiteralExpr', value, type: isInt ? 'int' : 'double' };
}

/** Common type of several (numeric types widen to double; NULL takes the other side's type). */
function unify(types: readonly SqlType[], what: string, node: SqlNode, scope: BindScope): SqlType {
  const real = types.filter((t) => t !== 'null');
  if (real.length === 0) return 'null';
  if (real.every((t) => t === real[0])) return real[0] as SqlType;
  if (real.every((t) => t === 'int' || t === 'double')) return 'double';
  throw planError('PW_PLAN_TYPE', `${what} mixes types ${[...new Set(real)].join(' and ')}; CAST them to one type`, node, scope);
}

function comparable(a: SqlType, b: SqlType): boolean {
  return a === b || a === 'null' || b === 'null' || (isNumeric(a) && isNumeric(b));
}

/** A string literal compared with a timestamp is read as a timestamp at plan time. */
function coerceToTimestamp(e: Expr, other: Expr, node: SqlNode, scope: BindScope): Expr {
  if (other.type === 'timestamp' && e.kind === 'LiteralExpr' && e.type === 'string') {
    const ms = parseTimestampMs(e.value);
    if (ms === undefined) {
      throw planError('PW_PLAN_TIMESTAMP_LITERAL', `'${String(e.value)}' is not an ISO-8601 timestamp`, node, scope);
    }
    return { kind: 'LiteralExpr', value: ms, type: 'timestamp' };
  }
  return e;
}

function expectType(e: Expr, ok: (t: SqlType) => boolean, want: string, node: SqlNode, scope: BindScope): void {
  if (!ok(e.type)) {
    throw planError('PW_PLAN_TYPE', `expected ${want} in ${scope.clause}, got ${e.type}`, node, scope);
  }
}

const isBool = (t: SqlType): boolean => t === 'boolean' || t === 'null';

/**
 * The `ESCAPE '<c>'` of a LIKE (node-sql-parser hangs it on the pattern node), or undefined.
 * Both engines must read the pattern the same way, so the escape is one ASCII character (DuckDB
 * takes one byte), the pattern is a literal, and it does not end with an unpaired escape
 * (DuckDB fails on that at run time). `ESCAPE ''` means no escape character, as in both engines.
 */
function likeEscape(node: SqlNode, patternNode: SqlNode, pattern: Expr, scope: BindScope): string | undefined {
  const clause = child(patternNode, 'escape');
  if (!clause) return undefined;
  const likeAt = { source: scope.source, hint: offsetOf(node, scope) };
  const at = { source: scope.source, hint: scope.source.findKeyword('escape', undefined, likeAt.hint) ?? likeAt.hint };
  const value = child(clause, 'value');
  const text = value?.type === 'single_quote_string' ? String(value.value).replace(/''/g, "'") : undefined;
  if (text === undefined || text.length > 1 || (text !== '' && text.charCodeAt(0) > 0x7f)) {
    throw planError('PW_PLAN_LIKE_ESCAPE', "ESCAPE takes one ASCII character in single quotes, e.g. LIKE 'x!%' ESCAPE '!' (or '' for none)", clause, at);
  }
  if (text === '') return undefined;
  if (pattern.kind !== 'LiteralExpr') {
    throw planError('PW_PLAN_LIKE_ESCAPE', "LIKE … ESCAPE needs a literal pattern ('…'), so that it can be checked before the metric runs", patternNode, likeAt);
  }
  if (typeof pattern.value === 'string') {
    let i = 0;
    while (i < pattern.value.length) i += pattern.value[i] === text ? 2 : 1;
    if (i > pattern.value.length) {
      throw planError('PW_PLAN_LIKE_ESCAPE', `the LIKE pattern ends with its escape character '${text}'; double it ('${text}${text}') to match '${text}' itself`, patternNode, likeAt);
    }
  }
  return text;
}

function bindBinary(node: SqlNode, scope: BindScope): Expr {
  const op = String(node.operator).toUpperCase();
  const leftNode = child(node, 'left') as SqlNode;
  const rightNode = child(node, 'right') as SqlNode;
  if (op === 'IS' || op === 'IS NOT') {
    if (rightNode.type !== 'null') {
      throw planError('PW_PLAN_UNSUPPORTED', `${op} ${String(rightNode.value ?? rightNode.type).toUpperCase()} is not supported; use IS [NOT] NULL or = TRUE`, node, scope);
    }
    return { kind: 'IsNullExpr', operand: bindExpr(leftNode, scope), negated: op === 'IS NOT', type: 'boolean' };
  }
  if (op === 'IN' || op === 'NOT IN') {
    if (rightNode.type !== 'expr_list') {
      throw planError('PW_PLAN_UNSUPPORTED', `${op} with a subquery is not supported; list the values: x IN ('a', 'b')`, node, scope);
    }
    const operand = bindExpr(leftNode, scope);
    const list = children(rightNode, 'value').map((v) => {
      const e = coerceToTimestamp(bindExpr(v, scope), operand, v, scope);
      if (!comparable(operand.type, e.type)) {
        throw planError('PW_PLAN_TYPE', `${op} compares ${operand.type} with ${e.type}`, node, scope);
      }
      return e;
    });
    return { kind: 'InExpr', operand, list, negated: op === 'NOT IN', type: 'boolean' };
  }
  if (op === 'BETWEEN' || op === 'NOT BETWEEN') {
    const operand = bindExpr(leftNode, scope);
    const [lowNode, highNode] = children(rightNode, 'value') as [SqlNode, SqlNode];
    const low = coerceToTimestamp(bindExpr(lowNode, scope), operand, lowNode, scope);
    const high = coerceToTimestamp(bindExpr(highNode, scope), operand, highNode, scope);
    if (!comparable(operand.type, low.type) || !comparable(operand.type, high.type)) {
      throw planError('PW_PLAN_TYPE', `${op} compares ${operand.type} with ${low.type} and ${high.type}`, node, scope);
    }
    return { kind: 'BetweenExpr', operand, low, high, negated: op === 'NOT BETWEEN', type: 'boolean' };
  }
  if (op === 'LIKE' || op === 'NOT LIKE') {
    const operand = bindExpr(leftNode, scope);
    const pattern = bindExpr(rightNode, scope);
    expectType(operand, (t) => t === 'string' || t === 'null', 'a string on the left of LIKE', leftNode, scope);
    expectType(pattern, (t) => t === 'string' || t === 'null', 'a string pattern for LIKE', rightNode, scope);
    const escape = likeEscape(node, rightNode, pattern, scope);
    return { kind: 'LikeExpr', operand, pattern, escape, negated: op === 'NOT LIKE', type: 'boolean' };
  }
  let left = bindExpr(leftNode, scope);
  let right = bindExpr(rightNode, scope);
  const logical = op === 'AND' || op === 'OR';
  if (logical) {
    expectType(left, isBool, `a boolean operand of ${op}`, leftNode, scope);
    expectType(right, isBool, `a boolean operand of ${op}`, rightNode, scope);
    return { kind: 'BinaryExpr', op: op as BinaryOp, left, right, type: 'boolean' };
  }
  if (op === DISTINCT_FROM_OPERATOR || op === NOT_DISTINCT_FROM_OPERATOR) {
    // `a IS [NOT] DISTINCT FROM b`, rewritten to these operators before parsing (sql/distinct-from.ts).
    left = coerceToTimestamp(left, right, leftNode, scope);
    right = coerceToTimestamp(right, left, rightNode, scope);
    const what = op === DISTINCT_FROM_OPERATOR ? 'IS DISTINCT FROM' : 'IS NOT DISTINCT FROM';
    if (!comparable(left.type, right.type)) throw planError('PW_PLAN_TYPE', `cannot compare ${left.type} with ${right.type} (${what}); CAST one side`, node, scope);
    return { kind: 'CallExpr', fn: op === DISTINCT_FROM_OPERATOR ? 'is_distinct_from' : 'is_not_distinct_from', args: [left, right], type: 'boolean' };
  }
  const cmp = op === '!=' ? '<>' : op;
  if (['=', '<>', '<', '<=', '>', '>='].includes(cmp)) {
    left = coerceToTimestamp(left, right, leftNode, scope);
    right = coerceToTimestamp(right, left, rightNode, scope);
    if (!comparable(left.type, right.type)) {
      throw planError('PW_PLAN_TYPE', `cannot compare ${left.type} with ${right.type} (${cmp}); CAST one side`, node, scope);
    }
    return { kind: 'BinaryExpr', op: cmp as BinaryOp, left, right, type: 'boolean' };
  }
  if (['+', '-', '*', '/', '%'].includes(op)) {
    expectType(left, isNumeric, `a number on the left of ${op}`, leftNode, scope);
    expectType(right, isNumeric, `a number on the right of ${op}`, rightNode, scope);
    const type: SqlType = op === '/' ? 'double' : unify([left.type, right.type], op, node, scope);
    return { kind: 'BinaryExpr', op: op as BinaryOp, left, right, type };
  }
  if (op === '||') {
    return { kind: 'BinaryExpr', op: '||', left, right, type: 'string' };
  }
  throw planError('PW_PLAN_UNSUPPORTED', `operator ${op} is not supported; supported: comparison, AND/OR/NOT, + - * / %, ||, IN, BETWEEN, LIKE, IS [NOT] NULL, IS [NOT] DISTINCT FROM`, node, scope);
}

function bindCase(node: SqlNode, scope: BindScope): Expr {
  const operandNode = child(node, 'expr');
  const operand = operandNode ? bindExpr(operandNode, scope) : undefined;
  const whens: { when: Expr; then: Expr }[] = [];
  let otherwise: Expr | undefined;
  for (const arm of children(node, 'args')) {
    const result = bindExpr(child(arm, 'result') as SqlNode, scope);
    if (arm.type === 'else') { otherwise = result; continue; }
    const condNode = child(arm, 'cond') as SqlNode;
    const cond = bindExpr(condNode, scope);
    if (operand) {
      if (!comparable(operand.type, cond.type)) throw planError('PW_PLAN_TYPE', `CASE compares ${operand.type} with ${cond.type}`, condNode, scope);
    } else {
      expectType(cond, isBool, 'a boolean WHEN condition', condNode, scope);
    }
    whens.push({ when: cond, then: result });
  }
  const type = unify([...whens.map((w) => w.then.type), ...(otherwise ? [otherwise.type] : [])], 'CASE', node, scope);
  return { kind: 'CaseExpr', operand, whens, otherwise, type };
}

function bindCast(node: SqlNode, scope: BindScope): Expr {
  // `CAST(x AS t)` and `x::t` mean the same; the spelling (keyword, symbol) is read and accepted.
  accept(node, 'keyword', 'symbol');
  const target = (node.target as { dataType?: string }[] | undefined)?.[0]?.dataType?.toUpperCase() ?? '';
  const type = CAST_TYPES[target];
  if (!type) {
    const start = offsetOf(node, scope);
    const at = { source: scope.source, hint: scope.source.findKeyword(target.split(' ')[0] ?? '', undefined, start) ?? start };
    throw planError('PW_PLAN_CAST_TYPE', `cannot CAST to ${target || 'that type'}; allowed: VARCHAR, BIGINT/INTEGER, DOUBLE, BOOLEAN, TIMESTAMP`, {}, at);
  }
  const operand = bindExpr(child(node, 'expr') as SqlNode, scope);
  // DOUBLE text is left out of the dialect (both paths print it alike, DuckDB's way, but `1.0`
  // surprises users of JavaScript's `1`); TIMESTAMP text is ISO-8601 UTC on both paths
  // (hot/eval/cast.ts), as result rows print it.
  if (type === 'string' && operand.type === 'double') {
    throw planError('PW_PLAN_CAST_UNSUPPORTED', `CAST from ${operand.type} to VARCHAR is not supported (its text form is engine-specific); keep the value as ${operand.type}`, node, scope);
  }
  if ((type === 'timestamp' && operand.type !== 'string' && operand.type !== 'timestamp' && operand.type !== 'null')
    || (operand.type === 'timestamp' && type !== 'timestamp' && type !== 'string')) {
    throw planError('PW_PLAN_CAST_UNSUPPORTED', `CAST from ${operand.type} to ${type} is not supported; timestamps convert only from VARCHAR`, node, scope);
  }
  return { kind: 'CastExpr', operand, type };
}

/** The stream name or FROM alias standing for the whole event payload (row expressions only). */
function bindPayload(fn: ScalarFunction, node: SqlNode, scope: BindScope): Expr {
  const path = node.type === 'column_ref' ? columnPath(node) : [];
  const name = path.length === 1 ? (path[0] as string).toLowerCase() : undefined;
  if (name === undefined || !scope.qualifiers.some((q) => q.toLowerCase() === name)) {
    throw planError('PW_PLAN_ARGUMENTS', `argument ${(fn.payloadArg ?? 0) + 1} of ${fn.name}() must be the stream name or its FROM alias (${scope.qualifiers.join(' or ')}), meaning the whole event payload: ${fn.doc.signature}`, node, scope);
  }
  if (scope.mode === 'aggregate') {
    throw planError('PW_PLAN_NOT_GROUPED', `${fn.name}() reads each event's payload: in ${scope.clause} it must appear in GROUP BY or inside an aggregate function`, node, scope);
  }
  return { kind: 'FieldExpr', path: PAYLOAD_FIELD, type: 'string' };
}

/**
 * Binds a call of a library function: the number of arguments, each argument's kind, and the
 * function's own checks (constant arguments and their values), each refused at the argument.
 */
function bindCall(fn: ScalarFunction, node: SqlNode, argNodes: readonly SqlNode[], scope: BindScope): Expr {
  // TRIM(BOTH 'x' FROM s) and the like: the parser passes the keywords as arguments.
  const keyword = argNodes.find((a) => a.type === 'origin');
  if (keyword) {
    throw planError('PW_PLAN_ARGUMENTS', `${fn.name}() takes arguments separated by commas, not SQL-standard keywords (${String(keyword.value)}): ${fn.doc.signature}`, node, scope);
  }
  const min = fn.params.length - (fn.optional ?? 0);
  const max = fn.variadic ? Infinity : fn.params.length;
  if (argNodes.length < min || argNodes.length > max) {
    const count = fn.variadic ? `at least ${min}` : min === max ? String(min) : `${min} to ${max}`;
    throw planError('PW_PLAN_ARGUMENTS', `${fn.name}() takes ${count} argument${min === 1 && max === 1 ? '' : 's'}: ${fn.doc.signature}`, node, scope);
  }
  const args = argNodes.map((a, i) => (i === fn.payloadArg ? bindPayload(fn, a, scope)
    : fn.params[Math.min(i, fn.params.length - 1)] === 'interval' ? bindIntervalArg(fn, a, i, offsetOf(node, scope), scope) : bindExpr(a, scope)));
  args.forEach((a, i) => {
    const kind = fn.params[Math.min(i, fn.params.length - 1)] ?? 'any';
    if (!accepts(kind, a.type)) {
      throw planError('PW_PLAN_TYPE', `argument ${i + 1} of ${fn.name}() must be ${kind === 'number' ? 'a number' : kind}, got ${a.type}: ${fn.doc.signature}`, argNodes[i] as SqlNode, scope);
    }
  });
  const problem = fn.check?.(args, scope.stream);
  if (problem) throw planError(problem.code ?? 'PW_PLAN_ARGUMENTS', `${fn.name}(): ${problem.message}`, argNodes[problem.arg] ?? node, scope);
  const type = typeof fn.result === 'function' ? fn.result(args) : fn.result;
  return { kind: 'CallExpr', fn: fn.name, args, type };
}

/** An `INTERVAL '…'` argument of a library function: its fixed, positive length in ms, as an int literal. */
function bindIntervalArg(fn: ScalarFunction, node: SqlNode, i: number, callAt: number, scope: BindScope): Expr {
  if (node.type !== 'interval') throw planError('PW_PLAN_TYPE', `argument ${i + 1} of ${fn.name}() must be an interval: ${INTERVAL_HELP}`, node, { source: scope.source, hint: callAt });
  const body = child(node, 'expr');
  const ms = parseIntervalMs(String(body?.value ?? ''), String(node.unit ?? ''));
  const at = { source: scope.source, hint: scope.source.findKeyword('interval', undefined, callAt) ?? callAt };
  if (ms === undefined || ms <= 0) throw planError('PW_PLAN_ARGUMENTS', `argument ${i + 1} of ${fn.name}() must be a positive interval of fixed length: ${INTERVAL_HELP}`, node, at);
  return { kind: 'LiteralExpr', value: ms, type: 'int' };
}

function quantileArg(node: SqlNode, fn: string, scope: BindScope): number {
  const args = functionArgs(node);
  const q = args[1];
  const value = q && q.type === 'number' ? Number(q.value) : NaN;
  if (args.length !== 2 || !(value >= 0 && value <= 1)) {
    throw planError('PW_PLAN_QUANTILE', `${fn}(x, q) takes a column and a constant quantile q between 0 and 1, e.g. ${fn}(data.prepSeconds, 0.95)`, q ?? node, scope);
  }
  return value;
}

/** Binds an aggregate call (in aggregate mode) and returns a reference to its slot. */
function bindAggregate(node: SqlNode, scope: BindScope): AggRefExpr {
  const raw = node.type === 'aggr_func' ? String(node.name) : functionName(node);
  const name = raw.toUpperCase();
  if (scope.mode === 'row' || !scope.aggregates) {
    const code = scope.clause === 'WHERE' ? 'PW_PLAN_AGGREGATE_IN_WHERE' : 'PW_PLAN_AGGREGATE_MISPLACED';
    const hint = scope.clause === 'WHERE' ? '; filter on aggregates in HAVING' : '';
    throw planError(code, `aggregate ${name}() is not allowed in ${scope.clause}${hint}`, node, scope);
  }
  const argScope: BindScope = { ...scope, mode: 'row', clause: `${name}()`, hint: offsetOf(node, scope) };
  const argsNode = child(node, 'args');
  const distinct = argsNode?.distinct === 'DISTINCT';
  const filterClause = child(node, 'filter');
  const filterNode = filterClause?.keyword === 'filter' ? child(filterClause, 'where') : undefined;
  const argNodes = node.type === 'aggr_func' ? (argsNode && child(argsNode, 'expr') ? [child(argsNode, 'expr') as SqlNode] : []) : functionArgs(node);
  for (const a of argNodes) {
    if (containsAggregate(a)) throw planError('PW_PLAN_NESTED_AGGREGATE', `aggregate calls cannot be nested inside ${name}()`, a, scope);
  }
  if (node.over) throw planError('PW_PLAN_UNSUPPORTED', `${name}() OVER (…) window functions are not supported; only ROW_NUMBER(), RANK() and DENSE_RANK() for top-N per window`, node, scope);
  const first = argNodes[0];
  const isStar = (first?.type === 'star' && first.value === '*') || (first?.type === 'column_ref' && columnPath(first).join('.') === '*');
  let fn: AggregateFunction;
  let arg: Expr | undefined;
  let quantile: number | undefined;
  let type: SqlType;
  if (distinct && name !== 'COUNT') {
    throw planError('PW_PLAN_DISTINCT', `DISTINCT is supported in COUNT(DISTINCT x) only, not in ${name}()`, node, scope);
  }
  switch (name) {
    case 'COUNT':
      if (isStar) { fn = 'count_star'; type = 'int'; break; }
      if (!first) throw planError('PW_PLAN_ARGUMENTS', 'COUNT takes * or one column', node, scope);
      fn = distinct ? 'count_distinct' : 'count';
      arg = bindExpr(first, argScope);
      type = 'int';
      break;
    case 'SUM': case 'AVG':
      if (!first || isStar) throw planError('PW_PLAN_ARGUMENTS', `${name} takes one numeric column`, node, scope);
      arg = bindExpr(first, argScope);
      expectType(arg, isNumeric, `a numeric argument to ${name}()`, first, argScope);
      fn = name === 'SUM' ? 'sum' : 'avg';
      type = name === 'AVG' || arg.type !== 'int' ? 'double' : 'int';
      break;
    case 'MIN': case 'MAX':
      if (!first || isStar) throw planError('PW_PLAN_ARGUMENTS', `${name} takes one column`, node, scope);
      arg = bindExpr(first, argScope);
      fn = name === 'MIN' ? 'min' : 'max';
      type = arg.type;
      break;
    case 'APPROX_COUNT_DISTINCT':
      if (argNodes.length !== 1 || !first || isStar) throw planError('PW_PLAN_ARGUMENTS', 'approx_count_distinct takes one column', node, scope);
      arg = bindExpr(first, argScope);
      fn = 'approx_count_distinct';
      type = 'int';
      break;
    case 'QUANTILE_CONT': case 'APPROX_QUANTILE':
      quantile = quantileArg(node, raw, scope);
      arg = bindExpr(first as SqlNode, argScope);
      expectType(arg, (t) => isNumeric(t), `a numeric argument to ${raw}()`, first as SqlNode, argScope);
      fn = name === 'QUANTILE_CONT' ? 'quantile_cont' : 'approx_quantile';
      type = 'double';
      break;
    default:
      throw planError('PW_PLAN_UNKNOWN_AGGREGATE', `aggregate ${name}() is not supported; supported: COUNT(*), COUNT(x), COUNT(DISTINCT x), SUM, AVG, MIN, MAX, approx_count_distinct, quantile_cont, approx_quantile`, node, scope);
  }
  let filter: Expr | undefined;
  if (filterNode) {
    if (containsAggregate(filterNode)) throw planError('PW_PLAN_NESTED_AGGREGATE', 'FILTER (WHERE …) cannot hold an aggregate', filterNode, scope);
    filter = bindExpr(filterNode, { ...argScope, clause: `FILTER of ${name}()` });
    expectType(filter, isBool, 'a boolean FILTER condition', filterNode, argScope);
  }
  const call: AggregateCall = { fn, arg, filter, quantile, type, name: '' };
  const registry = scope.aggregates;
  let index = findBySignature(registry, aggregateSignature, aggregateSignature(call));
  if (index < 0) {
    index = registry.length;
    registry.push({ ...call, name: `_agg${index}` });
  }
  return { kind: 'AggRefExpr', index, name: (registry[index] as AggregateCall).name, type };
}

/** What makes two aggregate calls the same slot: function, quantile, argument and FILTER. */
const aggregateSignature = (a: AggregateCall): string => JSON.stringify([a.fn, a.quantile ?? null, a.arg ?? null, a.filter ?? null]);

/** The form `sameExpr` (expr.ts) compares, for lookups by expression. */
export const exprSignature = (e: Expr): string => JSON.stringify(e);

/** A group key's lookup signature: its expression's. */
export const keySignature = (k: GroupKey): string => exprSignature(k.expr);

function isAggregateNode(node: SqlNode): boolean {
  return node.type === 'aggr_func' || (node.type === 'function' && isAggregateName(functionName(node)));
}

/**
 * The zone of `col AT TIME ZONE 'zone'` (node-sql-parser hangs it on a column as `options`;
 * its grammar takes it after columns only), or undefined.
 */
function atTimeZone(node: SqlNode): SqlNode | undefined {
  if (node.type !== 'column_ref' || !isNode(node.options)) return undefined;
  const [kw, zone] = children(node.options, 'value');
  return kw && String(kw.value).toLowerCase() === 'at time zone' ? zone : undefined;
}

/** `col AT TIME ZONE zone` as `timezone(zone, col)`; `EXTRACT(unit FROM ts)` as `date_part('unit', ts)`. */
function bindTimeSyntax(node: SqlNode, scope: BindScope): Expr | undefined {
  const zone = atTimeZone(node);
  if (zone) {
    accept(child(node, 'options'), 'separator');
    const column: SqlNode = { type: 'column_ref', table: node.table, column: node.column };
    return bindCall(scalarFunction('timezone') as ScalarFunction, node, [zone, column], scope);
  }
  if (node.type !== 'extract') return undefined;
  const args = child(node, 'args') as SqlNode;
  const at = { ...scope, hint: scope.source.findKeyword('extract', undefined, scope.hint) ?? scope.hint };
  const unit: SqlNode = { type: 'single_quote_string', value: String(args.field) };
  return bindCall(scalarFunction('date_part') as ScalarFunction, node, [unit, child(args, 'source') as SqlNode], at);
}

/** Binds one expression in the scope's mode. */
export function bindExpr(node: SqlNode, scope: BindScope): Expr {
  if (isAggregateNode(node)) return bindAggregate(node, scope);
  // A zoned window bound, or any zoned column in a row clause (after GROUP BY a zoned column is
  // matched against the keys below, bound in row mode).
  if (atTimeZone(node) && (scope.mode === 'row' || WINDOW_BOUNDS.includes(columnPath(node).join('.').toLowerCase()))) return bindTimeSyntax(node, scope) as Expr;
  // `(SELECT …)` and `IN (SELECT …)` come as a wrapper `{ ast }` without a type.
  if (isNode(node.ast)) throw planError('PW_PLAN_SUBQUERY', 'subqueries in expressions are not supported', node, scope);
  if (node.type === 'column_ref') {
    const path = columnPath(node);
    const last = path.length === 1 ? (path[0] as string).toLowerCase() : '';
    if (WINDOW_BOUNDS.includes(last)) {
      if (scope.mode === 'row') {
        throw planError('PW_PLAN_WINDOW_COLUMN', `${last} is not available in ${scope.clause}: windows are assigned after filtering; use it in SELECT, GROUP BY or HAVING`, node, scope);
      }
      return { kind: 'WindowBoundExpr', bound: last as 'window_start' | 'window_end', type: 'timestamp' };
    }
    if (path.join('.') === '*') throw planError('PW_PLAN_STAR', `* is only allowed in COUNT(*) and in the outer query of a top-N`, node, scope);
  }
  if (scope.mode === 'aggregate' && !containsAggregate(node)) {
    // A non-aggregate expression after GROUP BY must be a group key (or built from keys).
    const keys = scope.keys ?? [];
    let asRow: Expr | undefined;
    try {
      asRow = bindExpr(node, { ...scope, mode: 'row' });
    } catch (err) {
      if (!(err instanceof PlanError) || err.code !== 'PW_PLAN_WINDOW_COLUMN') throw err;
    }
    if (asRow) {
      const k = findBySignature(keys, keySignature, exprSignature(asRow));
      if (k >= 0) return { kind: 'KeyRefExpr', index: k, name: (keys[k] as GroupKey).name, type: (keys[k] as GroupKey).type };
      if (node.type === 'column_ref') {
        throw planError('PW_PLAN_NOT_GROUPED', `column '${columnPath(node).join('.')}' in ${scope.clause} must appear in GROUP BY or be used in an aggregate function`, node, scope);
      }
      if (!JSON.stringify(asRow).includes('"FieldExpr"')) return asRow;
    }
  }
  switch (node.type) {
    case 'column_ref': return resolveField(columnPath(node), node, scope);
    case 'number': return numberLiteral(node);
    // The parser's type for numbers it keeps as text: exponent forms and integers from 2^53 - 1 up.
    case 'bigint': return bigNumberLiteral(node, scope);
    // The parser keeps a quote doubled inside '…' ('it''s'); the value has it once.
    case 'single_quote_string': return { kind: 'LiteralExpr', value: String(node.value).replace(/''/g, "'"), type: 'string' };
    case 'string': case 'natural_string': case 'var_string':
      return { kind: 'LiteralExpr', value: String(node.value), type: 'string' };
    case 'double_quote_string':
      return resolveField([String(node.value)], node, scope);
    case 'bool': return { kind: 'LiteralExpr', value: Boolean(node.value), type: 'boolean' };
    case 'null': return { kind: 'LiteralExpr', value: null, type: 'null' };
    case 'timestamp': case 'datetime': {
      const ms = parseTimestampMs(String(node.value));
      if (ms === undefined) throw planError('PW_PLAN_TIMESTAMP_LITERAL', `TIMESTAMP '${String(node.value)}' is not an ISO-8601 timestamp`, node, scope);
      return { kind: 'LiteralExpr', value: ms, type: 'timestamp' };
    }
    case 'unary_expr': {
      const op = String(node.operator).toUpperCase();
      const operandNode = child(node, 'expr') as SqlNode;
      const operand = bindExpr(operandNode, scope);
      if (op === 'NOT') { expectType(operand, isBool, 'a boolean after NOT', operandNode, scope); return { kind: 'NotExpr', operand, type: 'boolean' }; }
      expectType(operand, isNumeric, `a number after unary ${op}`, operandNode, scope);
      return op === '-' ? { kind: 'NegateExpr', operand, type: operand.type } : operand;
    }
    case 'binary_expr': return bindBinary(node, scope);
    case 'extract': return bindTimeSyntax(node, scope) as Expr;
    case 'case': return bindCase(node, scope);
    case 'cast': return bindCast(node, scope);
    case 'function': {
      const name = functionName(node).toUpperCase();
      const args = functionArgs(node);
      if (name === 'NOT' && args.length === 1) {
        const operand = bindExpr(args[0] as SqlNode, scope);
        expectType(operand, isBool, 'a boolean after NOT', args[0] as SqlNode, scope);
        return { kind: 'NotExpr', operand, type: 'boolean' };
      }
      if (name === 'COALESCE') {
        if (args.length === 0) throw planError('PW_PLAN_ARGUMENTS', 'COALESCE takes at least one argument', node, scope);
        const bound = args.map((a) => bindExpr(a, scope));
        return { kind: 'CoalesceExpr', args: bound, type: unify(bound.map((b) => b.type), 'COALESCE', node, scope) };
      }
      if (WINDOW_TVFS.includes(name)) {
        throw planError('PW_PLAN_WINDOW_PLACEMENT', `${name}(…) is a window table function: use it in FROM, e.g. FROM ${name}(${scope.stream.name}, ${scope.stream.eventTime}, INTERVAL '5 minutes')`, node, scope);
      }
      const fn = scalarFunction(name);
      if (fn) return bindCall(fn, node, args, scope);
      const known = ['COALESCE', 'CAST', ...SCALAR_FUNCTION_LIST.map((f) => f.name)];
      throw planError('PW_PLAN_UNKNOWN_FUNCTION', `function ${functionName(node)}() is not supported${didYouMean(name.toLowerCase(), known.map((k) => k.toLowerCase()))}; aggregates: ${AGGREGATE_NAMES.join(', ')}; scalar functions: ${known.join(', ')}`, node, scope);
    }
    case 'window_func':
      throw planError('PW_PLAN_WINDOW_FUNCTION', `${String(node.name)}() OVER (…) is only supported as ROW_NUMBER(), RANK() or DENSE_RANK() in a top-N query: SELECT … FROM (SELECT …, ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY …) AS rn FROM …) WHERE rn <= N`, node, scope);
    case 'interval':
      throw planError('PW_PLAN_INTERVAL', 'INTERVAL values are only supported as window sizes in TUMBLE/HOP/CUMULATE/SESSION', node, scope);
    case 'select':
      throw planError('PW_PLAN_SUBQUERY', 'subqueries in expressions are not supported', node, scope);
    default:
      throw planError('PW_PLAN_UNSUPPORTED', `expression of kind '${String(node.type)}' is not supported in ${scope.clause}`, node, scope);
  }
}
