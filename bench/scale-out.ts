/**
 * (i) Scale-out on a 6-partition backlog of the bench orders (1-minute TUMBLE count/sum/avg
 * per restaurant, 10,000 restaurants), every run in a fresh group and state directory, its
 * steady-state rate read from the offsets the state store holds (250 ms checkpoints):
 *
 * - i1: one member thread (`--workers 1`) vs a bare kafkajs eachBatch consumer doing nothing;
 * - i2: two member threads vs one, in one process (2 cores);
 * - i3: two `pitwall run --workers 1` processes sharing the group and state directory vs one.
 * - i4: the same with `--state-sync changelog` and a state directory per process (as on two
 *   machines: state moves through changelog topics, one Kafka transaction per task per
 *   checkpoint), read from the group's committed offsets; and one such process vs one shared.
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

/**
 * Steady-state throughput (events/s) from the offsets the group `group` committed on the broker
 * (changelog mode commits them in each task's transaction), sampled every 100 ms, as {@link steadyRate}.
 */
async function steadyGroupRate(kafka: Kafka, group: string, topic: string, n: number, timeoutMs: number): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    let from: [number, number] | undefined;
    for (;;) {
      if (Date.now() > deadline) throw new Error('bench i4: the run did not finish in time');
      const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] }).catch(() => []);
      const total = offsets.flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      const now = performance.now();
      if (!from && total >= 0.2 * n) from = [now, total];
      if (from && total >= 0.8 * n) return ((total - from[1]) / (now - from[0])) * 1000;
      await sleep(100);
    }
  } finally {
    await admin.disconnect();
  }
}

async function processes(brokers: string, dir: string, count: number, n: number, changelog?: { kafka: Kafka; topic: string }): Promise<number> {
  const stateDir = join(dir, `state-procs-${count}-${Date.now()}`);
  const group = `bench-procs-${count}-${Date.now()}`;
  const procs = Array.from({ length: count }, (_, i) => execa('node', ['bin/pitwall.js', 'run', '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'),
    '--brokers', brokers, '--state-dir', changelog ? `${stateDir}-${i}` : stateDir, '--group', group, '--results-topic', `${group}-results`, '--checkpoint-interval', '250ms',
    '--from-beginning', '--port', '0', '--workers', '1', ...(changelog ? ['--state-sync', 'changelog'] : [])], { reject: false, stdio: 'ignore', forceKillAfterDelay: 30_000 }));
  try {
    return changelog ? await steadyGroupRate(changelog.kafka, group, changelog.topic, n, 600_000) : await steadyRate(stateDir, n, 600_000);
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
  const cl1: number[] = [];
  const cl2: number[] = [];
  for (let round = 0; round < 2; round++) {
    cl1.push(await processes(brokers, dir, 1, n, { kafka, topic }));
    cl2.push(await processes(brokers, dir, 2, n, { kafka, topic }));
  }
  const rate = (r: number): string => `${Math.round(r).toLocaleString('en-US')} events/s`;
  const [r1, r2, p1, p2] = [Math.max(...one), Math.max(...two), Math.max(...proc1), Math.max(...proc2)];
  const [c1, c2] = [Math.max(...cl1), Math.max(...cl2)];
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
  }, {
    id: 'i4', what: `Two processes with \`--state-sync changelog\` and a state directory each (as on two machines) vs one such process (${how}; rates from the group's committed offsets)`,
    value: `${rate(c2)} vs ${rate(c1)}`, ratio: (c2 / c1).toFixed(2), target: 'report', met: undefined,
  }, {
    id: 'i4b', what: `One process with \`--state-sync changelog\` (a transaction per task per checkpoint) vs one with the shared store (${how})`,
    value: `${rate(c1)} vs ${rate(p1)}`, ratio: (c1 / p1).toFixed(2), target: 'report', met: undefined,
  }];
}
