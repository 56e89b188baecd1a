/**
 * Hundreds of SSE clients that never read (../shared/cases/sse-never-reading-clients-stall-api):
 * with 300 of them connected while large changes flow, the rest of the API keeps answering,
 * a client that reads keeps receiving every change, and every stuck client is dropped once it
 * has been behind its byte budget for the stall timeout, releasing its connection.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { RowChange } from '../../src/hot/operator-types.js';
import { createServer } from '../../src/serve/server.js';
import { changesOf, fixture, plans, promValue, sseConnect, waitUntil, type SseClient } from './serve-harness.js';

const plan = plans.find((p) => p.name === 'restaurant_orders_5m');
if (!plan) throw new Error('restaurant_orders_5m missing from queries/');
const change = (i: number): RowChange => {
  const ws = Date.UTC(2024, 2, 15, 19) + Math.floor(i / 100) * 300_000;
  return { kind: 'upsert', windowStart: ws, id: `k${i % 100}`, values: [ws, ws + 300_000, `r${i}-${'z'.repeat(8000)}`, i, i / 2, null], final: false };
};

let app: FastifyInstance | undefined;
const clients: SseClient[] = [];
afterEach(async () => { for (const c of clients.splice(0)) c.close(); await app?.close(); });

describe('300 SSE clients that never read', () => {
  it('leave the API answering and a reading client served, and are all dropped', async () => {
    const f = fixture({ process: false });
    const server = await createServer({ store: f.store, handle: f.handle, sseBudgetBytes: 256 * 1024, sseStallMs: 1500, sseMaxClientsPerAddress: 1000, rateLimitPerMinute: 1e9 });
    app = server.app;
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const prom = async (name: string): Promise<number | undefined> => promValue(await server.metrics.registry.metrics(), name);
    for (let i = 0; i < 300; i++) clients.push(sseConnect(`${base}/v1/stream`, {}, { read: false }));
    await Promise.all(clients.map((c) => c.opened));
    const reader = sseConnect(`${base}/v1/metrics/restaurant_orders_5m/stream`);
    clients.push(reader);
    await reader.opened;
    await waitUntil(async () => (await prom('pitwall_sse_clients')) === 301);
    let i = 0;
    let answered = 0;
    const deadline = Date.now() + 30_000;
    while ((await prom('pitwall_sse_dropped_total')) !== 300 && Date.now() < deadline) {
      for (let k = 0; k < 20; k++) f.store.apply(plan, change(i++));
      // Every round, the rest of the API answers (5 s at most: a stalled loop would miss it).
      const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) });
      if (r.status === 200) answered++;
      await yieldToLoop();
    }
    expect(await prom('pitwall_sse_dropped_total')).toBe(300);
    expect(answered).toBeGreaterThan(0);
    expect(await prom('pitwall_sse_clients')).toBe(1);
    // The reader got every change, in order.
    await reader.waitFor((fr) => changesOf(fr).length >= i, 20_000);
    changesOf(reader.frames).forEach((e, k) => expect(e.seq).toBe(k + 1));
    const connections = (): Promise<number> => new Promise((resolve, reject) => app?.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    await waitUntil(async () => (await connections()) <= 2, 10_000);
  }, 90_000);
});
