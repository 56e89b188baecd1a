/**
 * The Fastify server dashboards read: /v1 API, SSE, Arrow IPC, health, Prometheus, the page.
 * It only reads the serving store and the engine's counters, so it never blocks the hot path.
 * Errors are JSON `{error: {code, message}}` with the status mapped from the code; clients
 * never see stack traces.
 */
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
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
}

export async function createServer(opts: ServerOptions): Promise<{ app: FastifyInstance; metrics: PitwallMetrics }> {
  const app = Fastify({ logger: opts.logger ?? false });
  const metrics = opts.metrics ?? new PitwallMetrics(opts.handle);
  const tokens = opts.tokens ?? [];
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof PitwallError) return reply.code(statusOf(err.code)).send({ error: { code: err.code, message: err.detail } });
    if (err.statusCode === 429) return reply.code(429).send({ error: { code: 'PW_SERVE_RATE_LIMITED', message: 'too many requests; slow down and retry after the Retry-After delay' } });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: { code: 'PW_SERVE_BAD_PARAM', message: err.message } });
    app.log.error(err);
    return reply.code(500).send({ error: { code: 'PW_INTERNAL', message: 'internal error (logged on the server)' } });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: { code: 'PW_SERVE_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}; see /openapi.json` } }));
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
