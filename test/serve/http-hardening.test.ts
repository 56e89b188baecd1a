/**
 * The HTTP surface against hostile or sloppy clients (../shared/cases/http-minor-envelope-and-negotiation,
 * slow-body-connections-held-forever): every error is the `{error:{code:PW_…}}` envelope, Fastify's
 * and Node's own included (400 bad URL, 414 long path parameter, 431 huge headers); the Bearer
 * scheme is case-insensitive; Accept is negotiated with q-values and case-insensitive media
 * types; a refused request with an announced body gets its answer and a closed connection; a
 * request that trickles in is cut at the request timeout.
 */
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type ServerOptions } from '../../src/serve/server.js';
import { fixture, handleOf, type Fixture } from './serve-harness.js';

const ARROW = 'application/vnd.apache.arrow.stream';
let f: Fixture | undefined;
const apps: FastifyInstance[] = [];
afterEach(async () => { for (const a of apps.splice(0)) await a.close(); });

async function listen(opts: Partial<ServerOptions> = {}): Promise<{ app: FastifyInstance; port: number; base: string }> {
  f ??= fixture();
  const { app } = await createServer({ store: f.store, handle: handleOf(f.engine, { checkpoint: async () => undefined, lastCheckpointAt: () => Date.now() }), ...opts });
  apps.push(app);
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, port: Number(new URL(base).port), base };
}

/** Writes `text` on a raw connection; resolves with everything the server sent and whether it closed the connection within `ms`. */
function raw(port: number, text: string, ms: number, then?: (s: net.Socket) => void): Promise<{ answer: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let answer = '';
    let closed = false;
    s.on('data', (d) => { answer += d.toString(); });
    s.on('error', () => undefined);
    s.on('close', () => { closed = true; });
    s.on('connect', () => { s.write(text); then?.(s); });
    setTimeout(() => { s.destroy(); resolve({ answer, closed }); }, ms);
  });
}

const envelope = (text: string): { code: string; message: string } => (JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } }).error;

describe('HTTP errors and negotiation', () => {
  it('answers a bad URL, a too-long path parameter and too-large headers in the error envelope', async () => {
    const { port, base } = await listen();
    const bad = await fetch(`${base}/v1/metrics/%ff/rows`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('PW_SERVE_BAD_PARAM');
    const long = await fetch(`${base}/v1/metrics/${'a'.repeat(10_000)}/rows`);
    expect(long.status).toBe(414);
    const longBody = (await long.json()) as { error: { code: string; message: string } };
    expect(longBody.error.code).toBe('PW_SERVE_BAD_PARAM');
    expect(longBody.error.message.length).toBeLessThan(200); // the 10 kB path is not echoed
    const huge = await raw(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 1500);
    expect(huge.answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(envelope(huge.answer).code).toBe('PW_SERVE_BAD_PARAM');
    expect(huge.closed).toBe(true);
  });

  it('takes the Bearer scheme in any case', async () => {
    const { base } = await listen({ tokens: [{ token: 'rtok', scope: 'read' }] });
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) expect((await fetch(`${base}/v1/metrics`, { headers: { authorization: `${scheme} rtok` } })).status, scheme).toBe(200);
    expect((await fetch(`${base}/v1/metrics`, { headers: { authorization: 'Basic rtok' } })).status).toBe(401);
  });

  it('negotiates Accept with q-values and case-insensitive media types', async () => {
    const { base } = await listen();
    const type = async (accept: string): Promise<string | null> => (await fetch(`${base}/v1/metrics/restaurant_orders_5m/rows`, { headers: { accept } })).headers.get('content-type');
    expect(await type(`${ARROW};q=0, application/json`)).toMatch(/^application\/json/);
    expect(await type(ARROW.toUpperCase())).toBe(ARROW);
    expect(await type(`${ARROW}, application/json;q=0.5`)).toBe(ARROW);
    expect(await type('*/*')).toMatch(/^application\/json/);
  });
});

describe('connections held by slow or refused clients', () => {
  it('answers a refused request that announced a body, then closes the connection', async () => {
    const { port } = await listen({ tokens: [{ token: 'atok', scope: 'admin' }] });
    const r = await raw(port, 'POST /v1/admin/checkpoint HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{', 2000);
    expect(r.answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(r.answer.toLowerCase()).toContain('connection: close');
    expect(envelope(r.answer).code).toBe('PW_SERVE_UNAUTHORIZED');
    expect(r.closed).toBe(true);
  });

  it('cuts a request whose body trickles in past the request timeout', async () => {
    const { port } = await listen({ requestTimeoutMs: 1000 });
    let drip: NodeJS.Timeout | undefined;
    const r = await raw(port, 'POST /v1/admin/checkpoint HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{', 4000, (s) => {
      drip = setInterval(() => { if (!s.destroyed) s.write(' '); }, 200);
    });
    clearInterval(drip);
    expect(r.closed).toBe(true);
    expect(r.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(envelope(r.answer).code).toBe('PW_SERVE_TIMEOUT');
  });
});
