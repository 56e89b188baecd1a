/** /v1: metric catalog, rows by window range and key, latest per key, live stream (SSE). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { displayWindow } from '../../plan/index.js';
import { parseTimestampMs } from '../../util/timestamp.js';
import { formatTimestamp } from '../../util/timestamp.js';
import { rowsToArrowIpc } from '../arrow-rows.js';
import { requireScope, type TokenConfig } from '../auth.js';
import type { EngineHandle } from '../engine-handle.js';
import type { PitwallMetrics } from '../prom-metrics.js';
import { ServeError } from '../serve-errors.js';
import type { ChangeEvent, ServingStore } from '../serving-store.js';

export interface MetricsRoutesOptions {
  readonly store: ServingStore;
  readonly handle: EngineHandle;
  readonly tokens: readonly TokenConfig[];
  readonly metrics: PitwallMetrics;
  /** Messages an SSE client may fall behind before it is dropped. */
  readonly sseBuffer: number;
}

const ARROW = 'application/vnd.apache.arrow.stream';
const RESERVED = new Set(['from', 'to', 'limit', 'cursor', 'access_token']);

function time(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const ms = /^-?\d+$/.test(String(v)) ? Number(v) : parseTimestampMs(String(v));
  if (ms === undefined || !Number.isFinite(ms)) throw new ServeError('PW_SERVE_BAD_PARAM', `${name}=${String(v)} is not a timestamp; use ISO-8601 (2024-03-15T19:30:00Z) or epoch milliseconds`);
  return ms;
}

/** Registered as an encapsulated plugin: its read-scope hook covers /v1 only. */
export async function metricsRoutes(app: FastifyInstance, opts: MetricsRoutesOptions): Promise<void> {
  const { store, handle, tokens } = opts;
  const plan = (name: string): NonNullable<ReturnType<ServingStore['plan']>> => {
    const p = store.plan(name);
    if (!p) throw new ServeError('PW_SERVE_UNKNOWN_METRIC', `unknown metric '${name}'; metrics: ${store.plans.map((x) => x.name).join(', ')}`);
    return p;
  };
  // preParsing, not onRequest: the rate limiter's per-route onRequest hook must run (and count)
  // before a request is refused for its token, or token guessing would never be limited.
  app.addHook('preParsing', async (req) => { requireScope(tokens, req, 'read'); });
  // Open SSE streams never finish by themselves: end them when the server closes.
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => { for (const close of [...streams]) close(); });

  app.get('/v1/metrics', async () => ({
    metrics: store.plans.map((p) => {
      const s = handle.engine.streams.find((x) => x.stream.name === p.stream.name);
      const wm = s?.watermark.watermarkMs;
      const info = store.info(p.name);
      return {
        name: p.name, sql: p.sql, hash: p.hash, emit: p.emit, stream: p.stream.name,
        window: { kind: p.window.type, display: displayWindow(p.window) },
        columns: p.columns.map((c, i) => ({ name: c.name, type: c.type, key: p.keyColumns.includes(i) })),
        watermark: wm !== undefined && Number.isFinite(wm) ? formatTimestamp(wm) : null,
        freshness: { lastUpdate: info.lastUpdateAt ? new Date(info.lastUpdateAt).toISOString() : null, ageSeconds: info.lastUpdateAt ? (Date.now() - info.lastUpdateAt) / 1000 : null },
        rows: info.rows, windows: info.windows,
      };
    }),
  }));

  app.get('/v1/metrics/:name/rows', async (req: FastifyRequest<{ Params: { name: string }; Querystring: Record<string, string> }>, reply: FastifyReply) => {
    const p = plan(req.params.name);
    const q = req.query;
    const columns = p.columns.map((c) => c.name);
    const filters: Record<string, string> = {};
    for (const [k, v] of Object.entries(q)) {
      if (RESERVED.has(k)) continue;
      if (!columns.includes(k)) throw new ServeError('PW_SERVE_BAD_PARAM', `unknown parameter '${k}'; use from, to, limit, cursor or a column of ${p.name}: ${columns.join(', ')}`);
      filters[k] = String(v);
    }
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ServeError('PW_SERVE_BAD_PARAM', `limit=${q.limit ?? ''} must be an integer from 1 to 1000`);
    const offset = q.cursor === undefined ? 0 : Number(q.cursor);
    if (!Number.isInteger(offset) || offset < 0) throw new ServeError('PW_SERVE_BAD_PARAM', `cursor=${q.cursor ?? ''} is not a cursor from a previous page`);
    const { rows, total } = store.query(p.name, { from: time('from', q.from), to: time('to', q.to), filters, limit, offset });
    const next = offset + rows.length < total ? String(offset + rows.length) : null;
    if ((req.headers.accept ?? '').includes(ARROW)) {
      reply.header('content-type', ARROW).header('x-pitwall-next-cursor', next ?? '');
      return reply.send(Buffer.from(rowsToArrowIpc(p, rows.map((r) => r.row))));
    }
    return { metric: p.name, hash: p.hash, rows: rows.map((r) => r.row), total, nextCursor: next };
  });

  app.get('/v1/metrics/:name/latest', async (req: FastifyRequest<{ Params: { name: string } }>) => {
    const p = plan(req.params.name);
    return { metric: p.name, hash: p.hash, rows: store.latest(p.name).map((r) => ({ ...r.row, final: r.final })) };
  });

  /**
   * Server-Sent Events of the changes of `metrics` on one connection. With one metric the event
   * id is its sequence number; with several (GET /v1/stream, so a page needs one connection, not
   * one per metric of the browser's six) it is every metric's last sequence joined by dots.
   */
  const openStream = (req: FastifyRequest, reply: FastifyReply, multi: boolean, metrics: readonly string[], after: readonly (number | undefined)[]): void => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    let queued = 0;
    let closed = false;
    opts.metrics.sseClients.inc();
    const close = (drop = false): void => {
      if (closed) return;
      closed = true;
      for (const sub of subs) sub.unsubscribe();
      clearInterval(beat);
      streams.delete(close);
      opts.metrics.sseClients.dec();
      // A dropped client has unread data queued: destroy the socket instead of waiting for it.
      if (drop) res.destroy(); else res.end();
    };
    const write = (i: number, e: ChangeEvent): void => {
      if (closed) return;
      // A client that cannot keep up is dropped rather than buffered without bound.
      if (queued > opts.sseBuffer) { opts.metrics.sseDropped.inc(); close(true); return; }
      pos[i] = e.seq;
      const ok = multi
        ? res.write(`id: ${pos.join('.')}\nevent: ${e.kind}\ndata: ${JSON.stringify({ metric: metrics[i], ...e })}\n\n`)
        : res.write(`id: ${e.seq}\nevent: ${e.kind}\ndata: ${JSON.stringify(e)}\n\n`);
      if (!ok) queued++;
    };
    res.on('drain', () => { queued = 0; });
    // subscribe() replays the logged changes synchronously: hold them until every subscription
    // exists and the reset notice (if any) has gone out first.
    let replay: [number, ChangeEvent][] | undefined = [];
    const subs = metrics.map((m, i) => store.subscribe(m, (e) => { if (replay) replay.push([i, e]); else write(i, e); }, after[i]));
    const pos = metrics.map((m) => store.info(m).seq);
    streams.add(close);
    const beat = setInterval(() => { if (!closed) res.write(': keep-alive\n\n'); }, 15_000);
    req.raw.on('close', () => close());
    const replayed = replay;
    replay = undefined;
    const lost = metrics.filter((_m, i) => !subs[i]?.resumed);
    if (lost.length) res.write(`event: reset\ndata: ${JSON.stringify({ reason: 'Last-Event-ID is older than the kept history; refetch /rows', ...(multi ? { metrics: lost } : {}) })}\n\n`);
    for (const [i, e] of replayed) write(i, e);
  };
  const lastEventId = (req: FastifyRequest<{ Querystring: Record<string, string> }>): string | undefined => {
    const v = req.headers['last-event-id'] ?? req.query.lastEventId;
    return v === undefined ? undefined : String(v);
  };

  app.get('/v1/metrics/:name/stream', (req: FastifyRequest<{ Params: { name: string }; Querystring: Record<string, string> }>, reply: FastifyReply) => {
    const p = plan(req.params.name);
    const lastId = lastEventId(req);
    const after = lastId === undefined ? undefined : Number(lastId);
    if (after !== undefined && !Number.isInteger(after)) throw new ServeError('PW_SERVE_BAD_PARAM', `Last-Event-ID '${lastId}' is not an event id from this stream`);
    openStream(req, reply, false, [p.name], [after]);
  });

  app.get('/v1/stream', (req: FastifyRequest<{ Querystring: Record<string, string> }>, reply: FastifyReply) => {
    const metrics = req.query.metrics === undefined ? store.plans.map((p) => p.name) : [...new Set(String(req.query.metrics).split(','))].map((m) => plan(m).name);
    const lastId = lastEventId(req);
    const ids = lastId === undefined ? undefined : lastId.split('.').map(Number);
    if (ids && !ids.every((n) => Number.isInteger(n))) throw new ServeError('PW_SERVE_BAD_PARAM', `Last-Event-ID '${lastId}' is not an event id from this stream`);
    // An id for another set of metrics cannot be resumed: -1 makes every metric reset.
    openStream(req, reply, true, metrics, metrics.map((_m, i) => (ids === undefined ? undefined : ids.length === metrics.length ? ids[i] : -1)));
  });

  app.post('/v1/admin/checkpoint', async (req) => {
    requireScope(tokens, req, 'admin');
    if (!handle.checkpoint) throw new ServeError('PW_SERVE_UNAVAILABLE', 'this engine does not checkpoint (no state directory)');
    await handle.checkpoint();
    return { checkpointedAt: new Date(handle.lastCheckpointAt() ?? Date.now()).toISOString() };
  });
}
