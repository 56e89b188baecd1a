/**
 * (c4) pitwall vs Kafka Streams (the seed design's own engine) on the same topic and metric: a
 * 5-minute tumbling COUNT/SUM(orderTotal) per restaurant, exactly-once on both sides, results to
 * a results topic. The Kafka Streams side is the Java app in bench/kafka-streams/ (kafka-streams
 * 3.9, processing.guarantee=exactly_once_v2, commit.interval.ms=5000, one stream thread, RocksDB
 * window store with its changelog), run as a child JVM in two settings: its default emit (record
 * cache, updates flushed on commit) and EmitStrategy.onWindowClose() (pitwall's emit semantics);
 * the ratio is against the faster of the two. The pitwall side is KafkaRunner in-process with
 * checkpointIntervalMs 5000. Both count from the first input record to the N-th processed (JVM
 * and runner start-up excluded). Side by side, alternating, the better of 2 runs each. The jar is
 * built with Maven when missing or older than its sources; without java (or without mvn and no
 * jar) the figure is skipped loudly.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { KafkaRunner } from '../src/hot/kafka-runner.js';
import { buildPlan } from '../src/plan/index.js';
import { parseQuery } from '../src/sql/index.js';
import { fillBenchTopic } from './bench-topic.js';
import { benchCatalog, gc, type Figure } from './common.js';

const COMMAND = '`npm run bench -- c4`';
const PROJECT = 'bench/kafka-streams';
const POM = join(PROJECT, 'pom.xml');
const SOURCE = join(PROJECT, 'src/main/java/pitwall/bench/KStreamsBench.java');
const JAR = join(PROJECT, 'target/kstreams-bench.jar');
const TIMEOUT_MS = 600_000;

/** The same metric as the Kafka Streams topology: 5-minute tumbling count/sum per restaurant. */
export const C4_METRIC = `CREATE VIEW bench_5m AS
SELECT window_start, window_end, data.restaurantId AS k, COUNT(*) AS n, SUM(data.orderTotal) AS s
FROM TUMBLE(orders, eventTime, INTERVAL '5 minutes')
GROUP BY window_start, window_end, data.restaurantId;`;

/** One side's run: wall seconds from first record to the N-th, and CPU seconds over the same span. */
interface Run { readonly secs: number; readonly cpuSecs: number | undefined }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const mtime = (p: string): number => (existsSync(p) ? statSync(p).mtimeMs : 0);
const rate = (n: number, secs: number): string => Math.round(n / secs).toLocaleString('en-US');

/** Builds the jar if missing or stale; returns why not when it cannot. */
function ensureJar(): string | undefined {
  if (!has('java')) return 'java not found on PATH';
  const jar = mtime(JAR);
  if (jar > 0 && jar >= mtime(POM) && jar >= mtime(SOURCE)) return undefined;
  if (!has('mvn')) return jar > 0 ? undefined : 'mvn not found on PATH (needed to build bench/kafka-streams)';
  process.stderr.write(`bench c4: building ${JAR} (mvn package)\n`);
  const r = spawnSync('mvn', ['-q', '-f', POM, 'package', '-DskipTests'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0 || !existsSync(JAR)) return `mvn package failed (exit ${r.status ?? r.signal})`;
  return undefined;
}

function javaVersion(): string {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return /version "([^"]+)"/.exec(r.stderr ?? '')?.[1] ?? 'unknown';
}

async function kafkaStreams(brokers: string, topic: string, n: number, emit: 'update' | 'close'): Promise<Run> {
  const stamp = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'pw-bench-kstreams-'));
  try {
    const r = await execa('java', [
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-jar', JAR,
      brokers, topic, `bench-kstreams-results-${stamp}`, String(n), `bench-kstreams-${stamp}`, stateDir, '1', emit,
    ], { reject: false, stdin: 'ignore', timeout: TIMEOUT_MS });
    const m = /KSTREAMS n=(\d+) ms=(\d+) cpuMs=(-?\d+)/.exec(r.stdout);
    if (r.exitCode !== 0 || !m) {
      throw new Error(`bench c4: Kafka Streams run failed (exit ${r.exitCode ?? r.signal}):\n${r.stdout}\n${r.stderr.split('\n').slice(-30).join('\n')}`);
    }
    const cpuMs = Number(m[3]);
    return { secs: Number(m[2]) / 1000, cpuSecs: cpuMs >= 0 ? cpuMs / 1000 : undefined };
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('bench c4: pitwall timed out');
    await sleep(2);
  }
  return performance.now();
}

const cpuSecs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function pitwall(brokers: string, topic: string, n: number): Promise<Run> {
  const { catalog } = benchCatalog(topic);
  const plan = buildPlan(parseQuery('c4.sql', C4_METRIC), catalog);
  const stateDir = mkdtempSync(join(tmpdir(), 'pw-bench-state-'));
  const runner = new KafkaRunner(catalog, [plan], {
    brokers: [brokers], groupId: `pw-c4-${Date.now()}`, stateDir,
    resultsTopic: `bench-results-${Date.now()}`, checkpointIntervalMs: 5000, fromBeginning: true,
  });
  try {
    await runner.start();
    const events = (): number => runner.engine.stats().streams.orders?.events ?? 0;
    const first = await waitUntil(() => events() > 0, 120_000);
    const cpu0 = cpuSecs();
    const end = await waitUntil(() => events() >= n, TIMEOUT_MS);
    const cpu1 = cpuSecs();
    return { secs: (end - first) / 1000, cpuSecs: cpu1 - cpu0 };
  } finally {
    await runner.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

export async function kafkaStreamsFigures(brokers: string): Promise<Figure[]> {
  const why = ensureJar();
  if (why) {
    process.stderr.write(`!!! bench c4 (pitwall vs Kafka Streams) skipped: ${why}\n`);
    return [];
  }
  const n = Number(process.env.PITWALL_BENCH_KSTREAMS_EVENTS ?? 300_000);
  const topic = `bench-c4-orders-${Date.now()}`;
  await fillBenchTopic(brokers, topic, n);

  // Kafka Streams twice: its default emit (record cache, updates flushed on commit; its fastest
  // setting here) and EmitStrategy.onWindowClose() (pitwall's semantics: one final row per
  // window and key, but no record cache in 3.9, so every update reaches RocksDB and the changelog).
  const ksUpdate: Run[] = [];
  const ksClose: Run[] = [];
  const pw: Run[] = [];
  for (let round = 0; round < 2; round++) {
    ksUpdate.push(await kafkaStreams(brokers, topic, n, 'update'));
    ksClose.push(await kafkaStreams(brokers, topic, n, 'close'));
    gc();
    pw.push(await pitwall(brokers, topic, n));
    gc();
  }
  const fmtRun = (r: Run): string => `${rate(n, r.secs)}/s (${r.secs.toFixed(2)} s${r.cpuSecs === undefined ? '' : `, CPU ${r.cpuSecs.toFixed(2)} s`})`;
  process.stderr.write(`bench c4: Kafka Streams (default emit) ${ksUpdate.map(fmtRun).join(', ')}; Kafka Streams (on window close) ${ksClose.map(fmtRun).join(', ')}; pitwall ${pw.map(fmtRun).join(', ')}\n`);
  const best = (runs: Run[]): Run => runs.reduce((a, b) => (b.secs < a.secs ? b : a));
  const ku = best(ksUpdate);
  const kc = best(ksClose);
  const p = best(pw);
  const k = ku.secs <= kc.secs ? ku : kc;
  const kName = k === ku ? 'default emit' : 'on-window-close emit';
  const ratio = k.secs / p.secs;
  const cpuPer = (r: Run): string => (r.cpuSecs === undefined ? '?' : `${(r.cpuSecs * 1e5 / n).toFixed(2)} s`);
  return [{
    id: 'c4',
    what: `pitwall vs Kafka Streams 3.9 (JVM ${javaVersion()}, 1 stream thread) on the same 3-partition topic, ${n.toLocaleString('en-US')} events: 5-minute TUMBLE COUNT/SUM per restaurant, exactly-once on both (Kafka Streams exactly_once_v2 with commit.interval.ms 5000, RocksDB window store + changelog; pitwall checkpoint every 5 s, which also validates and dedups by eventId), first record to the N-th, best of 2 alternating. Compared with Kafka Streams' faster setting (${kName}); Kafka Streams default emit ${rate(n, ku.secs)}/s, on-window-close emit (pitwall's semantics) ${rate(n, kc.secs)}/s. CPU per 100k events: pitwall ${cpuPer(p)}, Kafka Streams ${cpuPer(ku)} / ${cpuPer(kc)}. ${COMMAND}`,
    value: `pitwall ${rate(n, p.secs)} events/s vs Kafka Streams ${rate(n, k.secs)} events/s`,
    ratio: ratio.toFixed(2), target: '> 1 (faster than Kafka Streams)', met: ratio > 1,
  }];
}
