/**
 * (i) Scale-out on a 6-partition backlog of the bench orders (1-minute TUMBLE count/sum/avg
 * per restaurant, 10,000 restaurants), every run in a fresh group and state directory, timed
 * from the first checkpointed offset to the checkpoint covering every partition's end (both
 * read from the state store, 250 ms checkpoints):
 *
 * - i1: one member thread (`--workers 1`) vs a bare kafkajs eachBatch consumer doing nothing;
 * - i2: two member threads vs one, in one process (2 cores);
 * - i3: two `pitwall run --workers 1` processes sharing the group and state directory vs one.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { Kafka, logLevel } from 'kafkajs';
import { MemberPool } from '../src/hot/member-pool.js';
import { lastCheckpoint } from '../src/state/state-store.js';
import { fillBenchTopic } from './bench-topic.js';
import { bare } from './kafka.js';
import { BENCH_METRIC, BENCH_STREAM, benchCatalog, type Figure } from './common.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const PARTITIONS = 6;

/** Seconds from the first checkpointed offset to the checkpoint covering `ends`, polling the store. */
async function timeToCover(stateDir: string, ends: ReadonlyMap<number, number>, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let first = 0;
  for (;;) {
    if (Date.now() > deadline) throw new Error('bench i: the run did not finish in time');
    const cp = await lastCheckpoint(stateDir).catch(() => undefined);
    const offs = new Map(cp?.offsets.orders ?? []);
    if (first === 0 && [...offs.values()].some((o) => o > 0)) first = performance.now();
    if (first > 0 && [...ends].every(([p, end]) => (offs.get(p) ?? 0) >= end)) return (performance.now() - first) / 1000;
    await sleep(50);
  }
}

function project(topic: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pw-bench-scale-'));
  mkdirSync(join(dir, 'catalog'));
  mkdirSync(join(dir, 'queries'));
  writeFileSync(join(dir, 'catalog', 'orders.yaml'), `${BENCH_STREAM.replace('TOPIC', topic).replace('DELAY', '5s')}partitions: ${PARTITIONS}\n`);
  writeFileSync(join(dir, 'queries', 'bench_1m.sql'), BENCH_METRIC);
  return dir;
}

async function pool(brokers: string, dir: string, workers: number, ends: ReadonlyMap<number, number>): Promise<number> {
  const { catalog, plan } = benchCatalog('unused');
  const stateDir = join(dir, `state-pool-${workers}-${Date.now()}`);
  const group = `bench-scale-${workers}-${Date.now()}`;
  const p = new MemberPool(catalog, [plan], {
    workers, catalog: join(dir, 'catalog'), queries: join(dir, 'queries'), brokers: [brokers], groupId: group, stateDir,
    resultsTopic: `${group}-results`, checkpointIntervalMs: 250, fromBeginning: true, maxGroups: 1_000_000, maxDedupIds: 2_000_000, partialsPrefix: group,
  });
  await p.start();
  try {
    return await timeToCover(stateDir, ends, 600_000);
  } finally {
    await p.stop();
  }
}

async function processes(brokers: string, dir: string, count: number, ends: ReadonlyMap<number, number>): Promise<number> {
  const stateDir = join(dir, `state-procs-${count}-${Date.now()}`);
  const group = `bench-procs-${count}-${Date.now()}`;
  const procs = Array.from({ length: count }, () => execa('node', ['bin/pitwall.js', 'run', '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'),
    '--brokers', brokers, '--state-dir', stateDir, '--group', group, '--results-topic', `${group}-results`, '--checkpoint-interval', '250ms',
    '--from-beginning', '--port', '0', '--workers', '1'], { reject: false, stdio: 'ignore', forceKillAfterDelay: 30_000 }));
  try {
    return await timeToCover(stateDir, ends, 600_000);
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs);
  }
}

export async function scaleOutFigures(brokers: string, n = 600_000): Promise<Figure[]> {
  const kafka = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING });
  const topic = `bench-scale-${Date.now()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  await fillBenchTopic(brokers, topic, n);
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  await admin.disconnect();
  const dir = project(topic);
  // Side by side, alternating, the better of two of each (the machine is shared).
  const bareSecs = Math.min(await bare(kafka, topic, n), await bare(kafka, topic, n));
  const one: number[] = [];
  const two: number[] = [];
  for (let round = 0; round < 2; round++) {
    one.push(await pool(brokers, dir, 1, ends));
    two.push(await pool(brokers, dir, 2, ends));
  }
  const proc1: number[] = [];
  const proc2: number[] = [];
  for (let round = 0; round < 2; round++) {
    proc1.push(await processes(brokers, dir, 1, ends));
    proc2.push(await processes(brokers, dir, 2, ends));
  }
  const rate = (s: number): string => `${Math.round(n / s).toLocaleString('en-US')} events/s`;
  const [s1, s2, p1, p2] = [Math.min(...one), Math.min(...two), Math.min(...proc1), Math.min(...proc2)];
  const cmd = `PITWALL_BENCH_BROKERS=${brokers.replace(/:\d+$/, ':<port>')} npm run bench -- i`;
  return [{
    id: 'i1', what: `Kafka end to end, one member thread (${PARTITIONS} partitions, ${n.toLocaleString('en-US')} events, decode + validate + dedup + partials + merge + results + checkpoints) vs bare kafkajs eachBatch doing nothing (\`${cmd}\`)`,
    value: `${rate(s1)} vs ${rate(bareSecs)}`, ratio: (bareSecs / s1).toFixed(2), target: '≥ 0.8 of the bare consumer', met: bareSecs / s1 >= 0.8,
  }, {
    id: 'i2', what: `Two member threads vs one, one process, same backlog (${s2.toFixed(2)} s vs ${s1.toFixed(2)} s)`,
    value: `${rate(s2)} vs ${rate(s1)}`, ratio: (s1 / s2).toFixed(2), target: '≥ 1.6× on 2 cores', met: s1 / s2 >= 1.6,
  }, {
    id: 'i3', what: `Two \`pitwall run --workers 1\` processes in one group vs one process, same backlog (${p2.toFixed(2)} s vs ${p1.toFixed(2)} s; includes the processes' start)`,
    value: `${rate(p2)} vs ${rate(p1)}`, ratio: (p1 / p2).toFixed(2), target: 'report', met: undefined,
  }];
}
