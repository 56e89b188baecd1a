/**
 * The shedding scenario: 10x the normal rate for a while, in bursts every 5 s, with a critical,
 * a standard and a batch metric, against `pitwall run --single --shed --backfill` with small
 * thresholds. The batch (and possibly standard) metric is shed while a burst is behind and
 * resumes after it; its windows are backfilled from the archive. Afterwards the final rows on the
 * results topic must equal an unshed run (`pitwall replay` of the same events) exactly, and the
 * report gives the shed and backfilled windows and the p99 event→result latency.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { Kafka, logLevel } from 'kafkajs';
import { generate } from '../src/sources/generator.js';
import type { ResultRow } from '../src/util/result-row.js';
import { BATCH_REVENUE_1M, CRITICAL_ORDERS_1M } from '../test/support/shedding-metrics.js';

export interface SheddingRunOptions {
  readonly brokers: string;
  /** Seconds of load. */
  readonly seconds: number;
  readonly multiple: number;
  /** Events per second at 1x. */
  readonly baseRate: number;
  readonly log?: (msg: string) => void;
}

export interface SheddingRunResult {
  readonly events: number;
  readonly rate: number;
  /** Per metric: tier, shed windows and backfilled windows at the end. */
  readonly metrics: Record<string, { tier: string; shedWindows: number; backfilledWindows: number; pendingIntervals: number }>;
  /** Level changes the engine logged. */
  readonly shedSteps: number;
  readonly p99LatencyMs: number | undefined;
  /** Per tier: p99 from a batch's first record reaching Kafka to the tier's first row it produced (ms; consumer lag included). */
  readonly p99AppendToResultMs: Record<string, number | undefined>;
  /** Rows compared per metric, and whether they all equal the unshed run. */
  readonly compared: Record<string, number>;
  readonly equal: boolean;
}

const METRICS: Record<string, string> = {
  orders_1m: CRITICAL_ORDERS_1M,
  restaurant_counts_1m: `-- tier: standard
CREATE VIEW restaurant_counts_1m AS SELECT window_start, data.restaurantId AS restaurant_id, COUNT(*) AS n
FROM TUMBLE(orders, eventTime, INTERVAL '1 minute') GROUP BY window_start, data.restaurantId;
`,
  revenue_1m: BATCH_REVENUE_1M,
};

/**
 * The critical tier's latency target under the 10x bursts: p99 from a batch's first record
 * reaching Kafka to the critical rows it produced (pitwall_append_to_result_seconds), in ms.
 */
export const CRITICAL_P99_TARGET_MS = 5_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => resolve(typeof a === 'object' && a ? a.port : 0)); }); });
}

/** p99 (the upper bound of its bucket) from a Prometheus histogram's cumulative buckets; `labels` is the text after `le` (`,tier="critical"`). */
function p99(text: string, name: string, labels = ''): number | undefined {
  const buckets = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"${labels}\\} (\\d+)`, 'gm'))].map((m) => [m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])] as const);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (!total) return undefined;
  return buckets.find(([, c]) => c >= 0.99 * total)?.[0];
}

const canon = (rows: readonly ResultRow[]): string[] => rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b))))).sort();

export async function sheddingRun(o: SheddingRunOptions): Promise<SheddingRunResult> {
  const log = o.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'pw-chaos-shedding-'));
  const topic = `chaos-shedding-${Date.now().toString(36)}`;
  mkdirSync(join(dir, 'catalog'));
  mkdirSync(join(dir, 'queries'));
  writeFileSync(join(dir, 'catalog', 'orders.yaml'), readFileSync('catalog/orders.yaml', 'utf8').replace(/^topic: .*$/m, `topic: ${topic}`).replace(/^idle_timeout: .*$/m, 'idle_timeout: 10m'));
  for (const [name, sql] of Object.entries(METRICS)) writeFileSync(join(dir, 'queries', `${name}.sql`), sql);
  const rate = o.baseRate * o.multiple;
  const clean = { duplicateRate: 0, lateRate: 0, malformedRate: 0, jitterMs: 1_000 };
  const startMs = Date.now();
  const load = generate('food-delivery', rate * o.seconds, { seed: 21, ratePerSec: rate, startMs, ...clean });
  const lastTime = load.reduce((m, g) => Math.max(m, g.eventTimeMs), Number.NEGATIVE_INFINITY);
  // One event two minutes after the load closes every window of the run.
  const sentinel = generate('food-delivery', 1, { seed: 22, ratePerSec: 1, startMs: lastTime + 120_000, ...clean });
  const all = [...load, ...sentinel];

  const kafka = new Kafka({ clientId: 'chaos-shedding', brokers: [o.brokers], logLevel: logLevel.NOTHING, retry: { retries: 30 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const port = await freePort();
  const resultsTopic = `${topic}.results`;
  const engineLog = join(dir, 'engine.log');
  const proc = execa('node', ['bin/pitwall.js', 'run', '--single', '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--brokers', o.brokers,
    '--state-dir', join(dir, 'state'), '--group', `${topic}-g`, '--results-topic', resultsTopic, '--checkpoint-interval', '1s', '--from-beginning',
    '--archive', join(dir, 'archive'), '--pii-key', 'chaos', '--port', String(port),
    '--shed', '--shed-records', String(Math.round(rate / 5)), '--resume-records', String(Math.round(rate / 50)), '--shed-lag', '1m', '--resume-lag', '20s', '--shed-dwell', '2s', '--backfill', '2s'],
  { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: { file: engineLog } });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 30 } });
  await producer.connect();
  await sleep(3_000);
  // A burst every 5 s: five seconds' worth of events at 10x, in sends the broker takes.
  for (let s = 0; s < o.seconds; s += 5) {
    const t0 = Date.now();
    const burst = load.slice(s * rate, (s + 5) * rate);
    for (let i = 0; i < burst.length; i += 2_000) await producer.send({ topic, acks: -1, messages: burst.slice(i, i + 2_000).map((g) => ({ value: g.value })) });
    const wait = 5_000 - (Date.now() - t0);
    if (wait > 0) await sleep(wait);
  }
  await producer.send({ topic, acks: -1, messages: sentinel.map((g) => ({ value: g.value })) });
  await producer.disconnect();
  log(`produced ${all.length} events at ${rate}/s`);

  type Shed = { tier: string; shedWindows: number; backfilledWindows: number; pendingIntervals: number; shed: boolean };
  const figures = async (): Promise<Record<string, Shed>> => {
    try {
      const ms = ((await (await fetch(`http://127.0.0.1:${port}/v1/metrics`)).json()) as { metrics: { name: string; tier: string; shed?: Shed }[] }).metrics;
      return Object.fromEntries(ms.map((m) => [m.name, { ...(m.shed as Shed), tier: m.tier }]));
    } catch { return {}; }
  };
  const deadline = Date.now() + 180_000;
  for (;;) {
    const f = await figures();
    const settled = Object.keys(f).length > 0 && Object.values(f).every((m) => !m.shed && m.pendingIntervals === 0);
    if ((settled && readFileSync(engineLog, 'utf8').includes('checkpoint')) || Date.now() > deadline) break;
    await sleep(1_000);
  }
  await sleep(3_000); // a checkpoint hands the last backfilled rows to the results topic
  const final = await figures();
  const metricsText = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text().catch(() => '');
  proc.kill('SIGTERM');
  await proc;
  const engineText = readFileSync(engineLog, 'utf8');
  const shedSteps = (engineText.match(/ (shedding|resuming): level/g) ?? []).length;
  log(`engine: ${shedSteps} shedding steps; ${engineText.split('\n').filter((l) => l.includes('backfill:')).length} backfills`);

  // The unshed reference: pitwall replay of the same events.
  const input = join(dir, 'orders.ndjson');
  writeFileSync(input, all.map((g) => g.value).join('\n') + '\n');
  await execa('node', ['bin/pitwall.js', 'replay', '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--input', `orders=${input}`, '--out', join(dir, 'ref')], { env: { PITWALL_PII_KEY: 'chaos' } });
  const latest = new Map<string, { metric: string; final: boolean; row: ResultRow } | null>();
  const consumer = kafka.consumer({ groupId: `${topic}-reader` });
  await consumer.connect();
  await consumer.subscribe({ topic: resultsTopic, fromBeginning: true });
  const admin2 = kafka.admin();
  await admin2.connect();
  const ends = (await admin2.fetchTopicOffsets(resultsTopic)).reduce((n, x) => n + Number(x.high), 0);
  await admin2.disconnect();
  let seen = 0;
  await consumer.run({ eachMessage: async ({ message }) => { seen++; latest.set(message.key?.toString() ?? '', message.value ? JSON.parse(message.value.toString()) as { metric: string; final: boolean; row: ResultRow } : null); } });
  const readDeadline = Date.now() + 60_000;
  while (seen < ends && Date.now() < readDeadline) await sleep(200);
  await consumer.disconnect();
  // The sentinel closed every window up to the last event's; its own window is left out.
  const inRun = (r: ResultRow): boolean => Date.parse(String(r.window_start)) <= lastTime;
  const compared: Record<string, number> = {};
  let equal = true;
  for (const m of Object.keys(METRICS)) {
    const hot = [...latest.values()].filter((v): v is { metric: string; final: boolean; row: ResultRow } => !!v && v.metric === m && v.final && inRun(v.row)).map((v) => v.row);
    const ref = readFileSync(join(dir, 'ref', `${m}.ndjson`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ResultRow).filter(inRun);
    const same = JSON.stringify(canon(hot)) === JSON.stringify(canon(ref));
    if (!same) { equal = false; log(`${m}: ${hot.length} rows on the results topic, ${ref.length} in the unshed run, not equal`); }
    compared[m] = ref.length;
  }
  const p = p99(metricsText, 'pitwall_event_to_result_seconds');
  return {
    events: all.length, rate, shedSteps, compared, equal,
    metrics: Object.fromEntries(Object.entries(final).map(([k, v]) => [k, { tier: v.tier, shedWindows: v.shedWindows, backfilledWindows: v.backfilledWindows, pendingIntervals: v.pendingIntervals }])),
    p99LatencyMs: p === undefined ? undefined : p * 1000,
    p99AppendToResultMs: Object.fromEntries(['critical', 'standard', 'batch'].map((tier) => {
      const q = p99(metricsText, 'pitwall_append_to_result_seconds', `,tier="${tier}"`);
      return [tier, q === undefined ? undefined : q * 1000];
    })),
  };
}
