/**
 * Server-Sent Events over a real socket: every change in order, resume with Last-Event-ID
 * without gaps, `event: reset` when the history is gone, and slow clients dropped (bounded).
 */
import http from 'node:http';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { RowChange } from '../../src/hot/operator-types.js';
import type { PitwallMetrics } from '../../src/serve/prom-metrics.js';
import { createServer, type ServerOptions } from '../../src/serve/server.js';
import type { ChangeEvent } from '../../src/serve/serving-store.js';
import { changesOf, fixture, plans, promValue, sseConnect, waitUntil, type Fixture, type SseClient } from './serve-harness.js';

const running: { app: FastifyInstance; clients: SseClient[] }[] = [];

async function serve(f: Fixture, opts: Partial<ServerOptions> = {}): Promise<{ app: FastifyInstance; base: string; metrics: PitwallMetrics; clients: SseClient[] }> {
  const { app, metrics } = await createServer({ store: f.store, handle: f.handle, ...opts });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const clients: SseClient[] = [];
  running.push({ app, clients });
  return { app, base, metrics, clients };
}

afterEach(async () => {
  for (const { app, clients } of running.splice(0)) {
    for (const c of clients) c.close();
    await app.close();
  }
});

const prom = async (metrics: PitwallMetrics, name: string): Promise<number | undefined> => promValue(await metrics.registry.metrics(), name);
/** JSON round trip: what a client can see of a change. */
const wire = (events: readonly ChangeEvent[]): unknown[] => JSON.parse(JSON.stringify(events)) as unknown[];

function expectContiguous(events: readonly ChangeEvent[], firstSeq: number): void {
  events.forEach((e, i) => expect(e.seq, `event #${i}`).toBe(firstSeq + i));
}

describe('SSE /v1/metrics/:name/stream', () => {
  it('delivers every change in order, and resumes after a disconnect with no gap', async () => {
    const f = fixture({ process: false, events: 6000 });
    const { base, metrics, clients } = await serve(f);
    const watched = ['order_funnel_1m', 'top_restaurants_10m', 'restaurant_orders_5m'];
    const connect = (metric: string, headers: Record<string, string> = {}): SseClient => {
      const c = sseConnect(`${base}/v1/metrics/${metric}/stream`, headers);
      clients.push(c);
      return c;
    };
    const first = Object.fromEntries(watched.map((m) => [m, connect(m)]));
    for (const c of Object.values(first)) expect(await c.opened).toBe(200);
    await waitUntil(async () => (await prom(metrics, 'pitwall_sse_clients')) === watched.length);

    // Live: keep processing generated batches while the clients read.
    for (let i = 0; i < 3000; i += 25) { f.feed(i, i + 25); await yieldToLoop(); }
    for (const m of watched) {
      const applied = f.applied.get(m) ?? [];
      expect(applied.length, m).toBeGreaterThan(m === 'order_funnel_1m' ? 100 : 5);
      await first[m]?.waitFor((fr) => changesOf(fr).length >= applied.length);
      const got = changesOf(first[m]?.frames ?? []);
      expect(got.length, m).toBe(applied.length);
      expectContiguous(got, 1);
      expect(got, m).toEqual(wire(applied));
      for (const fr of first[m]?.frames ?? []) {
        expect(fr.id).toBe(String((JSON.parse(fr.data) as ChangeEvent).seq));
        expect(fr.event).toBe((JSON.parse(fr.data) as ChangeEvent).kind);
      }
    }
    const upserts = changesOf(first.order_funnel_1m?.frames ?? []);
    expect(upserts.some((e) => !e.final) && upserts.some((e) => e.final)).toBe(true);

    // Disconnect, changes go on, reconnect from the last id seen.
    const lastSeen = Object.fromEntries(watched.map((m) => [m, first[m]?.frames.at(-1)?.id as string]));
    for (const c of Object.values(first)) c.close();
    await waitUntil(async () => (await prom(metrics, 'pitwall_sse_clients')) === 0);
    for (let i = 3000; i < 4500; i += 25) f.feed(i, i + 25);
    const second = Object.fromEntries(watched.map((m) => [m, connect(m, { 'Last-Event-ID': lastSeen[m] as string })]));
    for (const c of Object.values(second)) expect(await c.opened).toBe(200);
    // …and more changes while resumed, through the end of input.
    for (let i = 4500; i < 6000; i += 25) { f.feed(i, i + 25); await yieldToLoop(); }
    f.engine.endOfInput();
    for (const m of watched) {
      const applied = f.applied.get(m) ?? [];
      const from = Number(lastSeen[m]);
      expect(applied.length, m).toBeGreaterThan(from);
      await second[m]?.waitFor((fr) => changesOf(fr).length >= applied.length - from);
      expect(second[m]?.frames.some((fr) => fr.event === 'reset')).toBe(false);
      const got = changesOf(second[m]?.frames ?? []);
      expect(got[0]?.seq, m).toBe(from + 1);
      expectContiguous(got, from + 1);
      expect(got, m).toEqual(wire(applied.slice(from)));
      expect(got.at(-1)?.seq).toBe(f.store.info(m).seq);
    }
    expect(await prom(metrics, 'pitwall_sse_dropped_total')).toBe(0);
  });

  it('replays a long backlog in order (resume from 0)', async () => {
    const f = fixture({ batch: 1, events: 3000 }); // one change per event for the on_update funnel
    const total = f.store.info('order_funnel_1m').seq;
    expect(total).toBeGreaterThan(3000);
    const { base, clients, metrics } = await serve(f, { sseBudgetBytes: 64 << 20 });
    const c = sseConnect(`${base}/v1/metrics/order_funnel_1m/stream`, { 'Last-Event-ID': '0' });
    clients.push(c);
    await c.waitFor((fr) => changesOf(fr).length >= total);
    const got = changesOf(c.frames);
    expectContiguous(got, 1);
    expect(got).toEqual(wire(f.applied.get('order_funnel_1m') ?? []));
    expect(await prom(metrics, 'pitwall_sse_clients')).toBe(1);
  });

  it('sends event: reset when Last-Event-ID is older than the kept log, or from another run', async () => {
    const f = fixture({ process: false, batch: 10, events: 700, store: { maxChanges: 10 } });
    f.feed(0, 600);
    const seq = f.store.info('order_funnel_1m').seq;
    expect(seq).toBeGreaterThan(30);
    const kept = (f.applied.get('order_funnel_1m') ?? []).slice(-10);
    const { base, clients } = await serve(f);
    const open = (id: string): SseClient => {
      const c = sseConnect(`${base}/v1/metrics/order_funnel_1m/stream`, { 'Last-Event-ID': id });
      clients.push(c);
      return c;
    };

    const old = open('3');
    await old.waitFor((fr) => fr.length >= 11);
    expect(old.frames[0]?.event).toBe('reset');
    expect(old.frames[0]?.id).toBeUndefined();
    expect(JSON.parse(old.frames[0]?.data ?? '{}')).toEqual({ reason: 'Last-Event-ID is older than the kept history; refetch /rows' });
    expect(changesOf(old.frames)).toEqual(wire(kept)); // then what is still kept, in order

    const fromOtherRun = open(String(seq + 500));
    await fromOtherRun.waitFor((fr) => fr.length >= 1);
    expect(fromOtherRun.frames[0]?.event).toBe('reset');

    const edge = open(String(seq - 10)); // the oldest kept change is the next one: no reset
    const recent = open(String(seq - 4));
    const current = open(String(seq));
    await edge.waitFor((fr) => fr.length >= 10);
    await recent.waitFor((fr) => fr.length >= 4);
    expect(edge.frames.some((fr) => fr.event === 'reset')).toBe(false);
    expect(changesOf(edge.frames)).toEqual(wire(kept));
    expect(changesOf(recent.frames)).toEqual(wire(kept.slice(-4)));
    expect(await current.opened).toBe(200);
    // Live changes follow for all of them.
    f.feed(600, 700);
    const now = f.store.info('order_funnel_1m').seq;
    for (const c of [old, fromOtherRun, edge, recent, current]) {
      await c.waitFor((fr) => Number(fr.at(-1)?.id) === now);
      expectContiguous(changesOf(c.frames).filter((e) => e.seq > seq), seq + 1);
    }
    expect(current.frames.some((fr) => fr.event === 'reset')).toBe(false);
  });

  it('/v1/stream carries several metrics on one connection, resumable with its composite id', async () => {
    const f = fixture({ process: false, events: 4000 });
    const { base, metrics, clients } = await serve(f);
    const watched = ['order_funnel_1m', 'restaurant_orders_5m', 'top_restaurants_10m'];
    const tagged = (m: string, from = 0): unknown[] => wire((f.applied.get(m) ?? []).slice(from)).map((e) => ({ metric: m, ...(e as object) }));
    const ofMetric = (c: SseClient, m: string): ChangeEvent[] => changesOf(c.frames).filter((e) => (e as ChangeEvent & { metric: string }).metric === m);
    f.feed(0, 200, 25); // changes before connecting are not replayed without Last-Event-ID
    const base0 = watched.map((m) => f.store.info(m).seq);
    const all = sseConnect(`${base}/v1/stream`);
    const some = sseConnect(`${base}/v1/stream?metrics=${watched.join(',')}`);
    clients.push(all, some);
    expect(await all.opened).toBe(200);
    expect(await some.opened).toBe(200);
    expect(await prom(metrics, 'pitwall_sse_clients')).toBe(2); // one connection each, whatever the metric count
    for (let i = 200; i < 2000; i += 25) { f.feed(i, i + 25); await yieldToLoop(); }
    const total = watched.reduce((n, m, k) => n + f.store.info(m).seq - (base0[k] as number), 0);
    await some.waitFor((fr) => fr.length >= total);
    await all.waitFor((fr) => fr.length >= total);
    expect(some.frames.length).toBe(total);
    watched.forEach((m, k) => {
      expect(ofMetric(some, m), m).toEqual(tagged(m, base0[k]));
      expect(ofMetric(all, m), m).toEqual(tagged(m, base0[k]));
    });
    // Each id is every watched metric's last sequence, in the order asked for.
    const last = some.frames.at(-1)?.id as string;
    expect(last).toBe(watched.map((m) => f.store.info(m).seq).join('.'));
    expect(all.frames.at(-1)?.id?.split('.')).toHaveLength(plans.length);

    some.close();
    for (let i = 2000; i < 3000; i += 25) f.feed(i, i + 25);
    const resumed = sseConnect(`${base}/v1/stream?metrics=${watched.join(',')}`, { 'Last-Event-ID': last });
    const wrongSet = sseConnect(`${base}/v1/stream?metrics=${watched.join(',')}`, { 'Last-Event-ID': '3.4' });
    const ahead = last.split('.').map((n, k) => (k === 1 ? Number(n) + 1000 : Number(n))).join('.');
    const partly = sseConnect(`${base}/v1/stream?metrics=${watched.join(',')}`, { 'Last-Event-ID': ahead });
    clients.push(resumed, wrongSet, partly);
    for (let i = 3000; i < 4000; i += 25) { f.feed(i, i + 25); await yieldToLoop(); }
    f.engine.endOfInput();
    const from = last.split('.').map(Number);
    const rest = watched.reduce((n, m, k) => n + f.store.info(m).seq - (from[k] as number), 0);
    await resumed.waitFor((fr) => fr.length >= rest);
    expect(resumed.frames.some((fr) => fr.event === 'reset')).toBe(false);
    watched.forEach((m, k) => expect(ofMetric(resumed, m), m).toEqual(tagged(m, from[k])));
    expect(resumed.frames.at(-1)?.id).toBe(watched.map((m) => f.store.info(m).seq).join('.'));
    await wrongSet.waitFor((fr) => fr.length >= 1);
    expect(wrongSet.frames[0]?.event).toBe('reset');
    expect((JSON.parse(wrongSet.frames[0]?.data ?? '{}') as { metrics: string[] }).metrics).toEqual(watched);
    await partly.waitFor((fr) => fr.length >= 1);
    expect(partly.frames[0]?.event).toBe('reset');
    expect((JSON.parse(partly.frames[0]?.data ?? '{}') as { metrics: string[] }).metrics).toEqual(['restaurant_orders_5m']);
  });

  /** A big change: ~20 kB of row, so a reader that never reads fills every socket buffer fast. */
  function bigChange(i: number): RowChange {
    const ws = Date.UTC(2024, 2, 15, 19) + Math.floor(i / 100) * 300_000;
    return { kind: 'upsert', windowStart: ws, id: `k${i % 100}`, values: [ws, ws + 300_000, `r${i}-${'x'.repeat(20_000)}`, i, i / 2, null], final: false };
  }
  const restaurantOrders = plans.find((p) => p.name === 'restaurant_orders_5m');
  if (!restaurantOrders) throw new Error('restaurant_orders_5m missing from queries/');

  it('drops a client that never reads (bounded buffer), counts it, and keeps serving the others', async () => {
    const f = fixture({ process: false });
    const { app, base, metrics, clients } = await serve(f, { sseBudgetBytes: 2 << 20, sseStallMs: 500 });
    const stalled = sseConnect(`${base}/v1/metrics/restaurant_orders_5m/stream`, {}, { read: false });
    const reader = sseConnect(`${base}/v1/metrics/restaurant_orders_5m/stream`);
    clients.push(stalled, reader);
    await stalled.opened;
    await reader.opened;
    const deadline = Date.now() + 15_000;
    let i = 0;
    while ((await prom(metrics, 'pitwall_sse_dropped_total')) === 0 && Date.now() < deadline) {
      f.store.apply(restaurantOrders, bigChange(i++));
      await yieldToLoop();
    }
    expect(await prom(metrics, 'pitwall_sse_dropped_total')).toBe(1);
    expect(promValue(await metrics.registry.metrics(), 'pitwall_sse_resets_total', { reason: 'behind' })).toBe(1); // behind first, then dropped for not reading
    expect(i).toBeGreaterThan(8);
    expect(await prom(metrics, 'pitwall_sse_clients')).toBe(1);
    // The server let go of the dropped connection (the client cannot tell: it does not read).
    const connections = (): Promise<number> => new Promise((resolve, reject) => app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    await waitUntil(async () => (await connections()) === 1, 5000);
    // The reader that keeps up still gets everything, in order.
    for (let k = 0; k < 20; k++) { f.store.apply(restaurantOrders, bigChange(i++)); await yieldToLoop(); }
    await reader.waitFor((fr) => changesOf(fr).length >= i);
    expectContiguous(changesOf(reader.frames), 1);
    expect(await prom(metrics, 'pitwall_sse_dropped_total')).toBe(1);
  });

  it('drops a stalled client during a long Last-Event-ID replay without breaking the stream route', async () => {
    const f = fixture({ process: false });
    for (let i = 0; i < 1500; i++) f.store.apply(restaurantOrders, bigChange(i)); // ~30 MB of backlog
    const { base, metrics, clients } = await serve(f, { sseBudgetBytes: 256 * 1024, sseStallMs: 500, logger: false });
    const stalled = sseConnect(`${base}/v1/metrics/restaurant_orders_5m/stream`, { 'Last-Event-ID': '0' }, { read: false });
    clients.push(stalled);
    expect(await stalled.opened).toBe(200);
    // Whatever the kernel took of the replay, the next changes find it behind; it never drains.
    let i = 1500;
    const deadline = Date.now() + 10_000;
    while ((await prom(metrics, 'pitwall_sse_dropped_total')) === 0 && Date.now() < deadline) {
      f.store.apply(restaurantOrders, bigChange(i++));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await prom(metrics, 'pitwall_sse_dropped_total')).toBe(1);
    await waitUntil(async () => (await prom(metrics, 'pitwall_sse_clients')) === 0, 5000);
    // The dropped subscription is gone: further changes do not reach it or fail.
    f.store.apply(restaurantOrders, bigChange(i++));
    const next = sseConnect(`${base}/v1/metrics/restaurant_orders_5m/stream`, { 'Last-Event-ID': String(i - 2) });
    clients.push(next);
    await next.waitFor((fr) => fr.length >= 2);
    expect(changesOf(next.frames).map((e) => e.seq)).toEqual([i - 1, i]);
  });

  /** A change of about 2 kB. */
  function midChange(i: number): RowChange {
    const ws = Date.UTC(2024, 2, 15, 19) + Math.floor(i / 100) * 300_000;
    return { kind: 'upsert', windowStart: ws, id: `k${i % 100}`, values: [ws, ws + 300_000, `r${i}-${'y'.repeat(2000)}`, i, i / 2, null], final: false };
  }

  // ../shared/cases/sse-resume-dropped-page-freezes: the replay was written synchronously, each
  // write after the socket's buffer filled counted as queued, and the client was dropped before
  // it received anything, at every reconnect.
  it('delivers a resume backlog far larger than the socket buffer to a client that reads, as it reads', async () => {
    const f = fixture({ process: false });
    for (let i = 0; i < 2000; i++) f.store.apply(restaurantOrders, midChange(i)); // ~4 MB
    const { base, metrics, clients } = await serve(f, { sseBudgetBytes: 8 << 20 });
    const c = sseConnect(`${base}/v1/metrics/restaurant_orders_5m/stream`, { 'Last-Event-ID': '0' });
    clients.push(c);
    await c.waitFor((fr) => changesOf(fr).length >= 2000, 20_000);
    expectContiguous(changesOf(c.frames), 1);
    f.store.apply(restaurantOrders, midChange(2000));
    await c.waitFor((fr) => changesOf(fr).length >= 2001);
    expect(c.frames.some((fr) => fr.event === 'reset')).toBe(false);
    expect(await prom(metrics, 'pitwall_sse_dropped_total')).toBe(0);
  });

  it('resets a reading client whose backlog passes its byte budget, then carries on live (never drops it)', async () => {
    const f = fixture({ process: false });
    for (let i = 0; i < 1500; i++) f.store.apply(restaurantOrders, bigChange(i)); // ~30 MB
    const { base, metrics, clients } = await serve(f, { sseBudgetBytes: 1 << 20, sseStallMs: 60_000 });
    const c = sseConnect(`${base}/v1/metrics/restaurant_orders_5m/stream`, { 'Last-Event-ID': '0' });
    clients.push(c);
    await c.waitFor((fr) => fr.some((x) => x.event === 'reset'), 20_000);
    const reset = c.frames.find((x) => x.event === 'reset');
    expect(JSON.parse(reset?.data ?? '{}')).toEqual({ reason: 'this client fell behind the live stream; refetch /rows' });
    expect(reset?.id).toBe('1500'); // it resumes from now once it has refetched
    const before = changesOf(c.frames);
    expectContiguous(before, 1); // what it got before the reset had no gap
    expect(before.length).toBeLessThan(1500);
    for (let i = 1500; i < 1510; i++) f.store.apply(restaurantOrders, midChange(i));
    await c.waitFor((fr) => changesOf(fr).at(-1)?.seq === 1510);
    expectContiguous(changesOf(c.frames.slice(c.frames.indexOf(reset as (typeof c.frames)[number]))), 1501);
    expect(promValue(await metrics.registry.metrics(), 'pitwall_sse_resets_total', { reason: 'behind' })).toBe(1);
    expect(await prom(metrics, 'pitwall_sse_dropped_total')).toBe(0);
  });

  it('takes an empty Last-Event-ID as none, and resets a malformed one instead of refusing the stream', async () => {
    const f = fixture({ process: false });
    for (let i = 0; i < 5; i++) f.store.apply(restaurantOrders, midChange(i));
    const { base, metrics, clients } = await serve(f);
    const empty = sseConnect(`${base}/v1/metrics/restaurant_orders_5m/stream`, { 'Last-Event-ID': '' });
    const bad = sseConnect(`${base}/v1/metrics/restaurant_orders_5m/stream`, { 'Last-Event-ID': 'abc' });
    const badMulti = sseConnect(`${base}/v1/stream?metrics=restaurant_orders_5m,order_funnel_1m`, { 'Last-Event-ID': '7.x' });
    clients.push(empty, bad, badMulti);
    for (const c of [empty, bad, badMulti]) expect(await c.opened).toBe(200);
    await bad.waitFor((fr) => fr.length >= 1);
    expect(bad.frames[0]?.event).toBe('reset');
    expect(JSON.parse(bad.frames[0]?.data ?? '{}')).toEqual({ reason: "Last-Event-ID 'abc' is not an event id of this stream; refetch /rows" });
    await badMulti.waitFor((fr) => fr.length >= 1);
    expect(JSON.parse(badMulti.frames[0]?.data ?? '{}')).toMatchObject({ metrics: ['restaurant_orders_5m', 'order_funnel_1m'] });
    f.store.apply(restaurantOrders, midChange(5));
    for (const c of [empty, bad, badMulti]) await c.waitFor((fr) => changesOf(fr).some((e) => e.seq === 6));
    expect(changesOf(empty.frames).map((e) => e.seq)).toEqual([6]); // no id: live from now, no replay
    expect(empty.frames.some((fr) => fr.event === 'reset')).toBe(false);
    expect(promValue(await metrics.registry.metrics(), 'pitwall_sse_resets_total', { reason: 'bad_id' })).toBe(2);
  });

  // ../shared/cases/sse-never-reading-clients-stall-api: hundreds of stuck clients each got every
  // change serialized and written until 1,000 writes had failed.
  it('caps live streams per address and in all (503 PW_SERVE_BUSY), and serves the rest', async () => {
    const f = fixture({ process: false });
    const { base, metrics, clients } = await serve(f, { sseMaxClientsPerAddress: 3, sseMaxClients: 10 });
    const open = Array.from({ length: 3 }, () => sseConnect(`${base}/v1/stream`, {}, { read: false }));
    clients.push(...open);
    for (const c of open) expect(await c.opened).toBe(200);
    const refused = await fetch(`${base}/v1/metrics/restaurant_orders_5m/stream`);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'PW_SERVE_BUSY' });
    expect(await prom(metrics, 'pitwall_sse_refused_total')).toBe(1);
    expect((await fetch(`${base}/v1/metrics/restaurant_orders_5m/rows`)).status).toBe(200); // rows stay readable
    open[0]?.close();
    await waitUntil(async () => (await prom(metrics, 'pitwall_sse_clients')) === 2);
    const again = sseConnect(`${base}/v1/stream`);
    clients.push(again);
    expect(await again.opened).toBe(200);
  });

  // ../shared/cases/sse-no-cors-headers
  it('answers a browser from an allowed origin with CORS headers on the stream too', async () => {
    const f = fixture({ process: false });
    const { base } = await serve(f, { corsOrigins: ['http://dash.example'] });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = (http.get(`${base}/v1/stream`, { headers: { origin: 'http://dash.example' }, agent: false }, resolve));
      req.on('error', reject);
      running.at(-1)?.clients.push({ close: () => { req.destroy(); } } as unknown as SseClient);
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('http://dash.example');
    res.destroy();
  });

  it('ends open streams when the server closes', async () => {
    const f = fixture({ process: false });
    const { app } = await createServer({ store: f.store, handle: f.handle });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const c = sseConnect(`${base}/v1/metrics/restaurant_orders_5m/stream`);
    expect(await c.opened).toBe(200);
    const t0 = Date.now();
    await app.close();
    await c.ended;
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
