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
  app.addHook('onRequest', async (req) => { requireScope(tokens, req, 'read'); });

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

  app.get('/v1/metrics/:name/stream', (req: FastifyRequest<{ Params: { name: string }; Querystring: Record<string, string> }>, reply: FastifyReply) => {
    const p = plan(req.params.name);
    const lastId = req.headers['last-event-id'] ?? req.query.lastEventId;
    const after = lastId === undefined ? undefined : Number(lastId);
    if (after !== undefined && !Number.isInteger(after)) throw new ServeError('PW_SERVE_BAD_PARAM', `Last-Event-ID '${String(lastId)}' is not an event id from this stream`);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let queued = 0;
    let closed = false;
    opts.metrics.sseClients.inc();
    const close = (): void => {
      if (closed) return;
      closed = true;
      sub.unsubscribe();
      clearInterval(beat);
      opts.metrics.sseClients.dec();
      res.end();
    };
    const send = (e: ChangeEvent): void => {
      if (closed) return;
      // A client that cannot keep up is dropped rather than buffered without bound.
      if (queued > opts.sseBuffer) { opts.metrics.sseDropped.inc(); close(); return; }
      const ok = res.write(`id: ${e.seq}\nevent: ${e.kind}\ndata: ${JSON.stringify(e)}\n\n`);
      if (!ok) queued++;
    };
    res.on('drain', () => { queued = 0; });
    const sub = store.subscribe(p.name, send, after);
    if (!sub.resumed) res.write(`event: reset\ndata: ${JSON.stringify({ reason: 'Last-Event-ID is older than the kept history; refetch /rows' })}\n\n`);
    const beat = setInterval(() => { if (!closed) res.write(': keep-alive\n\n'); }, 15_000);
    req.raw.on('close', close);
  });

  app.post('/v1/admin/checkpoint', async (req) => {
    requireScope(tokens, req, 'admin');
    if (!handle.checkpoint) throw new ServeError('PW_SERVE_UNAVAILABLE', 'this engine does not checkpoint (no state directory)');
    await handle.checkpoint();
    return { checkpointedAt: new Date(handle.lastCheckpointAt() ?? Date.now()).toISOString() };
  });
}
