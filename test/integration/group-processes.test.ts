/**
 * Several `pitwall run` processes sharing one group on the real broker: a 6-partition topic
 * keyed by restaurant, three processes (one member thread each) from the start, one SIGKILLed
 * mid-stream, one more added later, and one process with two member threads; metrics grouped
 * by the partition key (TUMBLE per restaurant, a HOP top-N) and by other keys (a per-customer
 * SESSION and a whole-window quantile, through the partials topics), with some events late by
 * an hour. Final rows equal one uninterrupted engine's over the same events: nothing lost,
 * nothing counted twice, and the late events are late. Each process writes its own archive;
 * read together as one archive group, they reconcile with the final rows: every difference is
 * a late pair, each late in its own partition.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { recompute } from '../../src/cold/recompute.js';
import { loadQueries } from '../../src/plan/index.js';
import { hashPii, reconcileMetric } from '../../src/reconcile/reconcile.js';
import { lateLane } from '../../src/reconcile/self-reconcile.js';
import { openStateEnv, readerOf } from '../../src/state/lmdb-env.js';
import type { ResultRow } from '../../src/util/result-row.js';
import { runHot } from '../support/parity.js';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/process-timeout.js';
import { brokers, createTopic, ordersProjectWith, readResults, sendToPartitions, testKafka, uniqueName, waitFor, withOffsets } from './support.js';
import { closingEvents, GROUP_METRICS, GROUP_PARTITIONS, GROUP_START_MS, groupDeliveries } from './group-scenario.js';

const ORDERS = 30_000;
const SPAN_MS = 30 * 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True once a member of process `pid` committed a checkpoint: its last flush's outbox record is in the store until its next one. */
async function checkpointedBy(stateDir: string, pid: number | undefined): Promise<boolean> {
  const path = join(stateDir, 'state.lmdb');
  if (pid === undefined || !existsSync(path)) return false;
  const env = openStateEnv(path);
  try {
    for (const { key } of readerOf(env).scan('meta', ['outbox'])) if (String(key[1]).includes(`-${pid}-`)) return true;
    return false;
  } finally {
    await env.root.close();
  }
}
const PII_KEY = 'group-processes-test-key';

describe.skipIf(!brokers)('several pitwall run processes in one group', () => {
  it('give one engine\'s final rows with a process SIGKILLed and one added', { timeout: Math.max(PROCESS_TEST_TIMEOUT_MS, 300_000) }, async () => {
    if (!brokers) return;
    const kafka = testKafka('group-processes');
    const topic = uniqueName('orders-procs');
    const resultsTopic = uniqueName('results-procs');
    const group = uniqueName('procs');
    const prefix = uniqueName('pwp');
    const dir = ordersProjectWith('pw-procs-', topic, GROUP_METRICS);
    const catalog = loadCatalog(join(dir, 'catalog'));
    const plans = loadQueries(join(dir, 'queries'), catalog);
    await createTopic(kafka, topic, GROUP_PARTITIONS);
    const events = groupDeliveries(90210, ORDERS, SPAN_MS, true);
    const expected = runHot(catalog, plans, 'orders', withOffsets(events));
    expect(expected.stats.streams.orders?.late).toBeGreaterThan(50);
    expect(expected.stats.streams.orders?.duplicates).toBeGreaterThan(0);
    const want = new Map(plans.map((p) => [p.name, expected.rows.get(p.name) ?? []]));
    const total = [...want.values()].reduce((n, rows) => n + rows.length, 0);

    const broker = brokers;
    const args = (name: string, workers: number): string[] => ['bin/pitwall.js', 'run', '--archive', join(dir, 'archive', name), '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--brokers', broker,
      '--state-dir', join(dir, 'state'), '--results-topic', resultsTopic, '--group', group, '--partials-prefix', prefix,
      '--checkpoint-interval', '500ms', '--from-beginning', '--port', '0', '--workers', String(workers)];
    const procs: { name: string; proc: ResultPromise }[] = [];
    const spawn = (name: string, workers = 1): ResultPromise => {
      const proc = execa('node', args(name, workers), { env: { PITWALL_PII_KEY: PII_KEY }, reject: false, stdio: ['ignore', 'ignore', 'pipe'], forceKillAfterDelay: 60_000 });
      procs.push({ name, proc });
      proc.stderr?.on('data', (d: Buffer) => { logs.set(name, (logs.get(name) ?? '') + d.toString()); });
      return proc;
    };
    const logs = new Map<string, string>();
    const stderr = (): string => procs.map(({ name }) => `--- ${name}\n${(logs.get(name) ?? '').split('\n').filter((l) => !l.includes('kafkajs')).slice(-25).join('\n')}`).join('\n');
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const send = (from: number, to: number, paceMs: number): Promise<void> => sendToPartitions(producer, topic, events, from, to, paceMs);
    let results: Awaited<ReturnType<typeof readResults>> | undefined;
    try {
      const a = spawn('a');
      const b = spawn('b');
      const c = spawn('c');
      const quarter = Math.floor(events.length / 4);
      await send(0, quarter, 0);
      // Running and consuming: B is killed mid-stream, while the second quarter arrives.
      const sending = send(quarter, 2 * quarter, 150);
      // B is killed once it has checkpointed: it leaves its last flush for another member to send.
      expect(await waitFor(() => checkpointedBy(join(dir, 'state'), b.pid), 90_000, 200), stderr()).toBe(true);
      await sleep(1000);
      b.kill('SIGKILL');
      const killed = await b;
      expect(killed.signal, `b ended by itself:\n${stderr()}`).toBe('SIGKILL');
      await sending;
      const d = spawn('d', 2);
      // D is a member (it took partitions over) before the rest arrives.
      expect(await waitFor(() => (logs.get('d') ?? '').includes('assigned input partitions'), 60_000, 200), stderr()).toBe(true);
      await send(2 * quarter, events.length, 50);
      await producer.send({ topic, acks: -1, messages: closingEvents(GROUP_START_MS + SPAN_MS) });
      results = await readResults(kafka, resultsTopic);
      const reader = results;
      const until = GROUP_START_MS + SPAN_MS + 3_600_000;
      const count = (): number => [...reader.finals(plans.map((p) => p.name), until).values()].reduce((n, rows) => n + rows.length, 0);
      const complete = await waitFor(() => count() >= total, 150_000, 1000);
      for (const p of [a, c, d]) p.kill('SIGTERM');
      const ends = await Promise.all([a, c, d]);
      const drained = await reader.drained(60_000);
      const summary = `complete ${complete}, drained ${drained}, ${count()} of ${total} final rows\n${stderr()}`;
      expect(ends.map((e) => e.exitCode ?? e.signal), summary).toEqual([0, 0, 0]);
      const got = reader.finals(plans.map((p) => p.name), until);
      const sort = (rows: readonly Record<string, unknown>[]): string[] => rows.map((r) => JSON.stringify(r)).sort();
      for (const p of plans) expect.soft(sort(got.get(p.name) ?? []), `${p.name}: ${summary}`).toEqual(sort(want.get(p.name) ?? []));
      expect(stderr()).toContain('flushes left by members that stopped');
      // The four archives (B's cut off by SIGKILL) as one archive group, against the final rows.
      const cold = join(dir, 'cold');
      await recompute(catalog, plans, { archive: join(dir, 'archive') }, cold);
      const late = await lateLane(join(dir, 'archive'), ['orders']);
      expect(late.length).toBeGreaterThan(0);
      for (const p of plans) {
        const coldRows = readFileSync(join(cold, `${p.name}.ndjson`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ResultRow);
        const r = reconcileMetric(p, hashPii(p, got.get(p.name) ?? [], PII_KEY), coldRows, late).summary;
        expect.soft(r, `${p.name} reconciled`).toMatchObject({ unexplained: 0, falseLatePairs: 0 });
        expect.soft(r.matches, p.name).toBeGreaterThan(0);
      }
    } finally {
      for (const { proc } of procs) proc.kill('SIGKILL');
      await Promise.allSettled(procs.map((p) => p.proc));
      await results?.stop();
      await producer.disconnect();
    }
  });
});
