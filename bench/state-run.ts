/**
 * (h5) `pitwall run`'s Kafka runner over a backlog with 1,000,000 distinct keys in one 1-hour
 * window, checkpointing every 1 s vs checkpoints off (an interval longer than the run), side
 * by side on the same topic: events/s, the longest time without progress, and the longest
 * event-loop stall (what /healthz and the API would wait), sampled every 5 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaRunner } from '../src/hot/kafka-runner.js';
import { fillBenchTopic } from './bench-topic.js';
import { BENCH_STREAM, fmt, gc, type Figure } from './common.js';
import { parseCatalogFile, type Catalog, type StreamDef } from '../src/catalog/index.js';
import type { CatalogError } from '../src/errors.js';
import { buildPlan } from '../src/plan/index.js';
import { parseQuery } from '../src/sql/index.js';

const METRIC = `CREATE VIEW per_key_1h AS
SELECT window_start, data.restaurantId AS k, COUNT(*) AS n, SUM(data.orderTotal) AS s
FROM TUMBLE(orders, eventTime, INTERVAL '1 hour') GROUP BY window_start, data.restaurantId;`;

interface RunFigures { secs: number; stallMs: number; noProgressMs: number; checkpoints: number; maxCaptureMs: number; bytes: number }

async function run(brokers: string, topic: string, n: number, intervalMs: number): Promise<RunFigures> {
  const errors: CatalogError[] = [];
  const stream = parseCatalogFile('bench.yaml', BENCH_STREAM.replace('TOPIC', topic).replace('DELAY', '5s'), errors) as StreamDef;
  if (errors.length) throw errors[0];
  const catalog: Catalog = { dir: 'bench', streams: new Map([[stream.name, stream]]) };
  const plan = buildPlan(parseQuery('bench.sql', METRIC), catalog);
  const stateDir = mkdtempSync(join(tmpdir(), 'pw-bench-h5-'));
  const runner = new KafkaRunner(catalog, [plan], {
    brokers: [brokers], groupId: `pw-h5-${Date.now()}`, stateDir, resultsTopic: `bench-h5-results-${Date.now()}`,
    checkpointIntervalMs: intervalMs, fromBeginning: true, maxGroups: 1_100_000,
  });
  let maxCaptureMs = 0;
  let bytes = 0;
  runner.onCheckpoint = (_ms, f) => { maxCaptureMs = Math.max(maxCaptureMs, f.captureMs); bytes += f.commit.bytes; };
  await runner.start();
  const events = (): number => runner.engine.stats().streams.orders?.events ?? 0;
  let first = 0;
  let last = performance.now();
  let lastCount = 0;
  let lastProgress = 0;
  let stallMs = 0;
  let noProgressMs = 0;
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 600_000;
    const timer = setInterval(() => {
      const now = performance.now();
      const count = events();
      if (count > 0 && first === 0) { first = now; lastProgress = now; }
      if (first > 0) stallMs = Math.max(stallMs, now - last);
      if (count !== lastCount) { if (first > 0) noProgressMs = Math.max(noProgressMs, now - lastProgress); lastProgress = now; lastCount = count; }
      last = now;
      if (count >= n) { done = now; clearInterval(timer); resolve(); }
      if (Date.now() > deadline) { clearInterval(timer); reject(new Error('bench h5 timed out')); }
    }, 5);
  });
  const checkpoints = runner.checkpoints;
  await runner.stop();
  rmSync(stateDir, { recursive: true, force: true });
  return { secs: (done - first) / 1000, stallMs, noProgressMs, checkpoints, maxCaptureMs, bytes };
}

export async function stateRunFigures(brokers: string, n = Number(process.env.PITWALL_BENCH_BACKLOG_EVENTS ?? 1_000_000)): Promise<Figure[]> {
  const topic = `bench-h5-${Date.now()}`;
  await fillBenchTopic(brokers, topic, n, n, 10_000); // every event its own key: n open groups in one hour (1 ms apart)
  // Side by side, alternating: checkpoints off (interval longer than the run), then every 1 s.
  const off: RunFigures[] = [];
  const on: RunFigures[] = [];
  for (let round = 0; round < 2; round++) {
    gc();
    off.push(await run(brokers, topic, n, 3_600_000));
    gc();
    on.push(await run(brokers, topic, n, 1000));
  }
  const bestOff = off.reduce((a, b) => (a.secs <= b.secs ? a : b));
  const bestOn = on.reduce((a, b) => (a.secs <= b.secs ? a : b));
  const worstStall = Math.max(...on.map((r) => r.stallMs));
  const worstGap = Math.max(...on.map((r) => r.noProgressMs));
  const ratio = bestOff.secs / bestOn.secs;
  const rate = (r: RunFigures): string => `${Math.round(n / r.secs).toLocaleString('en-US')} events/s`;
  const cmd = 'npm run bench -- h5';
  return [{
    id: 'h5', what: `\`pitwall run\` (Kafka runner) over a ${n.toLocaleString('en-US')}-event backlog with ${n.toLocaleString('en-US')} distinct keys in one 1-hour window, checkpoints every 1 s vs off (\`${cmd}\`)`,
    value: `${rate(bestOn)} (${bestOn.checkpoints} checkpoints, ${fmt(bestOn.bytes / 2 ** 20)} MiB written, longest capture ${fmt(bestOn.maxCaptureMs)} ms) vs ${rate(bestOff)}; with checkpoints: longest event-loop stall ${fmt(worstStall)} ms, longest time without progress ${fmt(worstGap)} ms (off: ${fmt(Math.max(...off.map((r) => r.stallMs)))} ms, ${fmt(Math.max(...off.map((r) => r.noProgressMs)))} ms)`,
    ratio: ratio.toFixed(2), target: '≥ 0.9 of checkpoints off; stall ≤ 50 ms', met: ratio >= 0.9 && worstStall <= 50,
  }];
}
