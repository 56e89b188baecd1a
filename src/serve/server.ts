/**
 * The Fastify server dashboards read: /v1 API, SSE, Arrow IPC, health, Prometheus, the page.
 * It only reads the serving store and the engine's counters, so it never blocks the hot path.
 * Errors are JSON `{error: {code, message}}` with the status mapped from the code; clients
 * never see stack traces.
 */
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { PitwallError } from '../errors.js';
import { tokenOf, type TokenConfig } from './auth.js';
import type { EngineHandle } from './engine-handle.js';
import { PAGE_HTML } from './page.js';
import { PitwallMetrics } from './prom-metrics.js';
import { healthRoutes } from './routes/health-routes.js';
import { metricsRoutes } from './routes/metrics-routes.js';
import { statusOf } from './serve-errors.js';
import type { ServingStore } from './serving-store.js';

export interface ServerOptions {
  readonly store: ServingStore;
  readonly handle: EngineHandle;
  readonly metrics?: PitwallMetrics;
  readonly tokens?: readonly TokenConfig[];
  /** Allowed browser origins (CORS); empty: same origin only. */
  readonly corsOrigins?: readonly string[];
  /** Requests per minute per client (token or address). Default 1,200. */
  readonly rateLimitPerMinute?: number;
  /** Bytes held for one SSE client before it is reset (default 1 MiB). */
  readonly sseBudgetBytes?: number;
  /** How long an SSE client that fell behind may go without reading before it is dropped (ms, default 30 s). */
  readonly sseStallMs?: number;
  /** Most open SSE streams in all (default 1,000) and per client address (default 100). */
  readonly sseMaxClients?: number;
  readonly sseMaxClientsPerAddress?: number;
  readonly maxLag?: number;
  readonly maxCheckpointAgeMs?: number;
  readonly logger?: boolean;
  /** Longest a request (headers and body) may take to arrive (ms, default 30 s; headers: at most 10 s). */
  readonly requestTimeoutMs?: number;
}

/** Longest path parameter (a metric name), in characters. */
const MAX_PARAM_LENGTH = 200;

/** Most characters of a request's text quoted back in an error message. */
const QUOTE_CHARS = 120;

/** A client error from Node's HTTP parser (before Fastify sees a request), as an HTTP/1.1 answer in the error envelope. */
function clientErrorAnswer(err: Error & { code?: string }): string {
  const [status, reason, code, message] = err.code === 'HPE_HEADER_OVERFLOW'
    ? [431, 'Request Header Fields Too Large', 'PW_SERVE_BAD_PARAM', 'the request headers are too large (16 KiB at most)']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'PW_SERVE_TIMEOUT', 'the request did not arrive in time; send it whole, without pauses']
      : [400, 'Bad Request', 'PW_SERVE_BAD_PARAM', 'the request is not valid HTTP/1.1'];
  const body = JSON.stringify({ error: { code, message } });
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

export async function createServer(opts: ServerOptions): Promise<{ app: FastifyInstance; metrics: PitwallMetrics }> {
  const app = Fastify({
    logger: opts.logger ?? false,
    // A request (headers and body) must arrive within 30 s, headers within 10 s: a client that
    // trickles a body cannot hold a connection forever (slow-body-connections-held-forever).
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    http: { headersTimeout: Math.min(opts.requestTimeoutMs ?? 30_000, 10_000), connectionsCheckingInterval: Math.min(5_000, Math.max(100, Math.floor((opts.requestTimeoutMs ?? 30_000) / 2))) },
    // Errors Fastify raises before routing (a bad URL, a path parameter too long) use the envelope too.
    frameworkErrors: (err, _req, reply) => {
      const long = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void (reply as FastifyReply).code(long ? 414 : 400).send({ error: { code: 'PW_SERVE_BAD_PARAM', message: long ? `a path parameter is longer than ${MAX_PARAM_LENGTH} characters` : `the URL is not valid (${err.message.slice(0, QUOTE_CHARS)})` } });
    },
    // Under routerOptions: Fastify 5 warns (FSTDEP022) on every start for the top-level form.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    clientErrorHandler: (err: Error & { code?: string }, socket) => {
      if (socket.writable) socket.end(clientErrorAnswer(err)); else socket.destroy();
    },
  });
  const metrics = opts.metrics ?? new PitwallMetrics(opts.handle);
  const tokens = opts.tokens ?? [];
  /** A path that exists with other methods: 405 with Allow (RFC 9110 §15.5.6), not 404; undefined when no route has the path. */
  const notAllowed = (req: FastifyRequest, reply: FastifyReply): FastifyReply | undefined => {
    const path = req.url.split('?')[0] ?? '/';
    const allowed = (['GET', 'POST'] as const).filter((method) => app.findRoute({ method, url: path }) !== null);
    if (!allowed.length) return undefined;
    return reply.code(405).header('allow', [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])].join(', ')).send({ error: { code: 'PW_SERVE_METHOD_NOT_ALLOWED', message: `${req.method} is not allowed on ${path}; use ${allowed.join(' or ')}` } });
  };
  // Methods no route takes get 405 first (Fastify would otherwise ask a QUERY or PUT for its Content-Type).
  app.addHook('onRequest', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'POST' || req.method === 'OPTIONS') return;
    return notAllowed(req, reply);
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    // Refused before its body was read: close the connection rather than read the body the client announced.
    if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) void reply.header('connection', 'close');
    if (err instanceof PitwallError) return reply.code(statusOf(err.code)).send({ error: { code: err.code, message: err.detail } });
    if (err.statusCode === 429) return reply.code(429).send({ error: { code: 'PW_SERVE_RATE_LIMITED', message: 'too many requests; slow down and retry after the Retry-After delay' } });
    if (err.statusCode === 408) return reply.code(408).send({ error: { code: 'PW_SERVE_TIMEOUT', message: 'the request did not arrive in time; send it whole, without pauses' } });
    if (err.statusCode === 413) return reply.code(413).send({ error: { code: 'PW_SERVE_BAD_PARAM', message: 'the request body is too large' } });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: { code: 'PW_SERVE_BAD_PARAM', message: err.message.slice(0, 400) } });
    app.log.error(err);
    return reply.code(500).send({ error: { code: 'PW_INTERNAL', message: 'internal error (logged on the server)' } });
  });
  app.setNotFoundHandler((req, reply) => notAllowed(req, reply)
    ?? reply.code(404).send({ error: { code: 'PW_SERVE_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0] ?? '/'}; see /openapi.json` } }));
  await app.register(cors, { origin: opts.corsOrigins && opts.corsOrigins.length ? [...opts.corsOrigins] : false });
  await app.register(rateLimit, {
    max: opts.rateLimitPerMinute ?? 1200, timeWindow: '1 minute',
    // Only a configured token keys its own bucket: unverified tokens would each get a fresh one.
    keyGenerator: (req) => { const t = tokenOf(req); return t !== undefined && tokens.some((x) => x.token === t) ? `token:${t}` : req.ip; },
    allowList: (req) => req.url === '/healthz' || req.url === '/readyz',
  });
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(PAGE_HTML));
  healthRoutes(app, { handle: opts.handle, metrics, tokens, maxLag: opts.maxLag ?? 10_000, maxCheckpointAgeMs: opts.maxCheckpointAgeMs ?? 60_000 });
  await app.register(metricsRoutes, {
    store: opts.store, handle: opts.handle, tokens, metrics, sseBudgetBytes: opts.sseBudgetBytes ?? 1 << 20, sseStallMs: opts.sseStallMs ?? 30_000,
    sseMaxClients: opts.sseMaxClients ?? 1000, sseMaxClientsPerAddress: opts.sseMaxClientsPerAddress ?? 100,
  });
  return { app, metrics };
}
