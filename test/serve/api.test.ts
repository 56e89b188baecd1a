/** The HTTP API through `app.inject()`: every route, every error case, tokens and the rate limit. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../src/archive/archive-writer.js';
import { ExecutionError } from '../../src/errors.js';
import { compilePayloadValidator, decodeAndValidate } from '../../src/catalog/index.js';
import { generate } from '../../src/sources/generator.js';
import { displayWindow } from '../../src/plan/index.js';
import { createServer, type ServerOptions } from '../../src/serve/server.js';
import type { ResultRow } from '../../src/util/result-row.js';
import { formatTimestamp } from '../../src/util/timestamp.js';
import { catalog, fixture, handleOf, plans, promValue, type Fixture } from './serve-harness.js';

type Json = Record<string, unknown>;
interface RowsBody { metric: string; hash: string; rows: ResultRow[]; total: number; nextCursor: string | null }
interface ErrorBody { error: { code: string; message: string } }

const closed = fixture();
const apps: FastifyInstance[] = [];

async function server(opts: Partial<ServerOptions> = {}, f: Fixture = closed): Promise<FastifyInstance> {
  const { app } = await createServer({ store: f.store, handle: f.handle, ...opts });
  apps.push(app);
  return app;
}

afterAll(async () => { await Promise.all(apps.map((a) => a.close())); });

const get = async (app: FastifyInstance, url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> => app.inject({ method: 'GET', url, headers });
const body = <T = Json>(r: LightMyRequestResponse): T => r.json<T>();
const ms = (iso: unknown): number => Date.parse(String(iso));

/** An error body: JSON `{error: {code, message}}`, no stack trace, no source paths. */
function expectError(r: LightMyRequestResponse, status: number, code: string): string {
  expect(r.statusCode, r.body).toBe(status);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  const b = body<ErrorBody>(r);
  expect(Object.keys(b)).toEqual(['error']);
  expect(b.error.code).toBe(code);
  expect(typeof b.error.message).toBe('string');
  expect(r.body).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+|node_modules|"stack"/);
  return b.error.message;
}

describe('GET /v1/metrics', () => {
  it('lists every metric with SQL, hash, typed columns with key flags, emit, window, watermark and freshness', async () => {
    const f = fixture({ close: false });
    const app = await server({}, f);
    const r = await get(app, '/v1/metrics');
    expect(r.statusCode).toBe(200);
    const { metrics } = body<{ metrics: Json[] }>(r);
    expect(metrics.map((m) => m.name)).toEqual(plans.map((p) => p.name));
    const orders = f.engine.streams.find((s) => s.stream.name === 'orders');
    expect(Number.isFinite(orders?.watermark.watermarkMs)).toBe(true);
    for (const p of plans) {
      const m = metrics.find((x) => x.name === p.name) as Json;
      expect(m.sql).toBe(p.sql);
      expect(m.hash).toBe(p.hash);
      expect(m.hash).toMatch(/^\w{8,}$/);
      expect(m.emit).toBe(p.emit);
      expect(m.stream).toBe(p.stream.name);
      expect(m.window).toEqual({ kind: p.window.type, display: displayWindow(p.window) });
      expect(m.columns).toEqual(p.columns.map((c, i) => ({ name: c.name, type: c.type, key: p.keyColumns.includes(i) })));
      const info = f.store.info(p.name);
      expect(m.rows).toBe(info.rows);
      expect(m.windows).toBe(info.windows);
      const fresh = m.freshness as { lastUpdate: string | null; ageSeconds: number | null };
      expect(m.watermark).toBe(p.stream.name === 'orders' ? formatTimestamp(orders?.watermark.watermarkMs as number) : null); // no events on the others
      if (info.rows > 0) {
        expect(ms(fresh.lastUpdate)).toBe(info.lastUpdateAt);
        expect(fresh.ageSeconds).toBeGreaterThanOrEqual(0);
        expect(fresh.ageSeconds).toBeLessThan(60);
      } else {
        expect(fresh).toEqual({ lastUpdate: null, ageSeconds: null });
      }
    }
    expect(metrics.filter((m) => (m.freshness as { lastUpdate: unknown }).lastUpdate !== null).map((m) => m.name).sort()).toEqual(['order_funnel_1m', 'restaurant_orders_5m', 'top_restaurants_10m']);
    const ro = metrics.find((x) => x.name === 'restaurant_orders_5m') as { columns: { name: string; type: string; key: boolean }[]; emit: string; window: Json };
    expect(ro.columns).toContainEqual({ name: 'restaurant_id', type: 'string', key: true });
    expect(ro.columns).toContainEqual({ name: 'orders', type: 'int', key: false });
    expect(ro.columns).toContainEqual({ name: 'window_start', type: 'timestamp', key: false });
    expect(ro.emit).toBe('on_window_close');
    expect(ro.window).toEqual({ kind: 'tumble', display: 'TUMBLE(size=5m)' });
    // Once every window closed (end of input) the watermark is past everything: no timestamp.
    const after = body<{ metrics: Json[] }>(await get(await server(), '/v1/metrics')).metrics;
    expect(after.every((m) => m.watermark === null)).toBe(true);
  });
});

describe('GET /v1/metrics/:name/rows', () => {
  // Rows as /rows serves them: each with whether its window is final (../shared/cases/page-initial-rows-marked-final).
  const all = (metric: string): ResultRow[] => closed.store.query(metric, { limit: 1e9, offset: 0 }).rows.map((r) => ({ ...r.row, final: r.final }));

  it('returns rows newest window first with the total, hash and a cursor', async () => {
    const app = await server();
    const r = await get(app, '/v1/metrics/top_restaurants_10m/rows');
    expect(r.statusCode).toBe(200);
    const b = body<RowsBody>(r);
    const p = plans.find((x) => x.name === 'top_restaurants_10m');
    expect(b.metric).toBe('top_restaurants_10m');
    expect(b.hash).toBe(p?.hash);
    expect(b.total).toBe(27);
    expect(b.rows).toEqual(all('top_restaurants_10m'));
    expect(b.nextCursor).toBeNull();
    const starts = b.rows.map((x) => ms(x.window_start));
    expect(starts).toEqual([...starts].sort((a, c) => c - a));
    expect(new Set(starts).size).toBe(9);
    expect(Object.keys(b.rows[0] ?? {})).toEqual([...(p?.columns.map((c) => c.name) ?? []), 'final']);
    expect(b.rows.every((x) => typeof x.final === 'boolean')).toBe(true);
  });

  it('filters by window range with ISO-8601 and epoch ms alike (from inclusive, to exclusive)', async () => {
    const app = await server();
    const starts = [...new Set(all('top_restaurants_10m').map((x) => ms(x.window_start)))].sort((a, b) => a - b);
    const from = starts[2] as number;
    const to = starts[6] as number;
    const want = all('top_restaurants_10m').filter((x) => ms(x.window_start) >= from && ms(x.window_start) < to);
    expect(want.length).toBe(12);
    const variants = [
      `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`,
      `from=${from}&to=${to}`,
      `from=${encodeURIComponent(new Date(from).toISOString().replace('.000Z', '+00:00'))}&to=${to}`,
    ];
    for (const q of variants) {
      const b = body<RowsBody>(await get(app, `/v1/metrics/top_restaurants_10m/rows?${q}`));
      expect(b.rows, q).toEqual(want);
      expect(b.total).toBe(want.length);
    }
    const onlyFrom = body<RowsBody>(await get(app, `/v1/metrics/top_restaurants_10m/rows?from=${from}`));
    expect(onlyFrom.rows.every((x) => ms(x.window_start) >= from)).toBe(true);
    expect(onlyFrom.total).toBe(all('top_restaurants_10m').filter((x) => ms(x.window_start) >= from).length);
    const onlyTo = body<RowsBody>(await get(app, `/v1/metrics/top_restaurants_10m/rows?to=${new Date(to).toISOString()}`));
    expect(onlyTo.rows.every((x) => ms(x.window_start) < to)).toBe(true);
    expect(onlyTo.total + onlyFrom.total).toBe(27 + want.length);
    const empty = body<RowsBody>(await get(app, `/v1/metrics/top_restaurants_10m/rows?from=${to}&to=${from}`));
    expect(empty).toMatchObject({ rows: [], total: 0, nextCursor: null });
  });

  it('filters by column equality (strings, ints, timestamps, combined)', async () => {
    const app = await server();
    const r3 = body<RowsBody>(await get(app, '/v1/metrics/restaurant_orders_5m/rows?restaurant_id=r3'));
    expect(r3.rows.length).toBe(2);
    expect(r3.rows.every((x) => x.restaurant_id === 'r3')).toBe(true);
    expect(r3.rows).toEqual(all('restaurant_orders_5m').filter((x) => x.restaurant_id === 'r3'));
    const rn1 = body<RowsBody>(await get(app, '/v1/metrics/top_restaurants_10m/rows?rn=1'));
    expect(rn1.total).toBe(9);
    expect(rn1.rows.every((x) => x.rn === 1)).toBe(true);
    const ws = all('restaurant_orders_5m')[0]?.window_start as string;
    const both = body<RowsBody>(await get(app, `/v1/metrics/restaurant_orders_5m/rows?window_start=${encodeURIComponent(ws)}&restaurant_id=r3`));
    expect(both.rows).toEqual(all('restaurant_orders_5m').filter((x) => x.window_start === ws && x.restaurant_id === 'r3'));
    expect(both.total).toBe(1);
    const none = body<RowsBody>(await get(app, '/v1/metrics/restaurant_orders_5m/rows?restaurant_id=nope'));
    expect(none).toMatchObject({ rows: [], total: 0, nextCursor: null });
  });

  it('limits and paginates with nextCursor until exhausted, with no duplicates or gaps', async () => {
    const app = await server();
    const five = body<RowsBody>(await get(app, '/v1/metrics/courier_sessions/rows?limit=5'));
    expect(five.rows.length).toBe(5);
    expect(five.total).toBe(20);
    expect(five.nextCursor).not.toBeNull();
    for (const [metric, limit, filter] of [['top_restaurants_10m', 7, ''], ['restaurant_orders_5m', 3, '&restaurant_id=r1'], ['courier_sessions', 1, ''], ['order_funnel_1m', 4, '']] as const) {
      const pages: ResultRow[][] = [];
      let cursor: string | null = null;
      do {
        const b: RowsBody = body<RowsBody>(await get(app, `/v1/metrics/${metric}/rows?limit=${limit}${filter}${cursor === null ? '' : `&cursor=${cursor}`}`));
        expect(b.rows.length).toBeLessThanOrEqual(limit);
        pages.push(b.rows);
        cursor = b.nextCursor;
        expect(pages.length).toBeLessThan(100);
      } while (cursor !== null);
      const got = pages.flat();
      const full = body<RowsBody>(await get(app, `/v1/metrics/${metric}/rows?limit=1000${filter}`)).rows;
      expect(got, metric).toEqual(full);
      const keys = got.map((x) => JSON.stringify(x));
      expect(new Set(keys).size).toBe(keys.length);
      expect(pages.slice(0, -1).every((p) => p.length === limit)).toBe(true);
    }
  });
});

describe('GET /v1/metrics/:name/latest', () => {
  it('gives per key the newest window, final once closed', async () => {
    const app = await server();
    const b = body<{ metric: string; rows: (ResultRow & { final: boolean })[] }>(await get(app, '/v1/metrics/restaurant_orders_5m/latest'));
    expect(b.metric).toBe('restaurant_orders_5m');
    expect(b.rows.length).toBe(20);
    expect(new Set(b.rows.map((x) => x.restaurant_id)).size).toBe(20);
    const rows = closed.store.query('restaurant_orders_5m', { limit: 1e9, offset: 0 }).rows.map((r) => r.row);
    for (const x of b.rows) {
      expect(x.final).toBe(true);
      const newest = Math.max(...rows.filter((r) => r.restaurant_id === x.restaurant_id).map((r) => ms(r.window_start)));
      expect(ms(x.window_start)).toBe(newest);
      const { final: _final, ...row } = x;
      expect(rows).toContainEqual(row);
    }
  });

  it('marks a still-open window final: false', async () => {
    const open = fixture({ close: false });
    const app = await server({}, open);
    const funnel = body<{ rows: (ResultRow & { final: boolean })[] }>(await get(app, '/v1/metrics/order_funnel_1m/latest')).rows;
    expect(funnel.length).toBe(1); // no key columns: one row, the newest window
    expect(funnel[0]?.final).toBe(false);
    const newest = Math.max(...open.store.query('order_funnel_1m', { limit: 1e9, offset: 0 }).rows.map((r) => r.windowStart));
    expect(ms(funnel[0]?.window_start)).toBe(newest);
    // After the windows close, the same key's newest row is final.
    open.engine.endOfInput();
    const after = body<{ rows: (ResultRow & { final: boolean })[] }>(await get(app, '/v1/metrics/order_funnel_1m/latest')).rows;
    expect(after.map((x) => x.final)).toEqual([true]);
    // A metric with no rows yet answers an empty list.
    expect(body<{ rows: unknown[] }>(await get(app, '/v1/metrics/team_damage_30s/latest')).rows).toEqual([]);
  });
});

describe('health, Prometheus, OpenAPI, page, admin', () => {
  it('/healthz is ok', async () => {
    const app = await server();
    const r = await get(app, '/healthz');
    expect(r.statusCode).toBe(200);
    expect(body(r)).toEqual({ status: 'ok' });
  });

  it('/readyz is ready when caught up, 503 with reasons when lagging or never checkpointed', async () => {
    const ready = await get(await server(), '/readyz');
    expect(ready.statusCode).toBe(200);
    expect(body(ready)).toEqual({ status: 'ready', lag: 0 });

    const lagging = await get(await server({ handle: handleOf(closed.engine, { lag: () => new Map([['orders:0', 40_000], ['orders:1', 5]]) }) }), '/readyz');
    expect(lagging.statusCode).toBe(503);
    expect(body(lagging)).toEqual({ status: 'not ready', reasons: ['consumer lag 40005 >= 10000'], lag: 40_005 });

    const custom = await get(await server({ maxLag: 100_000, handle: handleOf(closed.engine, { lag: () => new Map([['orders:0', 40_000]]) }) }), '/readyz');
    expect(custom.statusCode).toBe(200);

    const never = await get(await server({ handle: handleOf(closed.engine, { checkpoint: async () => undefined, lastCheckpointAt: () => undefined }) }), '/readyz');
    expect(never.statusCode).toBe(503);
    expect(body<{ reasons: string[] }>(never).reasons).toEqual(['no checkpoint yet']);

    const stale = await get(await server({ handle: handleOf(closed.engine, { checkpoint: async () => undefined, lastCheckpointAt: () => Date.now() - 120_000, lag: () => new Map([['orders:0', 20_000]]) }) }), '/readyz');
    expect(stale.statusCode).toBe(503);
    const reasons = body<{ reasons: string[] }>(stale).reasons;
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toBe('consumer lag 20000 >= 10000');
    expect(reasons[1]).toMatch(/^last checkpoint 12\ds ago$/);

    const fresh = await get(await server({ handle: handleOf(closed.engine, { checkpoint: async () => undefined, lastCheckpointAt: () => Date.now() - 1000 }) }), '/readyz');
    expect(fresh.statusCode).toBe(200);
  });

  it('/metrics exposes the engine counters in Prometheus text', async () => {
    const noisy = fixture({ generator: { duplicateRate: 0.05, malformedRate: 0.02, lateRate: 0.03, lateByMs: 900_000 }, close: false });
    const app = await server({ handle: handleOf(noisy.engine, { lag: () => new Map([['orders:3', 42]]), lastCheckpointAt: () => Date.now() - 5000 }) }, noisy);
    const r = await get(app, '/metrics');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    const text = r.body;
    const stats = noisy.engine.stats();
    const s = stats.streams.orders;
    expect(s?.events).toBe(3000);
    expect(s?.duplicates).toBeGreaterThan(0);
    expect(s?.quarantined).toBeGreaterThan(0);
    expect(s?.late).toBeGreaterThan(0);
    for (const [name, v] of [['pitwall_events_total', s?.events], ['pitwall_accepted_total', s?.accepted], ['pitwall_quarantined_total', s?.quarantined],
      ['pitwall_duplicates_total', s?.duplicates], ['pitwall_late_total', s?.late]] as const) {
      expect(text).toContain(`# TYPE ${name} counter`); // cumulative: ../shared/cases/promtool-gauge-total
      expect(promValue(text, name, { stream: 'orders' }), name).toBe(v);
      expect(promValue(text, name, { stream: 'badge_scans' }), name).toBe(0);
    }
    for (const p of plans) {
      const m = stats.metrics[p.name];
      expect(promValue(text, 'pitwall_rows_emitted_total', { metric: p.name })).toBe(m?.rows);
      expect(promValue(text, 'pitwall_updates_emitted_total', { metric: p.name })).toBe(m?.updates);
      expect(promValue(text, 'pitwall_late_pairs_total', { metric: p.name })).toBe(m?.late);
      expect(promValue(text, 'pitwall_partials_after_close_total', { metric: p.name })).toBe(0);
      expect(promValue(text, 'pitwall_state_groups', { metric: p.name })).toBe(noisy.engine.stateSize()[p.name]?.groups);
    }
    expect(promValue(text, 'pitwall_late_pairs_total', { metric: 'restaurant_orders_5m' })).toBeGreaterThan(0);
    expect(promValue(text, 'pitwall_consumer_lag', { topic: 'orders', partition: '3' })).toBe(42);
    expect(promValue(text, 'pitwall_last_checkpoint_age_seconds')).toBeGreaterThanOrEqual(5);
    expect(promValue(text, 'pitwall_watermark_lag_seconds', { stream: 'orders' })).toBeGreaterThan(0);
    expect(promValue(text, 'pitwall_sse_clients')).toBe(0);
    expect(promValue(text, 'pitwall_sse_dropped_total')).toBe(0);
    expect(text).toContain('# TYPE pitwall_event_to_result_seconds histogram');
    expect(text).not.toContain('pitwall_archive_'); // no archive in this engine
    // Scraped again after more input, the totals follow the engine.
    expect(promValue(text, 'pitwall_join_misses_total', { metric: 'room_fill_1m', table: 'rooms' })).toBe(0);
    // Scans of rooms the rooms table does not hold (it got no changes) are join misses, counted.
    const scans = [1, 2, 3].map((i) => ({ partition: 0, offset: i, value: JSON.stringify({ eventId: `s${i}`, eventType: 'badge.scanned', eventTime: new Date(Date.UTC(2026, 0, 1, 9, 0, i)).toISOString(), data: { roomId: 'room1', attendeeId: 'a' } }) }));
    noisy.engine.process('badge_scans', scans, 0);
    noisy.engine.endOfInput();
    const again = (await get(app, '/metrics')).body;
    expect(promValue(again, 'pitwall_rows_emitted_total', { metric: 'restaurant_orders_5m' })).toBe(noisy.engine.stats().metrics.restaurant_orders_5m?.rows);
    expect(promValue(again, 'pitwall_join_misses_total', { metric: 'room_fill_1m', table: 'rooms' })).toBe(3);
  });

  it('/metrics exposes the archive: rows per lane, segments, bytes, pending segments, write failures', async () => {
    const archive = new ArchiveWriter(mkdtempSync(join(tmpdir(), 'pw-serve-arch-')), catalog, { piiKey: 'k', threads: 0 });
    archive.open();
    const orders = catalog.streams.get('orders');
    if (!orders) throw new Error('no orders stream');
    const noisy = fixture({ generator: { malformedRate: 0.05 }, close: false });
    const validate = compilePayloadValidator(orders);
    generate('food-delivery', 200, { seed: 4, ratePerSec: 5, malformedRate: 0.05 }).forEach((r, i) => {
      const v = decodeAndValidate(r.value, validate);
      if (v.ok) archive.accepted(orders, v, { partition: 0, offset: i }, r.value);
      else archive.quarantined({ stream: 'orders', origin: { partition: 0, offset: i }, code: v.code, reason: v.reason, raw: r.value });
    });
    await archive.flush();
    const text = (await get(await server({ handle: handleOf(noisy.engine, { archive }) }, noisy), '/metrics')).body;
    expect(archive.stats.events).toBeGreaterThan(0);
    expect(archive.stats.quarantined).toBeGreaterThan(0);
    expect(promValue(text, 'pitwall_archive_rows_total', { lane: 'events' })).toBe(archive.stats.events);
    expect(promValue(text, 'pitwall_archive_rows_total', { lane: 'quarantine' })).toBe(archive.stats.quarantined);
    expect(promValue(text, 'pitwall_archive_segments_total')).toBe(2);
    expect(promValue(text, 'pitwall_archive_bytes_total')).toBe(archive.stats.bytes);
    expect(promValue(text, 'pitwall_archive_pending_segments')).toBe(0);
    expect(promValue(text, 'pitwall_archive_write_failures_total')).toBe(0);
  });

  it('/openapi.json is an OpenAPI 3.1 document listing every route', async () => {
    const app = await server({ handle: handleOf(closed.engine, { checkpoint: async () => undefined }) });
    const r = await get(app, '/openapi.json');
    expect(r.statusCode).toBe(200);
    const doc = body<{ openapi: string; info: { title: string; version: string }; paths: Record<string, Record<string, { summary: string; responses: Record<string, unknown>; parameters?: { name: string; in: string }[] }>> }>(r);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('pitwall');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    const routes: [string, string][] = [['get', '/v1/metrics'], ['get', '/v1/metrics/:name/rows'], ['get', '/v1/metrics/:name/latest'], ['get', '/v1/metrics/:name/stream'], ['get', '/v1/stream'],
      ['post', '/v1/admin/checkpoint'], ['get', '/healthz'], ['get', '/readyz'], ['get', '/metrics'], ['get', '/openapi.json'], ['get', '/']];
    for (const [method, url] of routes) {
      expect(app.hasRoute({ method: method.toUpperCase() as 'GET', url }), url).toBe(true);
      const op = doc.paths[url.replace(/:(\w+)/g, '{$1}')]?.[method];
      expect(op, `${method} ${url}`).toBeDefined();
      expect(op?.summary).toBeTruthy();
      expect(Object.keys(op?.responses ?? {})).toContain('200');
      for (const param of url.match(/:(\w+)/g) ?? []) expect(op?.parameters?.some((x) => x.name === param.slice(1) && x.in === 'path')).toBe(true);
    }
    // Nothing documented that does not exist.
    for (const [path, ops] of Object.entries(doc.paths)) for (const method of Object.keys(ops)) {
      expect(app.hasRoute({ method: method.toUpperCase() as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') }), `${method} ${path}`).toBe(true);
    }
    expect(Object.keys(doc.paths).length).toBe(routes.length);
    // Security is declared only when the server has tokens (an open server demands none).
    expect(doc).not.toHaveProperty('security');
    const secured = body<{ security?: unknown[]; paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>> }>(await get(await server({ tokens: [{ token: 't', scope: 'admin' }] }), '/openapi.json?access_token=t'));
    expect(secured.security).toEqual([{ bearer: [] }]);
    expect(secured.paths['/healthz']?.get?.security).toEqual([]);
    expect(Object.keys(secured.paths['/v1/metrics']?.get?.responses ?? {})).toEqual(expect.arrayContaining(['200', '401', '403', '429']));
  });

  it('GET / serves the pit-wall page', async () => {
    const r = await get(await server(), '/');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.body).toMatch(/^<!doctype html>/);
    expect(r.body).toContain('<title>pitwall</title>');
    expect(r.body).toContain('new EventSource(');
  });

  it('POST /v1/admin/checkpoint runs a checkpoint, or says the engine does not checkpoint', async () => {
    let calls = 0;
    let at: number | undefined;
    const app = await server({ handle: handleOf(closed.engine, { checkpoint: async () => { calls++; at = Date.UTC(2024, 2, 15, 20); }, lastCheckpointAt: () => at }) });
    const r = await app.inject({ method: 'POST', url: '/v1/admin/checkpoint' });
    expect(r.statusCode).toBe(200);
    expect(body(r)).toEqual({ checkpointedAt: '2024-03-15T20:00:00.000Z' });
    expect(calls).toBe(1);
    // An engine that does not checkpoint has no such route (nor does /openapi.json list it).
    const plain = await server();
    expectError(await plain.inject({ method: 'POST', url: '/v1/admin/checkpoint' }), 404, 'PW_SERVE_NOT_FOUND');
    expect(Object.keys(body<{ paths: Record<string, unknown> }>(await get(plain, '/openapi.json')).paths)).not.toContain('/v1/admin/checkpoint');
    // A coded failure is a 503 saying what failed.
    const failing = await server({ handle: handleOf(closed.engine, { checkpoint: async () => { throw new ExecutionError('PW_STATE_STORE', 'disk full'); } }) });
    expect(expectError(await failing.inject({ method: 'POST', url: '/v1/admin/checkpoint' }), 503, 'PW_SERVE_UNAVAILABLE')).toMatch(/PW_STATE_STORE: disk full/);
  });
});

describe('/metrics of a group', () => {
  it('reports the members\' group figures, and no group series without a group', async () => {
    const f = fixture();
    const counters = { members: 2, rebalances: 3, fenced: 1, skippedFlushes: 4, foreignFlushes: 0 };
    const grouped = await get(await server({ handle: handleOf(f.engine, { group: () => counters }) }), '/metrics');
    expect(promValue(grouped.body, 'pitwall_group_members')).toBe(2);
    expect(promValue(grouped.body, 'pitwall_group_rebalances_total')).toBe(3);
    expect(promValue(grouped.body, 'pitwall_state_fenced_total')).toBe(1);
    expect(promValue(grouped.body, 'pitwall_partials_resent_skipped_total')).toBe(4);
    expect(promValue(grouped.body, 'pitwall_partials_foreign_store_total')).toBe(0);
    const single = await get(await server({ handle: handleOf(f.engine) }), '/metrics');
    expect(single.body).not.toContain('pitwall_group_members');
  });
});

describe('errors', () => {
  it('unknown metric: 404 listing the metrics, on every metric route', async () => {
    const app = await server();
    for (const url of ['/v1/metrics/nope/rows', '/v1/metrics/nope/latest', '/v1/metrics/nope/stream', '/v1/stream?metrics=order_funnel_1m,nope']) {
      const msg = expectError(await get(app, url), 404, 'PW_SERVE_UNKNOWN_METRIC');
      expect(msg).toMatch(/^unknown metric 'nope'; metrics: /);
      for (const p of plans) expect(msg).toContain(p.name);
    }
  });

  it('bad parameters: 400 saying what is allowed', async () => {
    const app = await server();
    const unknown = expectError(await get(app, '/v1/metrics/restaurant_orders_5m/rows?restaurant=r1'), 400, 'PW_SERVE_BAD_PARAM');
    expect(unknown).toBe("unknown parameter 'restaurant'; use from, to, limit, cursor or a column of restaurant_orders_5m: window_start, window_end, restaurant_id, orders, revenue, p95_prep");
    for (const limit of ['0', '1001', 'abc', '1.5', '-3', '']) {
      expect(expectError(await get(app, `/v1/metrics/restaurant_orders_5m/rows?limit=${limit}`), 400, 'PW_SERVE_BAD_PARAM')).toBe(`limit=${limit} must be an integer from 1 to 1000`);
    }
    for (const cursor of ['abc', '-1', '2.5']) {
      expect(expectError(await get(app, `/v1/metrics/restaurant_orders_5m/rows?cursor=${cursor}`), 400, 'PW_SERVE_BAD_PARAM')).toMatch(/is not a cursor from a previous page/);
    }
    for (const [param, value] of [['from', 'yesterday'], ['to', '2024-13-45T00:00:00Z'], ['from', '1e3']]) {
      const msg = expectError(await get(app, `/v1/metrics/restaurant_orders_5m/rows?${param}=${value}`), 400, 'PW_SERVE_BAD_PARAM');
      expect(msg).toBe(`${param}=${value} is not a timestamp; use ISO-8601 (2024-03-15T19:30:00Z) or epoch milliseconds`);
    }
    // A malformed Last-Event-ID is not refused (EventSource would retry it forever): test/serve/sse.test.ts.
  });

  it('unknown route: 404 JSON pointing at the OpenAPI document', async () => {
    const app = await server();
    const msg = expectError(await get(app, '/v2/things?x=1'), 404, 'PW_SERVE_NOT_FOUND');
    expect(msg).toBe('no route GET /v2/things; see /openapi.json');
    // A path that exists with another method: 405 with Allow (../shared/cases/openapi-spec-vs-server).
    const wrong = await app.inject({ method: 'DELETE', url: '/v1/metrics' });
    expect(expectError(wrong, 405, 'PW_SERVE_METHOD_NOT_ALLOWED')).toBe('DELETE is not allowed on /v1/metrics; use GET');
    expect(wrong.headers.allow).toBe('GET, HEAD');
    expect((await app.inject({ method: 'TRACE', url: '/healthz' })).statusCode).toBe(405);
  });

  it('an internal failure is a 500 without its message or stack', async () => {
    const app = await server({ handle: handleOf(closed.engine, { checkpoint: async () => { throw new Error('secret detail at /srv/x.ts:12'); } }) });
    const r = await app.inject({ method: 'POST', url: '/v1/admin/checkpoint' });
    expect(expectError(r, 500, 'PW_INTERNAL')).toBe('internal error (logged on the server)');
    expect(r.body).not.toContain('secret');
  });

  it('a malformed request body is a 400, not a 500', async () => {
    const app = await server({ handle: handleOf(closed.engine, { checkpoint: async () => undefined }) });
    const r = await app.inject({ method: 'POST', url: '/v1/admin/checkpoint', headers: { 'content-type': 'application/json' }, payload: '{nope' });
    expectError(r, 400, 'PW_SERVE_BAD_PARAM');
  });
});

describe('tokens', () => {
  const tokens = [{ token: 'r', scope: 'read' as const }, { token: 'a', scope: 'admin' as const }];
  let app: FastifyInstance;
  let checkpoints = 0;
  beforeAll(async () => {
    app = await server({ tokens, handle: handleOf(closed.engine, { checkpoint: async () => { checkpoints++; }, lastCheckpointAt: () => Date.now() }) });
  });
  const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });

  it('guards /v1 and /metrics: 401 without or with an unknown token, 200 with a read token', async () => {
    for (const url of ['/v1/metrics', '/v1/metrics/restaurant_orders_5m/rows', '/v1/metrics/restaurant_orders_5m/latest', '/v1/metrics/restaurant_orders_5m/stream', '/v1/stream', '/metrics']) {
      expect(expectError(await get(app, url), 401, 'PW_SERVE_UNAUTHORIZED'), url).toMatch(/bearer token is required/);
      expect(expectError(await get(app, url, bearer('x')), 401, 'PW_SERVE_UNAUTHORIZED')).toBe('unknown token');
      expectError(await get(app, url, { authorization: 'Basic cjpy' }), 401, 'PW_SERVE_UNAUTHORIZED');
    }
    for (const url of ['/v1/metrics', '/v1/metrics/restaurant_orders_5m/rows?restaurant_id=r1', '/v1/metrics/restaurant_orders_5m/latest', '/metrics']) {
      expect((await get(app, url, bearer('r'))).statusCode, url).toBe(200);
      expect((await get(app, url, bearer('a'))).statusCode, url).toBe(200); // admin implies read
    }
  });

  it('accepts ?access_token= (for EventSource), not as a column filter', async () => {
    const r = await get(app, '/v1/metrics/restaurant_orders_5m/rows?access_token=r&restaurant_id=r1');
    expect(r.statusCode).toBe(200);
    expect(body<RowsBody>(r).total).toBe(2);
    expect((await get(app, '/metrics?access_token=r')).statusCode).toBe(200);
    expectError(await get(app, '/v1/metrics?access_token=x'), 401, 'PW_SERVE_UNAUTHORIZED');
  });

  it('admin routes need the admin scope: 403 with a read token, 200 with an admin token', async () => {
    expectError(await app.inject({ method: 'POST', url: '/v1/admin/checkpoint' }), 401, 'PW_SERVE_UNAUTHORIZED');
    expect(expectError(await app.inject({ method: 'POST', url: '/v1/admin/checkpoint', headers: bearer('r') }), 403, 'PW_SERVE_FORBIDDEN')).toMatch(/admin scope/);
    expect(checkpoints).toBe(0);
    const ok = await app.inject({ method: 'POST', url: '/v1/admin/checkpoint', headers: bearer('a') });
    expect(ok.statusCode).toBe(200);
    expect(checkpoints).toBe(1);
  });

  it('leaves /healthz, /readyz, /openapi.json and the page open', async () => {
    for (const url of ['/healthz', '/readyz', '/openapi.json', '/']) expect((await get(app, url)).statusCode, url).toBe(200);
  });

  it('with no tokens configured, access is open', async () => {
    const open = await server({ handle: handleOf(closed.engine, { checkpoint: async () => undefined }) });
    expect((await get(open, '/v1/metrics')).statusCode).toBe(200);
    expect((await get(open, '/metrics')).statusCode).toBe(200);
    expect((await get(open, '/v1/metrics', bearer('whatever'))).statusCode).toBe(200);
    expect((await open.inject({ method: 'POST', url: '/v1/admin/checkpoint' })).statusCode).toBe(200);
  });
});

describe('rate limit', () => {
  it('answers 429 PW_SERVE_RATE_LIMITED past the per-minute budget; health stays open', async () => {
    const app = await server({ rateLimitPerMinute: 5 });
    for (let i = 0; i < 5; i++) expect((await get(app, i % 2 ? '/v1/metrics' : '/v1/metrics/restaurant_orders_5m/latest')).statusCode).toBe(200);
    const r = await get(app, '/v1/metrics');
    expect(expectError(r, 429, 'PW_SERVE_RATE_LIMITED')).toMatch(/too many requests/);
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(app, '/healthz')).statusCode).toBe(200);
    expect((await get(app, '/readyz')).statusCode).toBe(200);
    // Another client address has its own budget.
    expect((await app.inject({ method: 'GET', url: '/v1/metrics', remoteAddress: '10.0.0.9' })).statusCode).toBe(200);
  });

  it('keys a configured token separately, but unknown tokens share their address budget', async () => {
    const app = await server({ rateLimitPerMinute: 5, tokens: [{ token: 'r', scope: 'read' }] });
    // Guessing tokens does not buy a fresh budget per guess.
    for (let i = 0; i < 5; i++) expectError(await get(app, '/v1/metrics', { authorization: `Bearer guess${i}` }), 401, 'PW_SERVE_UNAUTHORIZED');
    expectError(await get(app, '/v1/metrics', { authorization: 'Bearer guess5' }), 429, 'PW_SERVE_RATE_LIMITED');
    expectError(await get(app, '/v1/metrics?access_token=guess6'), 429, 'PW_SERVE_RATE_LIMITED');
    // The real token has its own budget.
    for (let i = 0; i < 5; i++) expect((await get(app, '/v1/metrics', { authorization: 'Bearer r' })).statusCode).toBe(200);
    expectError(await get(app, '/v1/metrics', { authorization: 'Bearer r' }), 429, 'PW_SERVE_RATE_LIMITED');
  });
});
