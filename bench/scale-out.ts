/**
 * (i) Scale-out on a 6-partition backlog of the bench orders (1-minute TUMBLE count/sum/avg
 * per restaurant, 10,000 restaurants), every run in a fresh group and state directory, its
 * steady-state rate read from the offsets the state store holds (250 ms checkpoints):
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

/**
 * Steady-state throughput (events/s): the offsets the state store holds, summed over the
 * partitions, sampled every 50 ms; the rate between the samples where they first pass 20% and
 * 80% of `n`. Joining the group, the first rebalances and the tail are left out.
 */
async function steadyRate(stateDir: string, n: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let from: [number, number] | undefined;
  for (;;) {
    if (Date.now() > deadline) throw new Error('bench i: the run did not finish in time');
    const cp = await lastCheckpoint(stateDir).catch(() => undefined);
    const total = (cp?.offsets.orders ?? []).reduce((sum, [, o]) => sum + o, 0);
    const now = performance.now();
    if (!from && total >= 0.2 * n) from = [now, total];
    if (from && total >= 0.8 * n) return ((total - from[1]) / (now - from[0])) * 1000;
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

async function pool(brokers: string, dir: string, workers: number, n: number): Promise<number> {
  const { catalog, plan } = benchCatalog('unused');
  const stateDir = join(dir, `state-pool-${workers}-${Date.now()}`);
  const group = `bench-scale-${workers}-${Date.now()}`;
  const p = new MemberPool(catalog, [plan], {
    workers, catalog: join(dir, 'catalog'), queries: join(dir, 'queries'), brokers: [brokers], groupId: group, stateDir,
    resultsTopic: `${group}-results`, checkpointIntervalMs: 250, fromBeginning: true, maxGroups: 1_000_000, maxDedupIds: 2_000_000, partialsPrefix: group,
  });
  await p.start();
  try {
    return await steadyRate(stateDir, n, 600_000);
  } finally {
    await p.stop();
  }
}

async function processes(brokers: string, dir: string, count: number, n: number): Promise<number> {
  const stateDir = join(dir, `state-procs-${count}-${Date.now()}`);
  const group = `bench-procs-${count}-${Date.now()}`;
  const procs = Array.from({ length: count }, () => execa('node', ['bin/pitwall.js', 'run', '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'),
    '--brokers', brokers, '--state-dir', stateDir, '--group', group, '--results-topic', `${group}-results`, '--checkpoint-interval', '250ms',
    '--from-beginning', '--port', '0', '--workers', '1'], { reject: false, stdio: 'ignore', forceKillAfterDelay: 30_000 }));
  try {
    return await steadyRate(stateDir, n, 600_000);
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs);
  }
}

export async function scaleOutFigures(brokers: string, n = 1_200_000): Promise<Figure[]> {
  const kafka = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING });
  const topic = `bench-scale-${Date.now()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  await admin.disconnect();
  await fillBenchTopic(brokers, topic, n);
  const dir = project(topic);
  // Side by side, alternating, the better of two of each (the machine is shared).
  const bareRate = n / Math.min(await bare(kafka, topic, n), await bare(kafka, topic, n));
  const one: number[] = [];
  const two: number[] = [];
  for (let round = 0; round < 2; round++) {
    one.push(await pool(brokers, dir, 1, n));
    two.push(await pool(brokers, dir, 2, n));
  }
  const proc1: number[] = [];
  const proc2: number[] = [];
  for (let round = 0; round < 2; round++) {
    proc1.push(await processes(brokers, dir, 1, n));
    proc2.push(await processes(brokers, dir, 2, n));
  }
  const rate = (r: number): string => `${Math.round(r).toLocaleString('en-US')} events/s`;
  const [r1, r2, p1, p2] = [Math.max(...one), Math.max(...two), Math.max(...proc1), Math.max(...proc2)];
  const cmd = 'PITWALL_BENCH_BROKERS=host:port npm run bench -- i';
  const how = `${PARTITIONS} partitions, ${n.toLocaleString('en-US')} events, steady state between 20% and 80% of the backlog`;
  return [{
    id: 'i1', what: `Kafka end to end, one member thread (${how}; decode + validate + dedup + partials + merge + results + checkpoints every 250 ms) vs bare kafkajs eachBatch doing nothing (\`${cmd}\`)`,
    value: `${rate(r1)} vs ${rate(bareRate)}`, ratio: (r1 / bareRate).toFixed(2), target: '≥ 0.8 of the bare consumer', met: r1 / bareRate >= 0.8,
  }, {
    id: 'i2', what: `Two member threads vs one, one process (${how})`,
    value: `${rate(r2)} vs ${rate(r1)}`, ratio: (r2 / r1).toFixed(2), target: '≥ 1.6× on 2 cores', met: r2 / r1 >= 1.6,
  }, {
    id: 'i3', what: `Two \`pitwall run --workers 1\` processes in one group (shared state directory) vs one process (${how})`,
    value: `${rate(p2)} vs ${rate(p1)}`, ratio: (p2 / p1).toFixed(2), target: 'report', met: undefined,
  }];
}
