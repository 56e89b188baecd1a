/**
 * (f) Serving under load: the embedded demo (generators → engine → archive + serving store) with
 * its hot path saturated, first without readers, then with autocannon's 200 connections on
 * loopback reading /rows?limit=100 and /latest of every metric. Figures: request p99, requests/s,
 * and the hot path's events/s with readers over without.
 *
 * The demo's generators are wall-clock paced and step event time by at least 1 ms, so each
 * scenario tops out near 1,000 events/s whatever its rate: alone they keep the engine ~15% busy.
 * To make the engine the limit, a feeder on the same thread adds food-delivery events (event
 * time = now, partition 1 of `orders`) as fast as the engine takes them, in batches of
 * FEED_BATCH, yielding to the event loop between batches as a Kafka consumer does.
 *
 * The load goes to the demo's own server, in its serving thread (serve/serve-thread.ts), with
 * the rate limit lifted (1,200 requests per minute per client would turn nearly every request
 * into a 429).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type autocannon from 'autocannon';
import { execa } from 'execa';
import { loadCatalog } from '../src/catalog/index.js';
import { EmbeddedDemo } from '../src/demo/embedded-demo.js';
import { loadQueries } from '../src/plan/index.js';
import { payload, prng } from '../src/sources/generator.js';
import { fmt, gc, type Figure } from './common.js';

const FEED_BATCH = 250;
const CONNECTIONS = 200;
const SECONDS = 10;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `n` connections that ask for the live stream and never read a byte of it. */
async function neverReading(base: string, n: number): Promise<net.Socket[]> {
  const { hostname, port } = new URL(base);
  const out: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const sock = net.connect(Number(port), hostname);
    sock.on('error', () => undefined);
    sock.write('GET /v1/stream HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n');
    sock.pause();
    out.push(sock);
  }
  await sleep(500);
  return out;
}

export async function serveLoad(): Promise<Figure[]> {
  const catalog = loadCatalog('catalog');
  const plans = loadQueries('queries', catalog);
  const outDir = mkdtempSync(join(tmpdir(), 'pw-bench-serve-'));
  // The demo as `pitwall demo` runs it: its API in the serving thread, off the engine's thread.
  const demo = new EmbeddedDemo({ catalog, plans, outDir, port: 0, host: '127.0.0.1', rate: 20_000, piiKey: 'bench', definitions: { catalog: 'catalog', queries: 'queries' }, rateLimitPerMinute: 1e9 });
  await demo.start();
  const base = demo.url.replace(/\/$/, '');

  // The feeder: the engine's backlog never empties.
  let feeding = true;
  const r = prng(11);
  let n = 0;
  const feeder = (async () => {
    while (feeding) {
      const now = Date.now();
      const records = [];
      for (let i = 0; i < FEED_BATCH; i++, n++) records.push({ partition: 1, offset: n, value: JSON.stringify(payload('food-delivery', r, n, now, 20).body) });
      demo.engine.process('orders', records, now);
      await yieldToLoop();
    }
  })();
  const events = (): number => Object.values(demo.engine.stats().streams).reduce((s, x) => s + x.events, 0);
  // Events processed over a wall-clock interval, from samples taken every 50 ms.
  const samples: [number, number][] = [];
  const sampler = setInterval(() => samples.push([Date.now(), events()]), 50);
  const rateBetween = (from: number, to: number): number => {
    const inside = samples.filter(([t]) => t >= from && t <= to);
    const [t0, e0] = inside[0] ?? [0, 0];
    const [t1, e1] = inside.at(-1) ?? [1, 0];
    return (e1 - e0) / ((t1 - t0) / 1000);
  };

  try {
    await sleep(3000); // warm-up: JIT, first windows, first archive segments
    gc();
    const quietFrom = Date.now();
    await sleep(SECONDS * 1000);
    const alone = rateBetween(quietFrom, Date.now());
    const requests = plans.flatMap((p) => [
      { method: 'GET' as const, path: `/v1/metrics/${p.name}/rows?limit=100` },
      { method: 'GET' as const, path: `/v1/metrics/${p.name}/latest` },
    ]);
    // In its own process at nice 19: the load generator stands in for clients on other machines
    // (on 2 cores, a load generator at normal priority takes a third of the CPU from the engine).
    const child = await execa('nice', ['-n', '19', process.execPath, 'bench/autocannon-child.mjs', JSON.stringify({ url: base, connections: CONNECTIONS, duration: SECONDS, requests })], { reject: true, stdin: 'ignore' });
    const res = JSON.parse(child.stdout) as autocannon.Result;
    const loaded = rateBetween(new Date(res.start).getTime(), new Date(res.finish).getTime());
    // (f5) 300 SSE clients that never read (one address: the per-address cap admits 100).
    await sleep(2000);
    const stuck = await neverReading(base, 300);
    const stuckFrom = Date.now();
    await sleep(SECONDS * 1000);
    const withStuck = rateBetween(stuckFrom, Date.now());
    for (const sock of stuck) sock.destroy();
    const ok = res.non2xx === 0 && res.errors === 0 && res.timeouts === 0;
    const what = `serving under load: ${CONNECTIONS} connections on loopback for ${SECONDS} s, GET /rows?limit=100 and /latest of all ${plans.length} metrics, from the demo's serving thread while its hot path is saturated on the main thread (demo generators at rate 20,000 + a feeder in batches of ${FEED_BATCH})`;
    const errs = ok ? 'no errors' : `${res.non2xx} non-2xx, ${res.errors} errors, ${res.timeouts} timeouts`;
    return [
      { id: 'f1', what: `${what}: request latency`, value: `${fmt(res.latency.p99)} ms p99 (p50 ${fmt(res.latency.p50)} ms, max ${fmt(res.latency.max)} ms; ${errs})`, target: '(figure)', met: undefined },
      { id: 'f2', what: `${what}: throughput`, value: `${fmt(res.requests.average)} requests/s (${fmt(res.throughput.average / 2 ** 20)} MiB/s)`, target: '(figure)', met: undefined },
      {
        id: 'f3', what: 'hot-path events/s (every stream: decode, validate, dedup, every metric, archive, serving store) with those 200 readers vs without readers, engine saturated as in f1',
        value: `${fmt(loaded)} events/s vs ${fmt(alone)} events/s`, ratio: (loaded / alone).toFixed(2), target: '≥ 0.9', met: loaded / alone >= 0.9,
      },
      {
        id: 'f5', what: `hot-path events/s with 300 SSE clients on /v1/stream that never read (one address: 100 admitted, the rest refused with 503) vs without readers, engine saturated as in f1, ${SECONDS} s`,
        value: `${fmt(withStuck)} events/s vs ${fmt(alone)} events/s`, ratio: (withStuck / alone).toFixed(2), target: '(figure; the case measured 0.59 before)', met: undefined,
      },
    ];
  } finally {
    clearInterval(sampler);
    feeding = false;
    await feeder;
    await demo.stop();
    rmSync(outDir, { recursive: true, force: true });
  }
}
