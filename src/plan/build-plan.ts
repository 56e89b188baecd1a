/**
 * Builds a metric's logical plan from its parsed CREATE VIEW: binds FROM (window over a
 * stream), WHERE, GROUP BY, SELECT and HAVING, then the optional top-N-per-window wrapper.
 * Everything outside the dialect is rejected here, at plan time, with its position.
 */
import { createHash } from 'node:crypto';
import type { Catalog, StreamDef } from '../catalog/index.js';
import { PlanError } from '../errors.js';
import { accept, child, children, columnPath, isNode, type SqlNode } from '../sql/ast.js';
import type { ParsedQuery } from '../sql/parse-query.js';
import type { SourceText } from '../sql/source-text.js';
import { bindExpr, containsAggregate, exprSignature, keySignature, offsetOf, planError, type BindScope } from './bind-expr.js';
import { findBySignature } from './find-by-signature.js';
import { bindFrom } from './bind-window.js';
import { findNode } from './nodes.js';
import { rejectUnread } from './reject-unread.js';
import { sameExpr, walkExpr, type Expr } from './expr.js';
import type {
  AggregateCall, AggregateNode, GroupKey, MetricPlan, OutputColumn, PlanNode, ProjectNode, SortKey, TopNNode, WindowSpec,
} from './nodes.js';

interface AggregateQuery {
  readonly project: ProjectNode;
  readonly stream: StreamDef;
  readonly window: WindowSpec;
  readonly keys: readonly GroupKey[];
}

interface Ctx {
  readonly catalog: Catalog;
  readonly source: SourceText;
}

/** Rejects clauses the dialect has no place for. */
function rejectUnsupportedClauses(select: SqlNode, ctx: Ctx, depth: number, selectAt: number): void {
  const at = (kw: string): { source: SourceText; hint: number } => ({ source: ctx.source, hint: ctx.source.findKeyword(kw, depth, selectAt) ?? selectAt });
  if (select.with) throw planError('PW_PLAN_CTE', 'WITH (common table expressions) is not supported; write the metric as one SELECT', select, { source: ctx.source, hint: ctx.source.findKeyword('with', depth) ?? selectAt });
  if (select._next || select.set_op) throw planError('PW_PLAN_SET_OPERATION', `${String(select.set_op ?? 'UNION').toUpperCase()} is not supported: a metric is one SELECT over one stream`, select, at(String(select.set_op ?? 'union').split(' ')[0] as string));
  const distinct = child(select, 'distinct');
  if (distinct?.type) throw planError('PW_PLAN_DISTINCT', 'SELECT DISTINCT is not supported; GROUP BY the columns instead', select, at('distinct'));
  const orderby = children(select, 'orderby');
  if (orderby.length > 0) throw planError('PW_PLAN_ORDER_BY', 'ORDER BY is not supported in a metric: rows are kept per window and key; for the first N rows of each window use ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY …) <= N', select, at('order'));
  const limit = child(select, 'limit');
  if (limit && Array.isArray(limit.value) && limit.value.length > 0) throw planError('PW_PLAN_LIMIT', 'LIMIT is not supported in a metric; for the top N rows of each window use ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY …) <= N', select, at('limit'));
  if (select.window) throw planError('PW_PLAN_UNSUPPORTED', 'named WINDOW clauses are not supported', select, at('window'));
}

/** The output name of a SELECT item: its alias, or the last segment of a bare column. */
function outputName(item: SqlNode, ctx: Ctx, hint: number): string {
  if (typeof item.as === 'string' && item.as) return item.as;
  const expr = child(item, 'expr') as SqlNode;
  if (expr.type === 'column_ref') return columnPath(expr).at(-1) as string;
  const scope = { source: ctx.source, hint };
  if (containsAggregate(expr)) throw planError('PW_PLAN_UNNAMED_AGGREGATE', 'name this aggregate with AS, e.g. COUNT(*) AS orders', expr, scope);
  throw planError('PW_PLAN_UNNAMED_COLUMN', 'name this expression with AS', expr, scope);
}

function bindAggregateQuery(select: SqlNode, ctx: Ctx, depth: number, extraItems: readonly SqlNode[] = []): AggregateQuery {
  const selectAt = ctx.source.findKeyword('select', depth) ?? 0;
  rejectUnsupportedClauses(select, ctx, depth, selectAt);
  const clauseAt = (kw: string): number => ctx.source.findKeyword(kw, depth, selectAt) ?? selectAt;
  const from = bindFrom(select, ctx.catalog, ctx.source, clauseAt('from'));
  const { stream, window } = from;
  const join = from.join ? { table: from.join.table, qualifiers: from.join.qualifiers } : undefined;
  const base = { stream, source: ctx.source, qualifiers: [stream.name, ...(from.alias ? [from.alias] : [])], ...(join ? { join } : {}) };

  let node: PlanNode = { kind: 'ScanNode', stream };
  if (from.join) node = { kind: 'LookupJoinNode', input: node, table: from.join.table, joinType: from.join.joinType, probe: from.join.probe };
  const whereNode = child(select, 'where');
  if (whereNode) {
    const scope: BindScope = { ...base, mode: 'row', clause: 'WHERE', hint: clauseAt('where') };
    const predicate = bindExpr(whereNode, scope);
    if (predicate.type !== 'boolean' && predicate.type !== 'null') {
      throw planError('PW_PLAN_TYPE', `WHERE needs a boolean condition, got ${predicate.type}`, whereNode, scope);
    }
    node = { kind: 'FilterNode', input: node, predicate };
  }
  node = { kind: 'WindowAssignNode', input: node, window, timeField: stream.eventTime };

  const items = children(select, 'columns').filter((c) => !extraItems.includes(c));
  const selectHint = selectAt;
  for (const item of items) {
    const e = child(item, 'expr');
    if (e?.type === 'column_ref' && columnPath(e).join('.') === '*') {
      throw planError('PW_PLAN_STAR', 'SELECT * is not supported in an aggregating query; list the window bounds, keys and aggregates', e, { source: ctx.source, hint: selectHint });
    }
  }
  const names = items.map((item) => outputName(item, ctx, selectHint));

  // GROUP BY: window bounds, then keys (columns, expressions, select aliases or ordinals).
  const groupNode = child(select, 'groupby');
  const groupItems = groupNode ? children(groupNode, 'columns') : [];
  const groupHint = clauseAt('group');
  const keys: GroupKey[] = [];
  const keyNodes: SqlNode[] = [];
  let itemsByExpr: Map<string, number> | undefined;
  // SELECT aliases by name (the first item wins), for GROUP BY <alias>.
  const aliases = new Map(items.flatMap((item, i): [string, number][] => (typeof item.as === 'string' ? [[item.as, i]] : [])).reverse());
  let hasWindowStart = false;
  for (const g of groupItems) {
    let target = g;
    if (g.type === 'number') {
      const idx = Number(g.value) - 1;
      const item = items[idx];
      if (!item) throw planError('PW_PLAN_GROUP_BY', `GROUP BY ${String(g.value)} is not a SELECT position (1..${items.length})`, g, { source: ctx.source, hint: groupHint });
      target = child(item, 'expr') as SqlNode;
    } else if (g.type === 'column_ref' && columnPath(g).length === 1) {
      const name = columnPath(g)[0] as string;
      const aliased = aliases.get(name) ?? -1;
      if (aliased >= 0 && !stream.fields.has(name)) target = child(items[aliased] as SqlNode, 'expr') as SqlNode;
    }
    if (target.type === 'column_ref' && columnPath(target).length === 1 && ['window_start', 'window_end'].includes((columnPath(target)[0] as string).toLowerCase())) {
      if ((columnPath(target)[0] as string).toLowerCase() === 'window_start') hasWindowStart = true;
      continue;
    }
    if (containsAggregate(target)) {
      throw planError('PW_PLAN_AGGREGATE_IN_GROUP_BY', 'aggregates are not allowed in GROUP BY', g, { source: ctx.source, hint: groupHint });
    }
    const expr = bindExpr(target, { ...base, mode: 'row', clause: 'GROUP BY', hint: groupHint });
    if (findBySignature(keys, keySignature, exprSignature(expr)) >= 0) continue;
    // The SELECT item computing this key names it; each item is bound (as a row expression) once.
    itemsByExpr ??= new Map(items.flatMap((item, i): [string, number][] => {
      const ie = child(item, 'expr') as SqlNode;
      if (containsAggregate(ie)) return [];
      try { return [[exprSignature(bindExpr(ie, { ...base, mode: 'row', clause: 'SELECT', hint: selectHint })), i]]; } catch { return []; }
    }).reverse());
    const itemIdx = itemsByExpr.get(exprSignature(expr)) ?? -1;
    const name = itemIdx >= 0 ? (names[itemIdx] as string) : target.type === 'column_ref' ? (columnPath(target).at(-1) as string) : `_key${keys.length}`;
    keys.push({ name, expr, type: expr.type });
    keyNodes.push(g);
  }
  if (!groupNode) {
    throw planError('PW_PLAN_NO_GROUP_BY', 'a metric aggregates per window: add GROUP BY window_start, window_end[, keys]', select, { source: ctx.source, hint: selectHint });
  }
  if (!hasWindowStart) {
    throw planError('PW_PLAN_GROUP_BY_WINDOW', 'GROUP BY must include window_start: aggregation is per window', groupNode, { source: ctx.source, hint: groupHint });
  }

  // SELECT and HAVING over window bounds, keys and aggregates.
  const aggregates: AggregateCall[] = [];
  const aggScope: BindScope = { ...base, mode: 'aggregate', clause: 'SELECT', hint: selectHint, keys, aggregates };
  const columns: OutputColumn[] = items.map((item, i) => {
    const expr = bindExpr(child(item, 'expr') as SqlNode, { ...aggScope, hint: offsetOf(child(item, 'expr') as SqlNode, aggScope) });
    const name = names[i] as string;
    if (expr.kind === 'AggRefExpr' && (aggregates[expr.index] as AggregateCall).name.startsWith('_agg')) {
      aggregates[expr.index] = { ...(aggregates[expr.index] as AggregateCall), name };
      return { name, expr: { ...expr, name }, type: expr.type };
    }
    return { name, expr, type: expr.type };
  });
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    const prior = seen.get(n.toLowerCase());
    if (prior !== undefined) {
      throw planError('PW_PLAN_DUPLICATE_COLUMN', `output column '${n}' is defined twice (also SELECT item ${prior + 1}); give one of them another name with AS`, child(items[i] as SqlNode, 'expr') as SqlNode, { source: ctx.source, hint: selectHint });
    }
    seen.set(n.toLowerCase(), i);
  });
  if (!columns.some((c) => c.expr.kind === 'WindowBoundExpr' && c.expr.bound === 'window_start')) {
    throw planError('PW_PLAN_MISSING_WINDOW_START', 'SELECT window_start: every result row names its window', select, { source: ctx.source, hint: selectHint });
  }
  if (from.window.type === 'cumulate' && !columns.some((c) => c.expr.kind === 'WindowBoundExpr' && c.expr.bound === 'window_end')) {
    throw planError('PW_PLAN_MISSING_WINDOW_END', 'SELECT window_end: CUMULATE windows of one period share window_start, so every result row names its window by both bounds', select, { source: ctx.source, hint: selectHint });
  }
  keys.forEach((k, i) => {
    if (!columns.some((c) => c.expr.kind === 'KeyRefExpr' && c.expr.index === i)) {
      throw planError('PW_PLAN_MISSING_KEY', `group key '${k.name}' must be in SELECT: result rows are keyed by window and group key`, keyNodes[i] as SqlNode, { source: ctx.source, hint: groupHint });
    }
  });
  const aggregate: AggregateNode = { kind: 'AggregateNode', input: node, keys, aggregates };
  node = aggregate;
  const havingNode = child(select, 'having');
  if (havingNode) {
    const scope: BindScope = { ...aggScope, clause: 'HAVING', hint: clauseAt('having') };
    const predicate = bindExpr(havingNode, scope);
    if (predicate.type !== 'boolean' && predicate.type !== 'null') throw planError('PW_PLAN_TYPE', `HAVING needs a boolean condition, got ${predicate.type}`, havingNode, scope);
    node = { kind: 'HavingNode', input: node, predicate };
  }
  // Aggregates the SELECT did not name (HAVING-only, or repeated) keep their generated names.
  const finalColumns = columns.map((c) => (c.expr.kind === 'AggRefExpr' ? { ...c, expr: { ...c.expr, name: (aggregates[c.expr.index] as AggregateCall).name } } : c));
  const project: ProjectNode = { kind: 'ProjectNode', input: node, columns: finalColumns };
  return { project, stream, window, keys };
}

/**
 * The SELECT of a FROM item that is a subquery, or undefined. Its alias only names it (columns
 * are read unqualified), and `tableList` / `columnList` are the parser's own bookkeeping.
 */
function subquery(fromItem: SqlNode): SqlNode | undefined {
  const expr = child(fromItem, 'expr');
  const ast = expr ? child(expr, 'ast') : undefined;
  if (ast) {
    accept(fromItem, 'as');
    accept(expr, 'tableList', 'columnList');
  }
  return ast;
}

function rankItem(select: SqlNode): SqlNode | undefined {
  return children(select, 'columns').find((c) => child(c, 'expr')?.type === 'window_func');
}

/** Binds `SELECT … FROM (ranked) WHERE rn <= N` into a TopNNode over the aggregate query. */
function bindTopN(outer: SqlNode, ctx: Ctx): { root: TopNNode; agg: AggregateQuery; names: string[] } {
  const outerAt = ctx.source.findKeyword('select', 0) ?? 0;
  rejectUnsupportedClauses(outer, ctx, 0, outerAt);
  const fromItems = children(outer, 'from');
  const hint0 = ctx.source.findKeyword('from', 0) ?? 0;
  if (fromItems.length !== 1) throw planError('PW_PLAN_JOIN', 'join is not supported: a top-N query reads one ranked subquery', outer, { source: ctx.source, hint: hint0 });
  const ranked = subquery(fromItems[0] as SqlNode) as SqlNode;
  const rank = rankItem(ranked);
  const rankedAt = ctx.source.findKeyword('select', 1) ?? hint0;
  if (!rank) {
    throw planError('PW_PLAN_SUBQUERY', 'a subquery in FROM is only supported for top-N per window: SELECT … FROM (SELECT …, ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY …) AS rn FROM …) WHERE rn <= N', ranked, { source: ctx.source, hint: rankedAt });
  }
  const fn = child(rank, 'expr') as SqlNode;
  const fnScope = { source: ctx.source, hint: ctx.source.findPath([String(fn.name)], rankedAt) };
  const fnUpper = String(fn.name).toUpperCase();
  if (fnUpper !== 'ROW_NUMBER' && fnUpper !== 'RANK' && fnUpper !== 'DENSE_RANK') {
    throw planError('PW_PLAN_WINDOW_FUNCTION', `${String(fn.name)}() is not supported; top-N per window uses ROW_NUMBER(), RANK() or DENSE_RANK()`, fn, fnScope);
  }
  const rankFunction = fnUpper === 'RANK' ? 'rank' as const : fnUpper === 'DENSE_RANK' ? 'dense_rank' as const : undefined;
  const rankName = typeof rank.as === 'string' ? rank.as : undefined;
  if (!rankName) throw planError('PW_PLAN_UNNAMED_COLUMN', `name the ${fnUpper}() column with AS, e.g. AS rn`, fn, fnScope);

  // Two shapes: the aggregate query itself holds ROW_NUMBER, or ranks a subquery that aggregates.
  const innerFrom = children(ranked, 'from')[0];
  const innerAst = innerFrom ? subquery(innerFrom) : undefined;
  const agg = innerAst ? bindAggregateQuery(innerAst, ctx, 2) : bindAggregateQuery(ranked, ctx, 1, [rank]);
  if (agg.window.type === 'session') {
    // Sessions of different keys close at different times: a per-window ranking has no moment
    // at which it is final.
    throw planError('PW_PLAN_TOPN_SESSION', 'top-N per window needs TUMBLE, HOP or CUMULATE windows; SESSION windows close per key', fn, fnScope);
  }
  const aggCols = agg.project.columns;
  const colIndex = (name: string): number => aggCols.findIndex((c) => c.name.toLowerCase() === name.toLowerCase());
  let rankedCols: number[];
  if (innerAst) {
    rankedCols = [];
    for (const item of children(ranked, 'columns')) {
      if (item === rank) continue;
      const e = child(item, 'expr') as SqlNode;
      const path = e.type === 'column_ref' ? columnPath(e) : [];
      if (path.join('.') === '*') { rankedCols.push(...aggCols.map((_, i) => i)); continue; }
      const idx = path.length === 1 && (item.as === null || item.as === undefined || item.as === path[0]) ? colIndex(path[0] as string) : -1;
      if (idx < 0) throw planError('PW_PLAN_TOPN_SHAPE', `the ranked query of a top-N selects * or columns of its subquery (${aggCols.map((c) => c.name).join(', ')}), plus ROW_NUMBER()`, e, { source: ctx.source, hint: rankedAt });
      rankedCols.push(idx);
    }
  } else {
    rankedCols = aggCols.map((_, i) => i);
  }

  // OVER (PARTITION BY window_start ORDER BY …)
  const spec = child(child(child(fn, 'over') ?? {}, 'as_window_specification') ?? {}, 'window_specification') ?? {};
  const partition = children(spec, 'partitionby').map((p) => child(p, 'expr') ?? p);
  const partNames = partition.map((p) => (p.type === 'column_ref' ? columnPath(p).join('.').toLowerCase() : '?'));
  if (!partNames.includes('window_start') || partNames.some((n) => n !== 'window_start' && n !== 'window_end')) {
    const offending = partition.find((_, i) => partNames[i] !== 'window_start' && partNames[i] !== 'window_end');
    throw planError('PW_PLAN_TOPN_PARTITION', 'top-N is per window: ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY …)', offending ?? fn, fnScope);
  }
  if (agg.window.type === 'cumulate' && !partNames.includes('window_end')) {
    // Ranking a whole period at once would mix its running totals: one ranking per window.
    throw planError('PW_PLAN_TOPN_PARTITION', 'CUMULATE windows of one period share window_start: rank per window with ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY …)', fn, fnScope);
  }
  const orderItems = children(spec, 'orderby');
  if (orderItems.length === 0) throw planError('PW_PLAN_TOPN_ORDER', 'ROW_NUMBER() needs ORDER BY inside OVER (…) to rank rows', fn, fnScope);
  const orderBy: SortKey[] = orderItems.map((o) => {
    const e = child(o, 'expr') as SqlNode;
    let idx = -1;
    if (e.type === 'column_ref' && columnPath(e).length === 1) idx = colIndex(columnPath(e)[0] as string);
    if (idx < 0 && !innerAst) {
      // An expression equal to an output column's expression (e.g. COUNT(*) when selected AS c).
      const aggregates = [...(agg.project.input.kind === 'HavingNode' ? (agg.project.input.input as AggregateNode) : (agg.project.input as AggregateNode)).aggregates];
      try {
        const bound = bindExpr(e, { stream: agg.stream, source: ctx.source, qualifiers: [agg.stream.name], mode: 'aggregate', clause: 'ORDER BY', hint: fnScope.hint, keys: agg.keys, aggregates });
        idx = aggCols.findIndex((c) => sameExpr({ ...c.expr, ...(c.expr.kind === 'AggRefExpr' ? { name: '' } : {}) } as Expr, { ...bound, ...(bound.kind === 'AggRefExpr' ? { name: '' } : {}) } as Expr));
      } catch (err) {
        if (!(err instanceof PlanError)) throw err;
      }
    }
    if (idx < 0) throw planError('PW_PLAN_TOPN_ORDER', `ROW_NUMBER() orders by the query's output columns (${aggCols.map((c) => c.name).join(', ')})`, e, fnScope);
    // node-sql-parser writes `NULLS FIRST` / `NULLS LAST` as one string, null when absent.
    const nulls = typeof o.nulls === 'string' ? o.nulls.toUpperCase().replace(/\s+/g, ' ') : undefined;
    return { column: idx, descending: String(o.type ?? 'ASC').toUpperCase() === 'DESC', nullsFirst: nulls === 'NULLS FIRST' };
  });

  // Outer: WHERE rn <= N (or rn < N, N >= rn).
  const where = child(outer, 'where');
  const whereScope = { source: ctx.source, hint: ctx.source.findKeyword('where', 0) ?? 0 };
  let limit: number | undefined;
  if (where?.type === 'binary_expr') {
    const l = child(where, 'left') as SqlNode;
    const r = child(where, 'right') as SqlNode;
    const isRank = (n: SqlNode): boolean => n.type === 'column_ref' && columnPath(n).join('.').toLowerCase() === rankName.toLowerCase();
    const num = (n: SqlNode): number | undefined => (n.type === 'number' && Number.isInteger(Number(n.value)) ? Number(n.value) : undefined);
    const op = String(where.operator);
    if (isRank(l) && num(r) !== undefined) limit = op === '<=' ? num(r) : op === '<' ? (num(r) as number) - 1 : op === '=' && num(r) === 1 ? 1 : undefined;
    else if (isRank(r) && num(l) !== undefined) limit = op === '>=' ? num(l) : op === '>' ? (num(l) as number) - 1 : undefined;
  }
  if (limit === undefined) {
    throw planError('PW_PLAN_TOPN_FILTER', `the outer query of a top-N keeps WHERE ${rankName} <= N only`, where ?? outer, whereScope);
  }
  if (limit < 1) throw planError('PW_PLAN_TOPN_FILTER', `top-N needs N >= 1, got ${limit}`, where as SqlNode, whereScope);

  // Outer columns: * (ranked columns and the rank) or a list of their names.
  const available = [...rankedCols.map((i) => (aggCols[i] as OutputColumn).name), rankName];
  const outCols: number[] = [];
  let includeRank = false;
  for (const item of children(outer, 'columns')) {
    const e = child(item, 'expr') as SqlNode;
    const path = e.type === 'column_ref' ? columnPath(e) : [];
    if (path.join('.') === '*') { outCols.push(...rankedCols); includeRank = true; continue; }
    const name = path.at(-1);
    if (path.length === 0 || !name || (typeof item.as === 'string' && item.as !== name)) {
      throw planError('PW_PLAN_TOPN_SHAPE', `the outer query of a top-N selects * or columns of the ranked query (${available.join(', ')})`, e, { source: ctx.source, hint: outerAt });
    }
    if (name.toLowerCase() === rankName.toLowerCase()) { includeRank = true; continue; }
    const idx = colIndex(name);
    if (idx < 0 || !rankedCols.includes(idx)) throw planError('PW_PLAN_UNKNOWN_COLUMN', `unknown column '${name}'; the ranked query has: ${available.join(', ')}`, e, { source: ctx.source, hint: outerAt });
    outCols.push(idx);
  }
  const names = [...outCols.map((i) => (aggCols[i] as OutputColumn).name), ...(includeRank ? [rankName] : [])];
  if (!outCols.some((i) => (aggCols[i] as OutputColumn).expr.kind === 'WindowBoundExpr' && ((aggCols[i] as OutputColumn).expr as { bound: string }).bound === 'window_start')) {
    throw planError('PW_PLAN_MISSING_WINDOW_START', 'the top-N output must include window_start', outer, { source: ctx.source, hint: outerAt });
  }
  if (agg.window.type === 'cumulate' && !outCols.some((i) => { const ex = (aggCols[i] as OutputColumn).expr; return ex.kind === 'WindowBoundExpr' && ex.bound === 'window_end'; })) {
    throw planError('PW_PLAN_MISSING_WINDOW_END', 'the top-N output must include window_end: CUMULATE windows of one period share window_start', outer, { source: ctx.source, hint: outerAt });
  }
  agg.keys.forEach((k, ki) => {
    if (!outCols.some((i) => { const ex = (aggCols[i] as OutputColumn).expr; return ex.kind === 'KeyRefExpr' && ex.index === ki; })) {
      throw planError('PW_PLAN_MISSING_KEY', `group key '${k.name}' must be in the top-N output: result rows are keyed by window and group key`, outer, { source: ctx.source, hint: outerAt });
    }
  });
  const root: TopNNode = { kind: 'TopNNode', input: agg.project, orderBy, limit, rankColumn: includeRank ? rankName : undefined, ...(rankFunction ? { rankFunction } : {}), columns: outCols };
  return { root, agg, names };
}

/**
 * The text hashed for lineage: the tier directive's line is left out (a tier changes when a
 * metric runs, not its rows), so files without one hash as they always did.
 */
function withoutTier(sql: string): string {
  return sql.replace(/^[ \t]*--[ \t]*tier[ \t]*:[^\n]*\n?/gim, '');
}

/** The definition hash: SQL text plus every stream (and joined table) setting that changes results. */
export function definitionHash(sql: string, stream: StreamDef, table?: StreamDef): string {
  const settings = {
    sql: sql.trim(), eventId: stream.eventId, eventTime: stream.eventTime, watermarkDelayMs: stream.watermarkDelayMs,
    allowedLatenessMs: stream.allowedLatenessMs, dedupTtlMs: stream.dedupTtlMs,
    fields: [...stream.fields.values()].map((f) => [f.path, f.type, f.required]),
    // Only when declared, so the hashes of streams without versions stay as they were.
    ...(stream.versions ? { versions: [stream.versions.field, [...stream.versions.byNumber.values()].map((v) => [v.version, [...v.moved].map(([p, to]) => [p, to?.path ?? null])])] } : {}),
    ...(table ? { table: { spec: table.table, fields: [...table.fields.values()].map((f) => [f.path, f.type, f.required]) } } : {}),
  };
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
}

/** Whether an output column identifies a row within its window_start: a group key, or CUMULATE's window_end. */
function identifiesRow(e: Expr, window: WindowSpec): boolean {
  return e.kind === 'KeyRefExpr' || (window.type === 'cumulate' && e.kind === 'WindowBoundExpr' && e.bound === 'window_end');
}

/** Builds and checks the logical plan of one parsed metric. */
export function buildPlan(query: ParsedQuery, catalog: Catalog): MetricPlan {
  const ctx: Ctx = { catalog, source: query.source };
  const select = query.select;
  const fromItems = children(select, 'from');
  const sub = fromItems.length === 1 ? subquery(fromItems[0] as SqlNode) : undefined;
  let root: PlanNode;
  let agg: AggregateQuery;
  let columns: { name: string; type: OutputColumn['type'] }[];
  let keyColumns: number[];
  if (sub && isNode(sub)) {
    const topn = bindTopN(select, ctx);
    root = topn.root;
    agg = topn.agg;
    const aggCols = agg.project.columns;
    columns = [...topn.root.columns.map((i) => ({ name: (aggCols[i] as OutputColumn).name, type: (aggCols[i] as OutputColumn).type })),
      ...(topn.root.rankColumn ? [{ name: topn.root.rankColumn, type: 'int' as const }] : [])];
    keyColumns = topn.root.columns.flatMap((ci, pos) => (identifiesRow((aggCols[ci] as OutputColumn).expr, agg.window) ? [pos] : []));
  } else {
    agg = bindAggregateQuery(select, ctx, 0);
    root = agg.project;
    columns = agg.project.columns.map((c) => ({ name: c.name, type: c.type }));
    keyColumns = agg.project.columns.flatMap((c, i) => (identifiesRow(c.expr, agg.window) ? [i] : []));
  }
  rejectUnread(query);
  // Binding invariant: post-aggregation expressions never read raw fields.
  for (const c of agg.project.columns) {
    walkExpr(c.expr, (e) => { if (e.kind === 'FieldExpr') throw new PlanError('PW_INTERNAL', `unbound field ${e.path} after aggregation`); });
  }
  return {
    name: query.name, file: query.source.file, sql: query.source.text, emit: query.emit, tier: query.tier,
    hash: definitionHash(withoutTier(query.source.text), agg.stream, findNode(root, 'LookupJoinNode')?.table), stream: agg.stream, window: agg.window,
    columns, keyColumns, root,
  };
}
