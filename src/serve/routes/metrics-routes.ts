/** /v1: metric catalog, rows by window range and key, latest per key, live stream (SSE). */
import { negotiate } from '@fastify/accept-negotiator';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { displayWindow } from '../../plan/index.js';
import { parseTimestampMs } from '../../util/timestamp.js';
import { formatTimestamp } from '../../util/timestamp.js';
import { rowsToArrowIpc } from '../arrow-rows.js';
import { requireScope, type TokenConfig } from '../auth.js';
import type { EngineHandle } from '../engine-handle.js';
import type { PitwallMetrics } from '../prom-metrics.js';
import { PitwallError } from '../../errors.js';
import { ServeError } from '../serve-errors.js';
import type { ChangeEvent, ServingStore } from '../serving-store.js';
import { SseClient } from '../sse-client.js';

export interface MetricsRoutesOptions {
  readonly store: ServingStore;
  readonly handle: EngineHandle;
  readonly tokens: readonly TokenConfig[];
  readonly metrics: PitwallMetrics;
  /** Bytes held for one SSE client before it is reset (sse-client.ts). */
  readonly sseBudgetBytes: number;
  /** How long an SSE client that fell behind may go without reading before it is dropped (ms). */
  readonly sseStallMs: number;
  /** Most open SSE streams in all, and from one client address (503 PW_SERVE_BUSY beyond). */
  readonly sseMaxClients: number;
  readonly sseMaxClientsPerAddress: number;
}

/** The headers a plugin (CORS) set on a reply, for answers written to the raw response. */
function corsHeaders(reply: FastifyReply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined && k.startsWith('access-control-') || k === 'vary') out[k] = String(v);
  return out;
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

  const shedOf = (name: string): { shed: boolean; since: string | null; shedWindows: number; backfilledWindows: number; pendingIntervals: number } | undefined => {
    const s = handle.shed?.()[name];
    return s ? { shed: s.shed, since: s.since ?? null, shedWindows: s.shedWindows, backfilledWindows: s.backfilledWindows, pendingIntervals: s.pendingIntervals } : undefined;
  };
  app.get('/v1/metrics', async () => ({
    metrics: store.plans.map((p) => {
      const s = handle.engine.streams.find((x) => x.stream.name === p.stream.name);
      const wm = s?.watermark.watermarkMs;
      const info = store.info(p.name);
      return {
        name: p.name, sql: p.sql, hash: p.hash, emit: p.emit, tier: p.tier, stream: p.stream.name,
        // Shedding (README "Shedding and backfill"): live, shed since, windows backfilled.
        ...(shedOf(p.name) ? { shed: shedOf(p.name) } : {}),
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
    const offset = q.cursor === undefined ? 0 : /^\d{1,15}$/.test(q.cursor) ? Number(q.cursor) : Number.NaN;
    if (!Number.isInteger(offset) || offset < 0) throw new ServeError('PW_SERVE_BAD_PARAM', `cursor=${q.cursor ?? ''} is not a cursor from a previous page`);
    const { rows, total } = store.query(p.name, { from: time('from', q.from), to: time('to', q.to), filters, limit, offset });
    const next = offset + rows.length < total ? String(offset + rows.length) : null;
    // Accept negotiation with q-values (RFC 9110 §12.5.1), media types case-insensitive; JSON unless Arrow is preferred.
    if (negotiate((req.headers.accept ?? '').toLowerCase(), ['application/json', ARROW]) === ARROW) {
      reply.header('content-type', ARROW).header('x-pitwall-next-cursor', next ?? '');
      return reply.send(Buffer.from(rowsToArrowIpc(p, rows.map((r) => r.row), rows.map((r) => r.final))));
    }
    // Every row says whether its window is final (closed) or still open (provisional).
    return { metric: p.name, hash: p.hash, rows: rows.map((r) => ({ ...r.row, final: r.final, ...(r.backfilled ? { backfilled: true } : {}) })), total, nextCursor: next };
  });

  app.get('/v1/metrics/:name/latest', async (req: FastifyRequest<{ Params: { name: string } }>) => {
    const p = plan(req.params.name);
    return { metric: p.name, hash: p.hash, rows: store.latest(p.name).map((r) => ({ ...r.row, final: r.final, ...(r.backfilled ? { backfilled: true } : {}) })) };
  });

  /**
   * Server-Sent Events of the changes of `metrics` on one connection. With one metric the event
   * id is its sequence number; with several (GET /v1/stream, so a page needs one connection, not
   * one per metric of the browser's six) it is every metric's last sequence joined by dots.
   */
  /** Open streams per client address (the cap per address). */
  const perAddress = new Map<string, number>();
  /**
   * Each change serialized once for every client: its JSON (single-metric streams) and its JSON
   * with the metric name (multi-metric streams), as frame text after the id line.
   */
  const framed = new WeakMap<ChangeEvent, [string | undefined, string | undefined]>();
  const frameBody = (e: ChangeEvent, metric: string | undefined): string => {
    let f = framed.get(e);
    if (!f) { f = [undefined, undefined]; framed.set(e, f); }
    const i = metric === undefined ? 0 : 1;
    return (f[i] ??= `event: ${e.kind}\ndata: ${JSON.stringify(metric === undefined ? e : { metric, ...e })}\n\n`);
  };
  const openStream = (req: FastifyRequest, reply: FastifyReply, multi: boolean, metrics: readonly string[], after: readonly (number | undefined)[], badId?: string): void => {
    const address = req.ip;
    if (streams.size >= opts.sseMaxClients || (perAddress.get(address) ?? 0) >= opts.sseMaxClientsPerAddress) {
      const all = streams.size >= opts.sseMaxClients;
      opts.metrics.sseRefused.inc();
      throw new ServeError('PW_SERVE_BUSY', all
        ? `${opts.sseMaxClients} live streams are open, the most this server serves; retry later, or read /rows`
        : `${opts.sseMaxClientsPerAddress} live streams are open from ${address}, the most per address; close some (a page needs one: GET /v1/stream)`);
    }
    perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
    reply.hijack();
    const res = reply.raw;
    // Hijacked: the CORS plugin's headers are copied from the reply, as on every other answer.
    res.writeHead(200, { ...corsHeaders(reply), 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    let closed = false;
    opts.metrics.sseClients.inc();
    // `withId`: the client skipped changes and resumes from now (an id), else the changes that follow are its resume.
    const resetFrame = (reason: string, lost: readonly string[], withId: boolean): string =>
      `${withId ? `id: ${multi ? pos.join('.') : String(pos[0])}\n` : ''}event: reset\ndata: ${JSON.stringify({ reason, ...(multi ? { metrics: lost } : {}) })}\n\n`;
    const client = new SseClient(res, {
      budgetBytes: opts.sseBudgetBytes, stallMs: opts.sseStallMs,
      resetFrame: () => resetFrame('this client fell behind the live stream; refetch /rows', metrics, true),
      onEvent: (what) => {
        if (what === 'behind') { opts.metrics.sseResets.inc({ reason: 'behind' }); return; }
        opts.metrics.sseDropped.inc();
        close(true);
      },
    });
    const close = (drop = false): void => {
      if (closed) return;
      closed = true;
      for (const sub of subs) sub.unsubscribe();
      clearInterval(beat);
      streams.delete(close);
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n > 0) perAddress.set(address, n); else perAddress.delete(address);
      opts.metrics.sseClients.dec();
      client.close(drop);
    };
    const write = (i: number, e: ChangeEvent): void => {
      if (closed) return;
      pos[i] = e.seq;
      if (client.behind) return; // skipped: the reset it gets on draining makes it refetch
      client.send(`id: ${multi ? pos.join('.') : String(e.seq)}\n${frameBody(e, multi ? metrics[i] : undefined)}`);
    };
    // subscribe() replays the logged changes synchronously: hold them until every subscription
    // exists and the reset notice (if any) has gone out first.
    let replay: [number, ChangeEvent][] | undefined = [];
    // EventSource reconnects 1 s after a cut (browsers wait about 3 s by default).
    client.send('retry: 1000\n\n');
    const subs = metrics.map((m, i) => store.subscribe(m, (e) => { if (replay) replay.push([i, e]); else write(i, e); }, after[i]));
    // Each metric's position in the ids sent: where a resumed one resumes, now for the rest.
    const pos = metrics.map((m, i) => (subs[i]?.resumed && after[i] !== undefined ? after[i] as number : store.info(m).seq));
    streams.add(close);
    const beat = setInterval(() => { if (!closed) client.send(': keep-alive\n\n'); }, 15_000);
    req.raw.on('close', () => close());
    const replayed = replay;
    replay = undefined;
    const lost = metrics.filter((_m, i) => !subs[i]?.resumed);
    if (badId !== undefined || lost.length) {
      const reason = badId !== undefined ? `Last-Event-ID '${badId}' is not an event id of this stream; refetch /rows` : 'Last-Event-ID is older than the kept history; refetch /rows';
      opts.metrics.sseResets.inc({ reason: badId !== undefined ? 'bad_id' : 'history' });
      client.send(resetFrame(reason, badId !== undefined ? metrics : lost, false));
    }
    // Then the replay (what is still kept after the id): written as the client reads it.
    for (const [i, e] of replayed) write(i, e);
  };
  /** The Last-Event-ID of a request (header, or `lastEventId` for clients that cannot set it); an empty one is none. */
  const lastEventId = (req: FastifyRequest<{ Querystring: Record<string, string> }>): string | undefined => {
    const v = req.headers['last-event-id'] ?? req.query.lastEventId;
    const s = v === undefined ? '' : String(v).trim();
    return s === '' ? undefined : s;
  };

  // A Last-Event-ID that is not one of this stream's ids (another server's, a truncated one) starts
  // the client from now with `event: reset`: an error answer would make EventSource retry forever.
  app.get('/v1/metrics/:name/stream', (req: FastifyRequest<{ Params: { name: string }; Querystring: Record<string, string> }>, reply: FastifyReply) => {
    const p = plan(req.params.name);
    const lastId = lastEventId(req);
    const after = lastId === undefined || !/^\d+$/.test(lastId) ? undefined : Number(lastId);
    openStream(req, reply, false, [p.name], [after], lastId !== undefined && after === undefined ? lastId : undefined);
  });

  app.get('/v1/stream', (req: FastifyRequest<{ Querystring: Record<string, string> }>, reply: FastifyReply) => {
    const metrics = req.query.metrics === undefined ? store.plans.map((p) => p.name) : [...new Set(String(req.query.metrics).split(','))].map((m) => plan(m).name);
    const lastId = lastEventId(req);
    const parts = lastId?.split('.');
    const ids = parts && parts.length === metrics.length && parts.every((x) => /^\d+$/.test(x)) ? parts.map(Number) : undefined;
    // An id for another set of metrics (or no id of ours) cannot be resumed: every metric resets.
    openStream(req, reply, true, metrics, metrics.map((_m, i) => ids?.[i]), lastId !== undefined && ids === undefined ? lastId : undefined);
  });

  // Only an engine that checkpoints has the route (and /openapi.json lists it only then).
  const checkpoint = handle.checkpoint?.bind(handle);
  if (checkpoint) {
    app.post('/v1/admin/checkpoint', async (req) => {
      requireScope(tokens, req, 'admin');
      try {
        await checkpoint();
      } catch (err) {
        // A coded failure (the store, the broker) is the operator's to read; anything else is a bug (500, logged).
        if (!(err instanceof PitwallError)) throw err;
        throw new ServeError('PW_SERVE_UNAVAILABLE', `the checkpoint failed (${err.code}: ${err.detail}); the previous one stays the recovery point`);
      }
      return { checkpointedAt: new Date(handle.lastCheckpointAt() ?? Date.now()).toISOString() };
    });
  }
}
