/** The OpenAPI 3.1 document of the HTTP API, served at /openapi.json. */

const error = { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } } };
const errors = {
  400: { description: 'bad parameter (the message lists what is allowed)', content: { 'application/json': { schema: error } } },
  401: { description: 'missing or unknown bearer token', content: { 'application/json': { schema: error } } },
  404: { description: 'unknown metric', content: { 'application/json': { schema: error } } },
  429: { description: 'rate limited', content: { 'application/json': { schema: error } } },
};
/** Answers of the live streams besides `errors`. */
const busy = { 503: { description: 'PW_SERVE_BUSY: the most open live streams (in all, or from this address) are open; retry later', content: { 'application/json': { schema: error } } } };
const name = { name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'metric name (GET /v1/metrics lists them)' };
const row = { type: 'object', additionalProperties: true, description: 'a result row: output column names to values; timestamps ISO-8601 UTC' };

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'pitwall', version: '0.1.0', description: 'Live windowed metrics: rows by window and key, latest values, and a live stream of changes.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths: {
      '/v1/metrics': { get: { summary: 'every metric: SQL, definition hash, columns and types, emit mode, window, watermark, freshness', responses: { 200: { description: 'metrics', content: { 'application/json': { schema: { type: 'object', properties: { metrics: { type: 'array', items: { type: 'object' } } } } } } }, ...errors } } },
      '/v1/metrics/{name}/rows': {
        get: {
          summary: 'result rows, newest window first, paginated; Accept: application/vnd.apache.arrow.stream for Arrow IPC',
          parameters: [name,
            { name: 'from', in: 'query', schema: { type: 'string' }, description: 'window_start >= from (ISO-8601 or epoch ms)' },
            { name: 'to', in: 'query', schema: { type: 'string' }, description: 'window_start < to' },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
            { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'nextCursor of the previous page' },
            { name: '<column>', in: 'query', schema: { type: 'string' }, description: 'equality filter on any output column, e.g. restaurant_id=r1' }],
          responses: {
            200: { description: 'rows', content: { 'application/json': { schema: { type: 'object', properties: { metric: { type: 'string' }, hash: { type: 'string' }, rows: { type: 'array', items: row }, total: { type: 'integer' }, nextCursor: { type: ['string', 'null'] } } } }, 'application/vnd.apache.arrow.stream': { schema: { type: 'string', format: 'binary' } } } },
            ...errors,
          },
        },
      },
      '/v1/metrics/{name}/latest': { get: { summary: 'per key, the row of its newest (possibly still open) window with final: true|false', parameters: [name], responses: { 200: { description: 'rows', content: { 'application/json': { schema: { type: 'object', properties: { rows: { type: 'array', items: row } } } } } }, ...errors } } },
      '/v1/metrics/{name}/stream': { get: { summary: 'Server-Sent Events: every change (event upsert|delete, id = sequence); resume with Last-Event-ID (written as the client reads); event reset (refetch the rows) when the history after the id is gone, the id is not one of this stream\'s, or the client fell more than its byte budget behind', parameters: [name, { name: 'Last-Event-ID', in: 'header', schema: { type: 'string' } }], responses: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...errors, ...busy } } },
      '/v1/stream': { get: { summary: 'Server-Sent Events of several metrics on one connection (what the page uses): each change carries its metric; the id is every metric\'s last sequence joined by dots, for Last-Event-ID', parameters: [{ name: 'metrics', in: 'query', schema: { type: 'string' }, description: 'comma-separated metric names (default: all)' }, { name: 'Last-Event-ID', in: 'header', schema: { type: 'string' } }], responses: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...errors, ...busy } } },
      '/v1/admin/checkpoint': { post: { summary: 'checkpoint now (admin scope)', responses: { 200: { description: 'done' }, 403: { description: 'needs the admin scope' } } } },
      '/healthz': { get: { summary: 'alive (no token needed)', security: [], responses: { 200: { description: 'ok' } } } },
      '/readyz': { get: { summary: 'caught up: consumer lag under the threshold and a recent checkpoint', security: [], responses: { 200: { description: 'ready' }, 503: { description: 'not ready, with reasons' } } } },
      '/metrics': { get: { summary: 'Prometheus exposition', responses: { 200: { description: 'text/plain' } } } },
      '/openapi.json': { get: { summary: 'this document', security: [], responses: { 200: { description: 'OpenAPI 3.1 document' } } } },
      '/': { get: { summary: 'the pit-wall page (HTML; pass ?token= when tokens are configured)', security: [], responses: { 200: { description: 'text/html' } } } },
    },
  };
}
