/** Binds the FROM clause: exactly one window table function over one stream. */
import type { Catalog, StreamDef } from '../catalog/index.js';
import { child, children, columnPath, functionArgs, functionName, type SqlNode } from '../sql/ast.js';
import type { SourceText } from '../sql/source-text.js';
import { formatDuration, INTERVAL_HELP, parseIntervalMs } from '../util/duration.js';
import { didYouMean } from '../util/did-you-mean.js';
import { offsetOf, planError } from './bind-expr.js';
import type { WindowSpec } from './nodes.js';
import { WINDOW_LIMITS } from './window-limits.js';

export interface BoundFrom {
  readonly stream: StreamDef;
  readonly window: WindowSpec;
  readonly alias: string | undefined;
}

/** Arguments of each window function: `args`, or `args + 1` with a trailing offset (TUMBLE, HOP, CUMULATE). */
const ARITY: Record<string, { args: number; offset: boolean; usage: string }> = {
  TUMBLE: { args: 3, offset: true, usage: "TUMBLE(stream, time_col, INTERVAL '5 minutes' [, INTERVAL '-5 hours' /* offset */])" },
  HOP: { args: 4, offset: true, usage: "HOP(stream, time_col, INTERVAL '1 minute' /* slide */, INTERVAL '5 minutes' /* size */ [, INTERVAL '30 seconds' /* offset */])" },
  CUMULATE: { args: 4, offset: true, usage: "CUMULATE(stream, time_col, INTERVAL '1 hour' /* step */, INTERVAL '1 day' /* size */ [, INTERVAL '-5 hours' /* offset */])" },
  SESSION: { args: 3, offset: false, usage: "SESSION(stream, time_col, INTERVAL '30 seconds' /* gap */)" },
};

function streamByName(catalog: Catalog, name: string): StreamDef | undefined {
  return catalog.streams.get(name) ?? [...catalog.streams.values()].find((s) => s.name.toLowerCase() === name.toLowerCase());
}

export function bindFrom(select: SqlNode, catalog: Catalog, source: SourceText, hint: number): BoundFrom {
  const scope = { source, hint };
  const from = children(select, 'from');
  if (from.length === 0) throw planError('PW_PLAN_NO_FROM', "a metric reads a stream: FROM TUMBLE(stream, time_col, INTERVAL '5 minutes')", select, scope);
  const joined = from.slice(1).find((f) => f.join !== undefined) ?? (from.length > 1 ? from[1] : undefined);
  if (joined) {
    const names = from.map((f) => (typeof f.table === 'string' ? f.table : functionArgs(child(f, 'expr') ?? {}).map((a) => columnPath(a).join('.'))[0] ?? ''));
    const streams = names.filter((n) => streamByName(catalog, n)?.kind === 'stream');
    const tables = names.filter((n) => streamByName(catalog, n)?.kind === 'table');
    const what = streams.length >= 2 ? `stream-stream join (${streams.join(', ')})` : tables.length > 0 ? `lookup join with reference table '${tables[0]}'` : 'join';
    throw planError('PW_PLAN_JOIN', `${what} is not supported: a metric reads one stream`, joined,
      { source, hint: source.findKeyword('join', 0, hint) ?? source.findKeyword(String(joined.table ?? ''), 0, hint) ?? hint });
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
  if (fnName === 'TUMBLE') return { stream, alias, window: { type: 'tumble', sizeMs: ms[0] as number, ...offset } };
  if (fnName === 'SESSION') return { stream, alias, window: { type: 'session', gapMs: ms[0] as number } };
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
  if (fnName === 'CUMULATE') return { stream, alias, window: { type: 'cumulate', stepMs: slideMs, sizeMs, ...offset } };
  return { stream, alias, window: { type: 'hop', slideMs, sizeMs, ...offset } };
}
