/**
 * The OpenAPI 3.1 document of the HTTP API, served at /openapi.json, as this server runs: bearer
 * security is declared only when tokens are configured (an open server declares none), the admin
 * checkpoint only when the engine checkpoints, and every status the server answers is listed.
 * test/serve/schemathesis.test.ts checks it against the server with schemathesis (all checks).
 */

/** What the document depends on. */
export interface OpenApiOptions {
  /** Tokens are configured: bearer security on everything but /healthz, /readyz, /openapi.json and the page. */
  readonly tokens: boolean;
  /** The engine checkpoints: POST /v1/admin/checkpoint exists. */
  readonly checkpoint: boolean;
}

const error = { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } }, required: ['error'] };
const json = (description: string): Record<string, unknown> => ({ description, content: { 'application/json': { schema: error } } });
/** A point in time as /rows takes it: ISO-8601 (RFC 3339) or epoch milliseconds. */
const instant = { oneOf: [{ type: 'string', format: 'date-time' }, { type: 'string', pattern: '^-?[0-9]{1,15}$' }] };
const name = { name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'metric name (GET /v1/metrics lists them)' };
const row = { type: 'object', additionalProperties: true, description: 'a result row: output column names to values (timestamps ISO-8601 UTC), and final: false while its window is open' };
/** One SSE event as a client parses it. */
const sseEvent = {
  type: 'object',
  description: 'an event: upsert or delete (data: the change as JSON: metric, seq, kind, final, windowStart, key, row), or reset (data: {reason, metrics?}: refetch /rows); id: the Last-Event-ID to resume from',
  properties: { event: { type: 'string' }, id: { type: 'string' }, data: { type: 'string' }, retry: { type: 'integer' } },
};
const sse = { description: 'text/event-stream', content: { 'text/event-stream': { schema: sseEvent } } };

export function openApiDocument(opts: OpenApiOptions = { tokens: false, checkpoint: true }): Record<string, unknown> {
  const auth = opts.tokens ? { 401: json('missing or unknown bearer token'), 403: json('the token lacks the scope') } : {};
  const common = { 400: json('bad parameter (the message lists what is allowed)'), ...auth, 429: json('rate limited (Retry-After)') };
  const named = { ...common, 404: json('unknown metric'), 414: json('a path parameter over 200 characters') };
  const busy = { 503: json('PW_SERVE_BUSY: the most open live streams (in all, or from this address) are open; retry later') };
  /** Routes open whatever the tokens. */
  const open = opts.tokens ? { security: [] } : {};
  const paths: Record<string, unknown> = {
    '/v1/metrics': { get: { summary: 'every metric: SQL, definition hash, columns and types, emit mode, tier, window, watermark, freshness, and shed state when the engine sheds', responses: { 200: { description: 'metrics', content: { 'application/json': { schema: { type: 'object', properties: { metrics: { type: 'array', items: { type: 'object' } } } } } } }, ...common } } },
    '/v1/metrics/{name}/rows': {
      get: {
        summary: 'result rows, newest window first, paginated; Accept: application/vnd.apache.arrow.stream for Arrow IPC',
        description: 'Besides the parameters below, any output column of the metric filters by equality: `?restaurant_id=r1&window_start=2024-03-15T19:30:00Z`. Any other parameter is a 400 naming the allowed ones.',
        parameters: [name,
          { name: 'from', in: 'query', schema: instant, description: 'window_start >= from (ISO-8601 or epoch ms)' },
          { name: 'to', in: 'query', schema: instant, description: 'window_start < to (ISO-8601 or epoch ms)' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          { name: 'cursor', in: 'query', schema: { type: 'string', pattern: '^[0-9]{1,15}$' }, description: 'nextCursor of the previous page' }],
        responses: {
          200: { description: 'rows', content: { 'application/json': { schema: { type: 'object', properties: { metric: { type: 'string' }, hash: { type: 'string' }, rows: { type: 'array', items: row }, total: { type: 'integer' }, nextCursor: { type: ['string', 'null'] } } } }, 'application/vnd.apache.arrow.stream': { schema: { type: 'string', format: 'binary' } } } },
          ...named,
        },
      },
    },
    '/v1/metrics/{name}/latest': { get: { summary: 'per key, the row of its newest (possibly still open) window with final: true|false', parameters: [name], responses: { 200: { description: 'rows', content: { 'application/json': { schema: { type: 'object', properties: { rows: { type: 'array', items: row } } } } } }, ...named } } },
    '/v1/metrics/{name}/stream': { get: { summary: 'Server-Sent Events: every change (event upsert|delete, id = sequence); resume with Last-Event-ID (written as the client reads); event reset (refetch the rows) when the history after the id is gone, the id is not one of this stream\'s, or the client fell more than its byte budget behind', parameters: [name, { name: 'Last-Event-ID', in: 'header', schema: { type: 'string' } }], responses: { 200: sse, ...named, ...busy } } },
    '/v1/stream': { get: { summary: 'Server-Sent Events of several metrics on one connection (what the page uses): each change carries its metric; the id is every metric\'s last sequence joined by dots, for Last-Event-ID', parameters: [{ name: 'metrics', in: 'query', schema: { type: 'string' }, description: 'comma-separated metric names (default: all)' }, { name: 'Last-Event-ID', in: 'header', schema: { type: 'string' } }], responses: { 200: sse, ...common, 404: json('unknown metric'), ...busy } } },
    ...(opts.checkpoint ? { '/v1/admin/checkpoint': { post: { summary: opts.tokens ? 'checkpoint now (needs a token with the admin scope)' : 'checkpoint now', responses: { 200: { description: 'done', content: { 'application/json': { schema: { type: 'object', properties: { checkpointedAt: { type: 'string' } } } } } }, ...auth, 429: json('rate limited (Retry-After)'), 503: json('the checkpoint failed; the previous one stays the recovery point') } } } } : {}),
    '/healthz': { get: { summary: 'alive (no token needed)', ...open, responses: { 200: { description: 'ok', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    '/readyz': { get: { summary: 'caught up: consumer lag under the threshold and a recent checkpoint (no token needed)', ...open, responses: { 200: { description: 'ready', content: { 'application/json': { schema: { type: 'object' } } } }, 503: { description: 'not ready, with reasons', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    '/metrics': { get: { summary: 'Prometheus exposition', responses: { 200: { description: 'text/plain', content: { 'text/plain': { schema: { type: 'string' } } } }, ...auth, 429: json('rate limited (Retry-After)') } } },
    '/openapi.json': { get: { summary: 'this document', ...open, responses: { 200: { description: 'OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    '/': { get: { summary: 'the pit-wall page (HTML; pass ?token= when tokens are configured)', ...open, responses: { 200: { description: 'text/html', content: { 'text/html': { schema: { type: 'string' } } } } } } },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'pitwall', version: '0.1.0', description: 'Live windowed metrics: rows by window and key, latest values, and a live stream of changes.' },
    ...(opts.tokens ? { components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }, security: [{ bearer: [] }] } : {}),
    paths,
  };
}
