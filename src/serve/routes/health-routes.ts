/** /healthz (alive, open), /readyz (caught up), /metrics (Prometheus), /openapi.json. */
import type { FastifyInstance } from 'fastify';
import { requireScope, type TokenConfig } from '../auth.js';
import type { EngineHandle } from '../engine-handle.js';
import { openApiDocument } from '../openapi.js';
import type { PitwallMetrics } from '../prom-metrics.js';

export interface HealthOptions {
  readonly handle: EngineHandle;
  readonly metrics: PitwallMetrics;
  readonly tokens: readonly TokenConfig[];
  /** Ready only while the total consumer lag is below this. */
  readonly maxLag: number;
  /** Ready only while the last checkpoint is younger than this (when checkpointing). */
  readonly maxCheckpointAgeMs: number;
}

export function healthRoutes(app: FastifyInstance, opts: HealthOptions): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const reasons: string[] = [];
    const lag = [...opts.handle.lag().values()].reduce((a, b) => a + b, 0);
    if (lag >= opts.maxLag) reasons.push(`consumer lag ${lag} >= ${opts.maxLag}`);
    const at = opts.handle.lastCheckpointAt();
    if (opts.handle.checkpoint && (at === undefined || Date.now() - at > opts.maxCheckpointAgeMs)) {
      reasons.push(at === undefined ? 'no checkpoint yet' : `last checkpoint ${Math.round((Date.now() - at) / 1000)}s ago`);
    }
    const why = opts.handle.notReadyReason?.();
    if (why) reasons.push(why);
    // Shedding does not make the engine unready (critical metrics stay live): it is reported beside.
    const shed = opts.handle.shed ? { shed: opts.handle.shed() } : {};
    if (reasons.length) return reply.code(503).send({ status: 'not ready', reasons, lag, ...shed });
    return { status: 'ready', lag, ...shed };
  });

  app.get('/metrics', async (req, reply) => {
    requireScope(opts.tokens, req, 'read');
    reply.header('content-type', opts.metrics.registry.contentType);
    return opts.metrics.registry.metrics();
  });

  app.get('/openapi.json', async () => openApiDocument({ tokens: opts.tokens.length > 0, checkpoint: opts.handle.checkpoint !== undefined }));
}
