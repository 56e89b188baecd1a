/** Binds the FROM clause: exactly one window table function over one stream, and an optional lookup join to a reference table. */
import type { Catalog, StreamDef } from '../catalog/index.js';
import { accept, child, children, columnPath, functionArgs, functionName, type SqlNode } from '../sql/ast.js';
import type { SourceText } from '../sql/source-text.js';
import { formatDuration, INTERVAL_HELP, parseIntervalMs } from '../util/duration.js';
import { didYouMean } from '../util/did-you-mean.js';
import { bindExpr, offsetOf, planError, type BindScope } from './bind-expr.js';
import { readsTable, type Expr } from './expr.js';
import type { WindowSpec } from './nodes.js';
import { WINDOW_LIMITS } from './window-limits.js';

/** A lookup join bound from `JOIN table [AS alias] ON stream_expr = table.key`. */
export interface BoundJoin {
  readonly table: StreamDef;
  readonly joinType: 'inner' | 'left';
  readonly probe: Expr;
  /** Names that may prefix the table's columns: its name and alias. */
  readonly qualifiers: readonly string[];
}

export interface BoundFrom {
  readonly stream: StreamDef;
  readonly window: WindowSpec;
  readonly alias: string | undefined;
  readonly join: BoundJoin | undefined;
}

/** Arguments of each window function: `args`, or `args + 1` with a trailing offset (TUMBLE, HOP, CUMULATE). */
const ARITY: Record<string, { args: number; offset: boolean; usage: string }> = {
  TUMBLE: { args: 3, offset: true, usage: "TUMBLE(stream, time_col, INTERVAL '5 minutes' [, INTERVAL '-5 hours' /* offset */])" },
  HOP: { args: 4, offset: true, usage: "HOP(stream, time_col, INTERVAL '1 minute' /* slide */, INTERVAL '5 minutes' /* size */ [, INTERVAL '30 seconds' /* offset */])" },
  CUMULATE: { args: 4, offset: true, usage: "CUMULATE(stream, time_col, INTERVAL '1 hour' /* step */, INTERVAL '1 day' /* size */ [, INTERVAL '-5 hours' /* offset */])" },
  SESSION: { args: 3, offset: false, usage: "SESSION(stream, time_col, INTERVAL '30 seconds' /* gap */)" },
};

/** The name a FROM item reads: a table name, or the stream of a window function. */
function joinedName(item: SqlNode): string {
  if (typeof item.table === 'string') return item.table;
  const first = functionArgs(child(item, 'expr') ?? {})[0];
  return first?.type === 'column_ref' ? columnPath(first).join('.') : '';
}

function streamByName(catalog: Catalog, name: string): StreamDef | undefined {
  return catalog.streams.get(name) ?? [...catalog.streams.values()].find((s) => s.name.toLowerCase() === name.toLowerCase());
}

export function bindFrom(select: SqlNode, catalog: Catalog, source: SourceText, hint: number): BoundFrom {
  const scope = { source, hint };
  const from = children(select, 'from');
  if (from.length === 0) throw planError('PW_PLAN_NO_FROM', "a metric reads a stream: FROM TUMBLE(stream, time_col, INTERVAL '5 minutes')", select, scope);
  const joinItem = from[1];
  if (from.length > 2 || (joinItem && (joinItem.join === undefined || joinItem.join === null))) {
    const extra = from.length > 2 ? (from[2] as SqlNode) : (joinItem as SqlNode);
    const name = joinedName(extra);
    const at = { source, hint: (extra.join ? source.findKeyword('join', 0, hint) : undefined) ?? source.findPath([name], hint) };
    const what = streamByName(catalog, name)?.kind === 'stream' ? `stream-stream join (${joinedName(from[0] as SqlNode)}, ${name}) is not supported` : 'this FROM is not supported';
    throw planError('PW_PLAN_JOIN', `${what}: a metric reads one stream and may join one reference table, FROM TUMBLE(stream, …) s JOIN table t ON s.col = t.key`, extra, at);
  }
  const item = from[0] as SqlNode;
  const expr = child(item, 'expr');
  if (typeof item.table === 'string') {
    const s = streamByName(catalog, item.table);
    const at = { source, hint: source.findPath([item.table], hint) };
    if (!s) {
      throw planError('PW_PLAN_UNKNOWN_STREAM', `unknown stream '${item.table}'${didYouMean(item.table, catalog.streams.keys())}; catalog streams: ${[...catalog.streams.keys()].join(', ')}`, item, at);
    }
    throw planError('PW_PLAN_NO_WINDOW', `a metric aggregates per window: read '${s.name}' through a window function, e.g. FROM TUMBLE(${s.name}, ${s.eventTime || 'event_time'}, INTERVAL '1 minute')`, item, at);
  }
  if (expr?.ast) throw planError('PW_PLAN_SUBQUERY', 'a subquery in FROM is only supported as the ranked input of a top-N query', expr, scope);
  if (!expr || expr.type !== 'function') throw planError('PW_PLAN_NO_WINDOW', 'FROM must be a window function: TUMBLE, HOP, CUMULATE or SESSION', item, scope);
  const fnName = functionName(expr).toUpperCase();
  const spec = ARITY[fnName];
  const fnScope = { source, hint: offsetOf(expr, scope) };
  if (!spec) {
    throw planError('PW_PLAN_UNKNOWN_WINDOW', `unknown table function ${functionName(expr)}(); windows are TUMBLE, HOP, CUMULATE and SESSION${didYouMean(fnName, Object.keys(ARITY))}`, expr, scope);
  }
  const args = functionArgs(expr);
  if (args.length !== spec.args && !(spec.offset && args.length === spec.args + 1)) {
    throw planError('PW_PLAN_WINDOW_ARGS', `${fnName} takes ${spec.offset ? `${spec.args} or ${spec.args + 1}` : spec.args} arguments: ${spec.usage}`, expr, fnScope);
  }
  const [streamArg, timeArg, ...sizes] = args.slice(0, spec.args) as [SqlNode, SqlNode, ...SqlNode[]];
  const offsetArg = args[spec.args];
  const streamName = streamArg.type === 'column_ref' ? columnPath(streamArg).join('.') : '';
  const stream = streamByName(catalog, streamName);
  if (!stream) {
    throw planError('PW_PLAN_UNKNOWN_STREAM', `unknown stream '${streamName}' in ${fnName}${didYouMean(streamName, catalog.streams.keys())}; catalog streams: ${[...catalog.streams.keys()].join(', ')}`, streamArg, fnScope);
  }
  if (stream.kind === 'table') {
    throw planError('PW_PLAN_WINDOW_ON_TABLE', `'${stream.name}' is a reference table (kind: table), not a stream; windows apply to streams only`, streamArg, fnScope);
  }
  const timeName = timeArg.type === 'column_ref' ? columnPath(timeArg).join('.') : '';
  if (timeName.toLowerCase() !== stream.eventTime.toLowerCase()) {
    throw planError('PW_PLAN_WINDOW_TIME', `${fnName} must use the stream's event time column '${stream.eventTime}' (declared as event_time in ${stream.file}), not '${timeName}'`, timeArg, fnScope);
  }
  // The parser gives intervals no position: the k-th INTERVAL keyword inside the call is it.
  const nth = (k: number): { source: SourceText; hint: number } => {
    let at = fnScope.hint;
    for (let j = 0; j <= k; j++) at = source.findKeyword('interval', undefined, at + 1) ?? at;
    return { source, hint: at };
  };
  const ms = sizes.map((s, i) => {
    const label = fnName === 'HOP' ? (i === 0 ? 'slide' : 'size') : fnName === 'CUMULATE' ? (i === 0 ? 'step' : 'size') : fnName === 'SESSION' ? 'gap' : 'size';
    if (s.type !== 'interval') throw planError('PW_PLAN_WINDOW_SIZE', `the window ${label} must be an interval: ${INTERVAL_HELP}`, s, fnScope);
    const body = child(s, 'expr');
    const value = parseIntervalMs(String(body?.value ?? ''), String(s.unit ?? ''));
    if (value === undefined) throw planError('PW_PLAN_WINDOW_SIZE', `cannot read the window ${label} '${`${String(body?.value ?? '')} ${String(s.unit ?? '')}`.trim()}'; use ${INTERVAL_HELP}`, s, nth(i));
    if (value <= 0) throw planError('PW_PLAN_WINDOW_SIZE', `the window ${label} must be positive, got ${value} ms`, s, nth(i));
    if (value > WINDOW_LIMITS.maxDurationMs) {
      throw planError('PW_PLAN_WINDOW_SIZE', `the window ${label} is ${formatDuration(value)}; the longest supported is ${formatDuration(WINDOW_LIMITS.maxDurationMs)} (100 years)`, s, nth(i));
    }
    return value;
  });
  // The offset shifts where windows start (Flink's window offset): TUMBLE(…, INTERVAL '1 day',
  // INTERVAL '-5 hours') gives days from 19:00 UTC, a venue's local midnight at UTC-5.
  let offsetMs = 0;
  if (offsetArg) {
    const at = nth(sizes.length);
    if (offsetArg.type !== 'interval') throw planError('PW_PLAN_WINDOW_SIZE', `the window offset must be an interval: ${INTERVAL_HELP}`, offsetArg, fnScope);
    const body = child(offsetArg, 'expr');
    const value = parseIntervalMs(String(body?.value ?? ''), String(offsetArg.unit ?? ''));
    if (value === undefined) throw planError('PW_PLAN_WINDOW_SIZE', `cannot read the window offset '${`${String(body?.value ?? '')} ${String(offsetArg.unit ?? '')}`.trim()}'; use ${INTERVAL_HELP}`, offsetArg, at);
    if (Math.abs(value) > WINDOW_LIMITS.maxDurationMs) throw planError('PW_PLAN_WINDOW_SIZE', `the window offset is ${formatDuration(value)}; at most ${formatDuration(WINDOW_LIMITS.maxDurationMs)} either way`, offsetArg, at);
    offsetMs = value;
  }
  const offset = offsetMs !== 0 ? { offsetMs } : {};
  const alias = typeof item.as === 'string' ? item.as : undefined;
  const join = joinItem ? bindJoin(joinItem, stream, alias, catalog, { source, hint }) : undefined;
  if (join && fnName === 'SESSION') {
    throw planError('PW_PLAN_JOIN_SESSION', 'a lookup join works with TUMBLE and HOP windows; SESSION windows have no bound on how old an on-time event may be, so table versions could never be dropped', expr, fnScope);
  }
  if (fnName === 'TUMBLE') return { stream, alias, join, window: { type: 'tumble', sizeMs: ms[0] as number, ...offset } };
  if (fnName === 'SESSION') return { stream, alias, join, window: { type: 'session', gapMs: ms[0] as number } };
  // HOP(slide, size) and CUMULATE(step, size): an event is in up to size/slide (size/step) windows.
  const [slideMs, sizeMs] = ms as [number, number];
  const slide = fnName === 'HOP' ? 'slide' : 'step';
  const perEvent = Math.ceil(sizeMs / slideMs);
  if (perEvent > WINDOW_LIMITS.maxHopWindowsPerEvent) {
    // Every event is folded into up to size/slide windows: a tiny slide would hang or exhaust memory.
    throw planError('PW_PLAN_WINDOW_SIZE', `${fnName} with ${slide} ${formatDuration(slideMs)} and size ${formatDuration(sizeMs)} puts ${fnName === 'HOP' ? 'every event' : 'an event'} in ${fnName === 'HOP' ? '' : 'up to '}${perEvent} windows; at most ${WINDOW_LIMITS.maxHopWindowsPerEvent} are supported: use a longer ${slide} (at least ${formatDuration(Math.ceil(sizeMs / WINDOW_LIMITS.maxHopWindowsPerEvent))})`, args[2] as SqlNode, nth(0));
  }
  if (sizeMs % slideMs !== 0) {
    const code = fnName === 'HOP' ? 'PW_PLAN_HOP_MULTIPLE' : 'PW_PLAN_CUMULATE_MULTIPLE';
    throw planError(code, `${fnName} size (${sizeMs} ms) must be a whole multiple of its ${slide} (${slideMs} ms)`, args[3] as SqlNode, nth(1));
  }
  if (fnName === 'CUMULATE') return { stream, alias, join, window: { type: 'cumulate', stepMs: slideMs, sizeMs, ...offset } };
  return { stream, alias, join, window: { type: 'hop', slideMs, sizeMs, ...offset } };
}

const JOIN_TYPES: Record<string, 'inner' | 'left'> = { 'JOIN': 'inner', 'INNER JOIN': 'inner', 'LEFT JOIN': 'left', 'LEFT OUTER JOIN': 'left' };

/**
 * Binds `[INNER | LEFT] JOIN table [AS t] ON <stream expression> = t.<key>` (either side of the
 * `=`). The table must be a reference table of the catalog; the ON must be one equality between
 * the table's key and an expression over the stream alone, of the key's type.
 */
function bindJoin(item: SqlNode, stream: StreamDef, streamAlias: string | undefined, catalog: Catalog, scope: { source: SourceText; hint: number }): BoundJoin {
  const { source } = scope;
  // The parser writes a plain JOIN as 'INNER JOIN': the first join word in the text is it.
  const words = ['join', 'inner', 'left', 'right', 'full', 'cross'].map((w) => source.findKeyword(w, 0, scope.hint)).filter((o): o is number => o !== undefined);
  const joinAt = { source, hint: words.reduce((a, b) => Math.min(a, b), words[0] ?? scope.hint) };
  const joinType = JOIN_TYPES[String(item.join).toUpperCase().replace(/\s+/g, ' ')];
  if (!joinType) {
    throw planError('PW_PLAN_JOIN_TYPE', `${String(item.join).toUpperCase()} is not supported; a lookup join is JOIN (inner: events without a matching row are dropped and counted) or LEFT JOIN (their table columns are NULL)`, item, joinAt);
  }
  const name = joinedName(item);
  const at = { source, hint: typeof item.table === 'string' ? source.findPath([name], joinAt.hint) : joinAt.hint };
  const table = streamByName(catalog, name);
  if (typeof item.table !== 'string' && table?.kind !== 'stream') {
    throw planError('PW_PLAN_JOIN', 'a lookup join reads a reference table of the catalog by name: JOIN rooms r ON s.roomId = r.roomId', item, joinAt);
  }
  accept(item, 'db', 'prefix');
  const tables = [...catalog.streams.values()].filter((t) => t.kind !== 'stream').map((t) => t.name);
  if (!table) {
    throw planError('PW_PLAN_UNKNOWN_TABLE', `unknown table '${name}'${didYouMean(name, tables)}; catalog reference tables: ${tables.join(', ') || 'none (declare one with kind: table)'}`, item, at);
  }
  if (table.kind === 'stream' || !(table.table ?? table.lookup)) {
    throw planError('PW_PLAN_JOIN', `stream-stream join (${stream.name}, ${table.name}) is not supported: a metric reads one stream and may join a reference table (kind: table) or an external lookup (kind: lookup)${tables.length ? `: ${tables.join(', ')}` : ''}`, item, joinAt);
  }
  if (table.lookup && joinType === 'inner') {
    // A fallback (service down, timeout) must not drop events: an inner join would make results depend on the service's health.
    throw planError('PW_PLAN_JOIN_LOOKUP_INNER', `'${table.name}' is an external lookup (kind: lookup): join it with LEFT JOIN, so an event whose lookup falls back (service down, timeout, bad answer) keeps its place with the lookup's columns NULL`, item, joinAt);
  }
  const spec = { key: (table.table ?? table.lookup as { key: string }).key };
  const alias = typeof item.as === 'string' ? item.as : undefined;
  const qualifiers = [table.name, ...(alias ? [alias] : [])];
  const usage = `ON ${streamAlias ?? stream.name}.<column> = ${alias ?? table.name}.${spec.key}`;
  if (child(item, 'using') || item.using) {
    throw planError('PW_PLAN_JOIN_ON', `a lookup join needs ON with the table's key: ${usage}`, item, { source, hint: source.findKeyword('using', 0, at.hint) ?? at.hint });
  }
  const on = child(item, 'on');
  const onAt = { source, hint: source.findKeyword('on', 0, at.hint) ?? at.hint };
  if (!on || on.type !== 'binary_expr' || on.operator !== '=') {
    throw planError('PW_PLAN_JOIN_ON', `the ON of a lookup join is one equality between a stream expression and the table's key: ${usage}`, on ?? item, onAt);
  }
  const bindScope: BindScope = {
    mode: 'row', stream, source, clause: 'ON', hint: onAt.hint, qualifiers: [stream.name, ...(streamAlias ? [streamAlias] : [])], join: { table, qualifiers },
  };
  const left = child(on, 'left') as SqlNode;
  const right = child(on, 'right') as SqlNode;
  const sides = [{ node: left, expr: bindExpr(left, bindScope) }, { node: right, expr: bindExpr(right, bindScope) }];
  const keySide = sides.find((x) => x.expr.kind === 'FieldExpr' && x.expr.table !== undefined);
  const probeSide = sides.find((x) => x !== keySide);
  if (!keySide || !probeSide || readsTable(probeSide.expr)) {
    throw planError('PW_PLAN_JOIN_ON', `the ON of a lookup join compares the table's key with an expression over the stream alone: ${usage}`, keySide ? (probeSide?.node ?? on) : on, bindScope);
  }
  if ((keySide.expr as { path: string }).path !== spec.key) {
    throw planError('PW_PLAN_JOIN_KEY', `a lookup join matches on the table's key '${spec.key}' (declared as key in ${table.file}), not on '${(keySide.expr as { path: string }).path}': ${usage}`, keySide.node, bindScope);
  }
  const keyType = keySide.expr.type;
  if (probeSide.expr.type !== keyType && probeSide.expr.type !== 'null') {
    throw planError('PW_PLAN_TYPE', `the join compares ${probeSide.expr.type} with the table's key ${spec.key} of type ${keyType}; CAST the stream side to ${keyType === 'int' ? 'BIGINT' : 'VARCHAR'}`, probeSide.node, bindScope);
  }
  return { table, joinType, probe: probeSide.expr, qualifiers };
}
