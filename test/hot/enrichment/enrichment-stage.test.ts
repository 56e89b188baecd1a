/**
 * The enrichment stage against a local service (127.0.0.1): arrival order kept while other keys'
 * calls proceed, a bounded window with backpressure, the cache, the breaker's open → half-open →
 * closed cycle with fallbacks counted, and a service that never answers not stalling the stream.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../../../src/catalog/index.js';
import { buildEnrichments, type Enrichments } from '../../../src/hot/enrichment/build-stages.js';
import type { RawRecord } from '../../../src/hot/stream-runtime.js';
import { enrichmentCatalog, lookupPlan, scan } from './fixture.js';
import { LookupServer } from './lookup-server.js';

const server = new LookupServer();
const dirs: string[] = [];
beforeAll(async () => { await server.start(); });
afterAll(async () => { await server.stop(); for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function setup(lookup: Record<string, string> = {}): { catalog: Catalog; enrich: Enrichments } {
  const { dir, catalog } = enrichmentCatalog(server.port, lookup);
  dirs.push(dir);
  return { catalog, enrich: buildEnrichments([lookupPlan(catalog)]) };
}

function reset(): void {
  server.mode = 'ok';
  server.delayMs = 0;
  server.slowKeys.clear();
  server.requests.length = 0;
  server.answered.length = 0;
}

const answerOf = (r: RawRecord): unknown => r.enriched?.room_info?.answer;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('enrichment stage', () => {
  it('keeps arrival order while other keys are looked up concurrently; one call per key at a time', async () => {
    reset();
    const { enrich } = setup({ timeout: '5s' });
    const stage = enrich.stages.get('scans');
    if (!stage) throw new Error('no stage');
    server.slowKeys.set('slow', 150);
    const records = [scan(0, 'slow'), scan(1, 'a'), scan(2, 'b'), scan(3, 'slow'), scan(4, 'a'), scan(5, null), scan(6, 'none1')];
    for (const r of records) await stage.admit(r);
    await stage.drain();
    const out = stage.take();
    enrich.close();
    expect(out.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // 'a' and 'b' were answered while 'slow' was still being called; 'slow' and 'a' were each called once.
    expect(server.answered.indexOf('a')).toBeLessThan(server.answered.indexOf('slow'));
    expect(server.answered.indexOf('b')).toBeLessThan(server.answered.indexOf('slow'));
    expect([...server.requests].sort()).toEqual(['a', 'b', 'none1', 'slow']);
    expect(answerOf(out[0] as RawRecord)).toEqual({ kind: 'row', row: { roomId: 'slow', name: 'Hall slow', capacity: 40 } });
    expect(answerOf(out[5] as RawRecord)).toEqual({ kind: 'row', row: null }); // NULL key: nothing asked
    expect(out[5]?.enriched?.room_info?.key).toBeNull();
    expect(answerOf(out[6] as RawRecord)).toEqual({ kind: 'row', row: null }); // 404: no row, not a fallback
    expect(enrich.clients.get('room_info')?.stats.fallbacks).toEqual({ breaker_open: 0, timeout: 0, http_status: 0, network: 0, bad_response: 0 });
  });

  it('holds at most max_in_flight events and makes admit wait (backpressure), dropping none', async () => {
    reset();
    const { enrich } = setup({ max_in_flight: '3', concurrency: '8', timeout: '5s' });
    const stage = enrich.stages.get('scans');
    if (!stage) throw new Error('no stage');
    server.delayMs = 40;
    let admitted = 0;
    const feeding = (async () => { for (let i = 0; i < 12; i++) { await stage.admit(scan(i, `k${i}`)); admitted++; } })();
    await sleep(20);
    expect(admitted).toBe(3); // the 4th waits for room
    expect(stage.waiting).toBe(3);
    await feeding;
    await stage.drain();
    const out = stage.take();
    enrich.close();
    expect(out.map((r) => r.offset)).toEqual([...Array(12).keys()]);
    expect(stage.peakWaiting).toBe(3);
    // The source was held back: at least the three waves of 40 ms calls behind the first.
    expect(stage.fullMs).toBeGreaterThanOrEqual(3 * 40 * 0.8);
    expect(enrich.figures().room_info?.windowFullSeconds).toBeCloseTo(stage.fullMs / 1000, 6);
  });

  it('holds at most max_in_flight_bytes payload characters, letting one event in whatever its size', async () => {
    reset();
    const { enrich } = setup({ max_in_flight_bytes: '1024', timeout: '5s' });
    const stage = enrich.stages.get('scans');
    if (!stage) throw new Error('no stage');
    server.delayMs = 30;
    const big = (i: number): RawRecord => ({ partition: 0, offset: i, value: JSON.stringify({ eventId: `e${i}`, eventTime: '2026-01-01T09:00:00Z', data: { roomId: `k${i}` }, pad: 'x'.repeat(400) }) });
    let admitted = 0;
    const feeding = (async () => { for (let i = 0; i < 6; i++) { await stage.admit(big(i)); admitted++; } })();
    await sleep(15);
    expect(admitted).toBe(2); // two of ~470 characters fit in 1,024; the third waits
    await feeding;
    await stage.drain();
    expect(stage.take().map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(stage.peakWaiting).toBe(2);
    const huge: RawRecord = { ...big(6), value: big(6).value.replace('"pad":"', `"pad":"${'y'.repeat(2000)}`) };
    await stage.admit(huge); // larger than the bound alone: admitted when the window is empty
    await stage.drain();
    expect(stage.take()).toHaveLength(1);
    enrich.close();
  });

  it('answers repeated keys from the cache; garbage answers fall back as bad_response', async () => {
    reset();
    const { enrich } = setup({ timeout: '5s' });
    const stage = enrich.stages.get('scans');
    if (!stage) throw new Error('no stage');
    for (let i = 0; i < 6; i++) await stage.admit(scan(i, i % 2 ? 'x' : 'y'));
    await stage.drain();
    stage.take();
    for (let i = 6; i < 10; i++) await stage.admit(scan(i, i % 2 ? 'x' : 'y'));
    await stage.drain();
    const cached = stage.take();
    const stats = enrich.clients.get('room_info')?.stats;
    expect(server.requests).toEqual(['y', 'x']);
    expect(stats?.cacheHits).toBeGreaterThanOrEqual(4);
    expect(answerOf(cached[0] as RawRecord)).toEqual({ kind: 'row', row: { roomId: 'y', name: 'Hall y', capacity: 10 } });
    server.mode = 'garbage';
    await stage.admit(scan(10, 'z'));
    await stage.drain();
    const [bad] = stage.take();
    enrich.close();
    expect(answerOf(bad as RawRecord)).toMatchObject({ kind: 'fallback', reason: 'bad_response' });
    expect(stats?.fallbacks.bad_response).toBe(1);
  });

  it('opens the breaker on failures (fallbacks counted, no more calls), half-opens and closes when the service recovers', async () => {
    reset();
    const { enrich } = setup({ breaker: '{ error_threshold: 50, volume_threshold: 4, reset_timeout: 300ms }', cache: '{ size: 0 }' });
    const stage = enrich.stages.get('scans');
    const client = enrich.clients.get('room_info');
    if (!stage || !client) throw new Error('no stage');
    server.mode = 'fail';
    let i = 0;
    for (; i < 12; i++) { await stage.admit(scan(i, `f${i}`)); await stage.drain(); }
    expect(client.stats.state).toBe('open');
    expect(client.stats.opened).toBe(1);
    expect(client.stats.fallbacks.http_status).toBe(4);
    expect(client.stats.fallbacks.breaker_open).toBe(8);
    expect(server.requests.length).toBe(4); // open: no calls
    // Open: answered at once, without a promise (no opossum error built per event).
    expect(client.ask('another')).toMatchObject({ kind: 'fallback', reason: 'breaker_open' });
    const failed = stage.take();
    expect(failed.every((r) => (answerOf(r) as { kind: string }).kind === 'fallback')).toBe(true);
    server.mode = 'ok';
    await sleep(350);
    expect(client.stats.state).toBe('half_open');
    await stage.admit(scan(i++, 'back'));
    await stage.drain();
    expect(client.stats.state).toBe('closed');
    expect(client.stats.halfOpened).toBe(1);
    expect(client.stats.closed).toBe(1);
    expect(answerOf(stage.take()[0] as RawRecord)).toMatchObject({ kind: 'row', row: { roomId: 'back' } });
    enrich.close();
  });

  it('a service that never answers does not stall the stream: calls time out, the breaker opens, every event passes', async () => {
    reset();
    const { enrich } = setup({ timeout: '100ms', breaker: '{ volume_threshold: 4, reset_timeout: 60s }' });
    const stage = enrich.stages.get('scans');
    const client = enrich.clients.get('room_info');
    if (!stage || !client) throw new Error('no stage');
    server.mode = 'hang';
    const started = Date.now();
    let passed = 0;
    for (let i = 0; i < 2000; i++) { await stage.admit(scan(i, `h${i}`)); passed += stage.take().length; }
    await stage.drain();
    passed += stage.take().length;
    const elapsedMs = Date.now() - started;
    enrich.close();
    expect(passed).toBe(2000);
    expect(client.stats.state).toBe('open');
    expect(client.stats.fallbacks.timeout).toBeGreaterThanOrEqual(4);
    expect(client.stats.fallbacks.timeout + client.stats.fallbacks.breaker_open).toBe(2000);
    // The 4 concurrent calls time out once (100 ms); afterwards the open breaker answers at once.
    expect(elapsedMs).toBeLessThan(2000);
  });
});
