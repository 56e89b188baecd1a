/**
 * One fault-injection run: a scenario's events produced to a real broker at a multiple of its
 * normal rate while `pitwall run` (a child process, with archive and checkpoints) is SIGKILLed
 * and restarted, the broker is stopped and started, and the consumer is stalled; with a burst of
 * malformed payloads, redelivered duplicates and a 2-minute out-of-order burst. Afterwards the
 * hot results (results topic) must reconcile with a DuckDB recomputation over the archive with
 * zero unexplained differences, every valid event must be archived once, and every malformed
 * payload must be in the DLQ.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { execa, type ResultPromise } from 'execa';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { loadCatalog } from '../src/catalog/index.js';
import { recompute } from '../src/cold/recompute.js';
import { partialsTopic } from '../src/hot/member-runner.js';
import { loadQueries } from '../src/plan/index.js';
import { reconcile } from '../src/reconcile/reconcile.js';
import { lateLane } from '../src/reconcile/self-reconcile.js';
import { readDlq } from '../src/sources/dlq-tools.js';
import { generate, SCENARIO_STREAM, type GeneratedRecord, type Scenario } from '../src/sources/generator.js';
import type { ResultRow } from '../src/util/result-row.js';
import { lastCheckpoint } from '../src/state/state-store.js';

export interface FaultRunOptions {
  readonly brokers: string;
  readonly scenario: Scenario;
  readonly multiple: number;
  /** Events per second at 1x. */
  readonly baseRate: number;
  readonly events: number;
  /** Stop and start the broker once (only for the broker scripts/kafka.sh started). */
  readonly brokerRestart: boolean;
  /** The engine's `--state-sync` (default shared). */
  readonly stateSync?: 'shared' | 'changelog';
  readonly log?: (msg: string) => void;
}

export interface FaultRunResult {
  readonly scenario: string;
  readonly multiple: number;
  readonly faults: string;
  readonly events: number;
  readonly lost: number;
  readonly unexplained: number;
  readonly dlqMissing: number;
  readonly archiveDuplicates: number;
  readonly p99LatencyMs: number | undefined;
  readonly peakRssMb: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => resolve(typeof a === 'object' && a ? a.port : 0)); }); });
}

function peakRss(pid: number | undefined): number {
  if (!pid) return 0;
  try { return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024; } catch { return 0; }
}

/** p99 from a Prometheus histogram's cumulative buckets. */
function p99(text: string, name: string): number | undefined {
  const buckets = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`, 'gm'))].map((m) => [m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])] as const);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (!total) return undefined;
  return buckets.find(([, c]) => c >= 0.99 * total)?.[0];
}

export async function faultRun(o: FaultRunOptions): Promise<FaultRunResult> {
  const log = o.log ?? (() => undefined);
  const stream = SCENARIO_STREAM[o.scenario];
  const dir = mkdtempSync(join(tmpdir(), `pw-chaos-${o.scenario}-`));
  const topic = `chaos-${o.scenario}-${o.multiple}x-${Date.now().toString(36)}`;
  mkdirSync(join(dir, 'catalog'));
  mkdirSync(join(dir, 'queries'));
  const catalogFile = readdirSync('catalog').find((f) => readFileSync(join('catalog', f), 'utf8').includes(`name: ${stream}\n`)) as string;
  writeFileSync(join(dir, 'catalog', catalogFile), readFileSync(join('catalog', catalogFile), 'utf8').replace(/^topic: .*$/m, `topic: ${topic}`).replace(/^idle_timeout: .*$/m, 'idle_timeout: 10m'));
  for (const f of readdirSync('queries')) {
    const sql = readFileSync(join('queries', f), 'utf8');
    if (sql.includes(`(${stream},`)) writeFileSync(join(dir, 'queries', f), sql);
  }
  const catalog = loadCatalog(join(dir, 'catalog'));
  const plans = loadQueries(join(dir, 'queries'), catalog);
  const rate = o.baseRate * o.multiple;

  // Three phases: normal with 10% redelivered duplicates; a burst with 5% malformed payloads and
  // 2 minutes of out-of-order arrival; normal again.
  const third = Math.floor(o.events / 3);
  const start = Date.UTC(2024, 2, 15, 19, 0, 0);
  const phase = (n: number, seed: number, startMs: number, extra: object): GeneratedRecord[] => generate(o.scenario, n, { seed, startMs, ratePerSec: rate, duplicateRate: 0.1, jitterMs: 1500, lateRate: 0.01, lateByMs: 30_000, ...extra });
  const a = phase(third, 1, start, {});
  const lastA = Math.max(...a.filter((g) => Number.isFinite(g.eventTimeMs)).map((g) => g.eventTimeMs));
  const b = phase(third, 2, lastA + 1000, { malformedRate: 0.05, jitterMs: 120_000 });
  const lastB = Math.max(...b.filter((g) => Number.isFinite(g.eventTimeMs)).map((g) => g.eventTimeMs));
  const c = phase(o.events - 2 * third, 3, lastB + 1000, {});
  const all = [...a, ...b, ...c];
  const lastTime = Math.max(...all.filter((g) => Number.isFinite(g.eventTimeMs)).map((g) => g.eventTimeMs));
  const validIds = new Set(all.filter((g) => g.kind !== 'malformed').map((g) => (JSON.parse(g.value) as { eventId: string }).eventId));
  const malformed = all.filter((g) => g.kind === 'malformed').length;

  const kafka = new Kafka({ clientId: 'chaos', brokers: [o.brokers], logLevel: logLevel.NOTHING, retry: { retries: 30 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();

  const port = await freePort();
  const resultsTopic = `${topic}.results`;
  const args = ['bin/pitwall.js', 'run', '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--brokers', o.brokers,
    '--state-dir', join(dir, 'state'), '--group', `${topic}-g`, '--results-topic', resultsTopic, '--checkpoint-interval', '1s',
    '--from-beginning', '--archive', join(dir, 'archive'), '--pii-key', 'chaos', '--port', String(port), '--state-sync', o.stateSync ?? 'shared'];
  let peak = 0;
  const engineLog = join(dir, 'engine.log');
  const start_ = (): ResultPromise => execa('node', args, { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: { file: engineLog, append: true } });
  let proc = start_();
  let exits = 0;
  // Acts as the supervisor a deployment has: an engine that exits by itself is started again.
  const killedOnPurpose = new Set<ResultPromise>();
  const watch = (p: ResultPromise): void => {
    void p.then(() => {
      if (p !== proc || killedOnPurpose.has(p)) return;
      exits++;
      log(`engine exited by itself; restarting it. Its last lines:\n${readFileSync(engineLog, 'utf8').trim().split('\n').slice(-4).join('\n')}`);
      proc = start_();
      watch(proc);
    });
  };
  const killAndRestart = async (): Promise<void> => {
    const killed = proc;
    killedOnPurpose.add(killed);
    killed.kill('SIGKILL');
    await killed;
    proc = start_();
    watch(proc);
  };
  watch(proc);
  const sampler = setInterval(() => { peak = Math.max(peak, peakRss(proc.pid)); }, 250);
  const faults: string[] = [];
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1, retry: { retries: 30 } });
  await producer.connect();
  const chunk = Math.max(50, Math.round(rate / 10));
  let at = 0;
  const checkpointed = async (): Promise<boolean> => (await lastCheckpoint(join(dir, 'state'))) !== undefined;
  for (let i = 0; i < all.length; i += chunk) {
    const t0 = Date.now();
    await producer.send({ topic, acks: -1, messages: all.slice(i, i + chunk).map((g) => ({ key: g.key, value: g.value })) });
    const progress = (i + chunk) / all.length;
    if (at === 0 && progress >= 0.25 && await checkpointed()) { peak = Math.max(peak, peakRss(proc.pid)); await killAndRestart(); faults.push('kill'); at = 1; log('SIGKILL engine'); }
    if (at === 1 && progress >= 0.4) {
      if (o.brokerRestart) { execFileSync('bash', ['scripts/kafka.sh', 'down'], { stdio: 'ignore' }); await sleep(3000); execFileSync('bash', ['scripts/kafka.sh', 'up'], { stdio: 'ignore' }); faults.push('broker'); log('broker down/up'); }
      at = 2;
    }
    if (at === 2 && progress >= 0.55 && proc.pid && proc.exitCode === null) {
      const pid = proc.pid;
      try { process.kill(pid, 'SIGSTOP'); await sleep(5000); process.kill(pid, 'SIGCONT'); faults.push('stall'); log('stalled consumer 5s'); } catch { log('engine gone before the stall'); }
      at = 3;
    }
    if (at === 3 && progress >= 0.7) { peak = Math.max(peak, peakRss(proc.pid)); await killAndRestart(); faults.push('kill'); at = 4; log('SIGKILL engine'); }
    const wait = (chunk / rate) * 1000 - (Date.now() - t0);
    if (wait > 0) await sleep(wait);
  }
  // One event per partition a day later closes every window of the run.
  await producer.send({ topic, acks: -1, messages: [0, 1, 2].map((p) => ({ partition: p, value: JSON.stringify({ eventId: `sentinel-${p}`, eventType: 'sentinel', eventTime: new Date(lastTime + 86_400_000).toISOString(), data: { matchId: 's', roomId: 's', attendeeId: 's' } }) })) });
  await producer.disconnect();

  // Wait until the engine's checkpoint covers every offset of the topic.
  const admin2 = kafka.admin();
  await admin2.connect();
  const ends = new Map((await admin2.fetchTopicOffsets(topic)).map((x) => [x.partition, Number(x.high)]));
  await admin2.disconnect();
  const covered = async (): Promise<boolean> => {
    try {
      const offs = new Map((await lastCheckpoint(join(dir, 'state')))?.offsets[stream] ?? []);
      return [...ends].every(([p, end]) => (offs.get(p) ?? 0) >= end);
    } catch { return false; }
  };
  const deadline = Date.now() + 180_000;
  while (!(await covered()) && Date.now() < deadline) await sleep(500);
  // In a group (the default), final rows come from phase two, which merges the partials the
  // checkpoints publish: wait until the merge consumers have committed past every partials
  // message published by then (two checkpoint intervals after the input was covered, so the
  // flush carrying the sentinels' marks is among them).
  await sleep(2000);
  const group = `${topic}-g`;
  const admin4 = kafka.admin();
  await admin4.connect();
  try {
    const partials = plans.map((p) => partialsTopic(group, p.name));
    const highs = new Map<string, number>();
    for (const t of partials) for (const x of await admin4.fetchTopicOffsets(t).catch(() => [])) highs.set(`${t}/${x.partition}`, Number(x.high));
    const merged = async (): Promise<boolean> => {
      const committed = await admin4.fetchOffsets({ groupId: `${group}.merge`, topics: partials }).catch(() => []);
      const at = new Map<string, number>(committed.flatMap((t) => t.partitions.map((x): [string, number] => [`${t.topic}/${x.partition}`, Number(x.offset)])));
      return [...highs].every(([k, high]) => high === 0 || (at.get(k) ?? -1) >= high);
    };
    while (!(await merged()) && Date.now() < deadline) await sleep(500);
  } finally {
    await admin4.disconnect();
  }
  let metricsText = '';
  try { metricsText = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(); } catch { /* engine unreachable: reported as no latency */ }
  peak = Math.max(peak, peakRss(proc.pid));
  killedOnPurpose.add(proc);
  proc.kill('SIGTERM');
  await proc;
  clearInterval(sampler);
  if (exits) faults.push(`${exits} self-exit`);

  // Hot rows: the results topic's latest final rows, windows of the run only.
  const latest = new Map<string, { metric: string; final: boolean; row: ResultRow } | null>();
  const consumer = kafka.consumer({ groupId: `${topic}-reader` });
  await consumer.connect();
  await consumer.subscribe({ topic: resultsTopic, fromBeginning: true });
  const admin3 = kafka.admin();
  await admin3.connect();
  const resultEnds = (await admin3.fetchTopicOffsets(resultsTopic)).reduce((n, x) => n + Number(x.high), 0);
  await admin3.disconnect();
  let seen = 0;
  await consumer.run({ eachMessage: async ({ message }) => { seen++; latest.set(message.key?.toString() ?? '', message.value ? JSON.parse(message.value.toString()) as { metric: string; final: boolean; row: ResultRow } : null); } });
  const readDeadline = Date.now() + 60_000;
  while (seen < resultEnds && Date.now() < readDeadline) await sleep(200);
  await consumer.disconnect();
  const inRun = (r: ResultRow): boolean => Date.parse(String(r.window_start)) <= lastTime;
  const hotDir = join(dir, 'hot');
  mkdirSync(hotDir);
  for (const p of plans) {
    const rows = [...latest.values()].filter((v): v is { metric: string; final: boolean; row: ResultRow } => !!v && v.metric === p.name && v.final && inRun(v.row)).map((v) => v.row);
    writeFileSync(join(hotDir, `${p.name}.ndjson`), rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
  }
  const lateRows = await lateLane(join(dir, 'archive'), [stream]);
  writeFileSync(join(hotDir, '_late.ndjson'), lateRows.map((r) => JSON.stringify(r)).join('\n'));
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  const archived = await conn.runAndReadAll(`SELECT count(*) AS n, count(DISTINCT _pw_event_id) AS ids FROM read_parquet('${join(dir, 'archive', stream, '**', '*.parquet')}', hive_partitioning = true) WHERE _pw_event_id NOT LIKE 'sentinel-%'`);
  const [n, ids] = (archived.getRows()[0] ?? [0, 0]).map(Number) as [number, number];
  conn.closeSync();
  const archivedIds = ids;

  // Cold: the archive recomputed, windows of the run only, then reconciled.
  const coldAll = join(dir, 'cold-all');
  await recompute(catalog, plans, { archive: join(dir, 'archive') }, coldAll);
  const coldDir = join(dir, 'cold');
  mkdirSync(coldDir);
  for (const p of plans) {
    const rows = readFileSync(join(coldAll, `${p.name}.ndjson`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ResultRow).filter(inRun);
    writeFileSync(join(coldDir, `${p.name}.ndjson`), rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
  }
  writeFileSync(join(coldDir, '_summary.json'), readFileSync(join(coldAll, '_summary.json')));
  const rec = reconcile(plans, hotDir, coldDir, 'chaos');
  if (rec.unexplained > 0) log(`unexplained: ${JSON.stringify(rec.differences.filter((d) => d.class !== 'late').slice(0, 3))}`);
  const dlq = await readDlq(kafka, catalog.streams.get(stream) as NonNullable<ReturnType<typeof catalog.streams.get>>);
  const dlqDistinct = new Set(dlq.map((m) => m.source)).size;
  const p99s = p99(metricsText, 'pitwall_event_to_result_seconds');
  spawnSync('true');
  return {
    scenario: o.scenario, multiple: o.multiple, faults: faults.join('+'), events: all.length, lost: validIds.size - archivedIds,
    unexplained: rec.unexplained, dlqMissing: malformed - dlqDistinct, archiveDuplicates: n - ids,
    p99LatencyMs: p99s === undefined ? undefined : p99s * 1000, peakRssMb: Math.round(peak),
  };
}
