/**
 * (f4) Event → SSE latency at 20,000 events/s: an engine on this thread takes food-delivery
 * orders in 10 ms batches of 200 (paced by the wall clock, event time = now), its result changes
 * go to a serving thread (serve/serve-thread.ts), and a client in another worker thread reads
 * /v1/stream (every metric, one connection). For each change the client receives, the latency is
 * its arrival time minus the time the batch that produced it reached the engine (matched by the
 * change's per-metric sequence, which the serving store assigns in the order the engine handed
 * the changes over). Figure: p99 over every change received in 10 s after 2 s of warm-up.
 */
import { Worker } from 'node:worker_threads';
import { loadCatalog } from '../src/catalog/index.js';
import { Engine } from '../src/hot/engine.js';
import { loadQueries } from '../src/plan/index.js';
import { ServeThread } from '../src/serve/serve-thread.js';
import { payload, prng } from '../src/sources/generator.js';
import { fmt, type Figure } from './common.js';

const RATE = 20_000;
const BATCH_MS = 10;
const SECONDS = 10;
const WARMUP_MS = 2000;

/** The SSE client: runs in a worker so the engine's thread does not read the socket. Posts [metric, seq, arrival ms] in batches. */
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
let buf = ''; let out = [];
http.get(workerData.url, { agent: false }, (res) => {
  res.setEncoding('utf8');
  res.on('data', (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\\n\\n')) >= 0) {
      const block = buf.slice(0, i); buf = buf.slice(i + 2);
      const data = block.split('\\n').find((l) => l.startsWith('data: '));
      if (!data || !/^event: (upsert|delete)$/m.test(block)) continue;
      const e = JSON.parse(data.slice(6));
      out.push([e.metric, e.seq, Date.now()]);
    }
  });
});
setInterval(() => { if (out.length) { parentPort.postMessage(out); out = []; } }, 100);
`;

export async function sseLatency(): Promise<Figure[]> {
  const catalog = loadCatalog('catalog');
  const plans = loadQueries('queries', catalog);
  /** Per metric: when the batch behind its k-th change (seq k + 1) reached the engine. */
  const handedAt = new Map<string, number[]>(plans.map((p) => [p.name, []]));
  let batchAt = 0;
  const serve = new ServeThread({ catalog: 'catalog', queries: 'queries', port: 0, host: '127.0.0.1', tokens: [], corsOrigins: [], rateLimitPerMinute: 1e9 });
  const engine = new Engine(catalog, plans, { result: (p, c) => { serve.apply(p, c); handedAt.get(p.name)?.push(batchAt); } }, { futureReference: 'processing-time' });
  const url = await serve.start({ plans, engine, lag: () => new Map(), lastCheckpointAt: () => undefined });
  const arrivals: [string, number, number][] = [];
  const client = new Worker(CLIENT, { eval: true, workerData: { url: `${url}/v1/stream` } });
  client.on('message', (batch: [string, number, number][]) => { for (const a of batch) arrivals.push(a); });
  await new Promise((r) => setTimeout(r, 500));
  const r = prng(5);
  let n = 0;
  const start = Date.now();
  const perBatch = (RATE * BATCH_MS) / 1000;
  try {
    for (let k = 0; Date.now() - start < WARMUP_MS + SECONDS * 1000; k++) {
      const due = start + k * BATCH_MS;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      const now = Date.now();
      const records = [];
      for (let i = 0; i < perBatch; i++, n++) records.push({ partition: i % 6, offset: n, value: JSON.stringify(payload('food-delivery', r, n, now, 20).body) });
      batchAt = now;
      engine.process('orders', records, now);
      if (k % 100 === 0) engine.tick(now);
    }
    await new Promise((res) => setTimeout(res, 1000)); // the last changes arrive
  } finally {
    await client.terminate();
    await serve.stop();
  }
  const elapsed = (Date.now() - start - 1000) / 1000;
  const latencies = arrivals.map(([m, seq, at]) => [at, at - (handedAt.get(m)?.[seq - 1] ?? at)] as const).filter(([at]) => at - start >= WARMUP_MS).map(([, l]) => l).sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
  const p99 = q(0.99);
  return [{
    id: 'f4', what: `event → SSE latency at ${fmt(RATE)} events/s: food-delivery orders in ${BATCH_MS} ms batches into an engine on the main thread, every metric's changes through the serving thread to one /v1/stream client in another thread; from a batch reaching the engine to each change it produced arriving at the client (${fmt(latencies.length)} changes over ${SECONDS} s after ${WARMUP_MS / 1000} s warm-up; ${fmt(n / elapsed)} events/s fed)`,
    value: `${fmt(p99)} ms p99 (p50 ${fmt(q(0.5))} ms, max ${fmt(latencies.at(-1) ?? Number.NaN)} ms)`, target: '≤ 250 ms p99', met: p99 <= 250,
  }];
}
