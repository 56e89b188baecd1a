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
import type { ResultPromise } from 'execa';
import { describe, expect, it } from 'vitest';
import { recompute } from '../../src/cold/recompute.js';
import { hashPii, reconcileMetric } from '../../src/reconcile/reconcile.js';
import { lateLane } from '../../src/reconcile/self-reconcile.js';
import { openStateEnv, readerOf } from '../../src/state/lmdb-env.js';
import type { ResultRow } from '../../src/util/result-row.js';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/process-timeout.js';
import { brokers, readResults, uniqueName, waitFor, type ResultsReader } from './support.js';
import { checkpointedIn, closingEvents, expectGroupFinals, GROUP_SPAN_MS, GROUP_START_MS, groupScenario, PitwallProcesses, scenarioSender } from './group-scenario.js';

const ORDERS = 30_000;

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
  it('give one engine\'s final rows with a process SIGKILLed and one added (one shared state directory)', { timeout: Math.max(PROCESS_TEST_TIMEOUT_MS, 300_000) }, async () => {
    await scenario('shared');
  });

  it('give one engine\'s final rows with a process SIGKILLed and one added (a state directory each, state moving through changelog topics)', { timeout: Math.max(PROCESS_TEST_TIMEOUT_MS, 300_000) }, async () => {
    await scenario('changelog');
  });
});

/**
 * `shared`: every process opens one state directory (one machine). `changelog`: each process
 * has its own, as on separate machines; partitions move with their state through changelog
 * topics and Kafka transactions.
 */
async function scenario(mode: 'shared' | 'changelog'): Promise<void> {
  if (!brokers) return;
  const s = await groupScenario('procs', 90210, ORDERS);
  const { kafka, topic, dir, catalog, plans, events, expected } = s;
  expect(expected.stats.streams.orders?.late).toBeGreaterThan(50);
  expect(expected.stats.streams.orders?.duplicates).toBeGreaterThan(0);
  const broker = brokers;
  const prefix = uniqueName('pwp');
  const stateOf = (name: string): string => (mode === 'shared' ? join(dir, 'state') : join(dir, `state-${name}`));
  const procs = new PitwallProcesses();
  const spawn = (name: string, workers = 1): ResultPromise => procs.spawn(name, ['--archive', join(dir, 'archive', name), '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--brokers', broker,
    '--state-dir', stateOf(name), '--state-sync', mode, '--results-topic', s.resultsTopic, '--group', s.group, '--partials-prefix', prefix,
    '--checkpoint-interval', '500ms', '--from-beginning', '--port', '0', '--workers', String(workers)], { PITWALL_PII_KEY: PII_KEY });
  const { producer, send } = await scenarioSender(s);
  let results: ResultsReader | undefined;
  try {
    const a = spawn('a');
    const b = spawn('b');
    const c = spawn('c');
    const quarter = Math.floor(events.length / 4);
    await send(0, quarter, 0);
    // Running and consuming: B is killed mid-stream, while the second quarter arrives.
    const sending = send(quarter, 2 * quarter, 150);
    // B is killed once it has checkpointed: it leaves its last flush for another member to send.
    expect(await waitFor(() => (mode === 'shared' ? checkpointedBy(join(dir, 'state'), b.pid) : checkpointedIn(stateOf('b'), b.pid)), 90_000, 200), procs.stderr()).toBe(true);
    await sleep(1000);
    b.kill('SIGKILL');
    const killed = await b;
    expect(killed.signal, `b ended by itself:\n${procs.stderr()}`).toBe('SIGKILL');
    await sending;
    const d = spawn('d', 2);
    // D is a member (it took partitions over) before the rest arrives.
    expect(await waitFor(() => procs.log('d').includes('assigned input partitions'), 60_000, 200), procs.stderr()).toBe(true);
    await send(2 * quarter, events.length, 50);
    await producer.send({ topic, acks: -1, messages: closingEvents(GROUP_START_MS + GROUP_SPAN_MS) });
    results = await readResults(kafka, s.resultsTopic);
    const got = await expectGroupFinals(s, results, [a, c, d], procs);
    if (mode === 'shared') expect(procs.stderr()).toContain('flushes left by members that stopped');
    // B's partitions went to members with other state directories: their state came from the changelogs.
    else expect(procs.stderr()).toMatch(/restored \d+ input tasks? from their changelogs \([1-9]\d* records/);
    // The four archives (B's cut off by SIGKILL) as one archive group, against the final rows.
    const cold = join(dir, 'cold');
    await recompute(catalog, plans, { archive: join(dir, 'archive') }, cold);
    const late = await lateLane(join(dir, 'archive'), ['orders']);
    expect(late.length).toBeGreaterThan(0);
    for (const p of plans) {
      const coldRows = readFileSync(join(cold, `${p.name}.ndjson`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ResultRow);
      const r = reconcileMetric(p, hashPii(p, (got.get(p.name) ?? []) as ResultRow[], PII_KEY), coldRows, late).summary;
      expect.soft(r, `${p.name} reconciled`).toMatchObject({ unexplained: 0, falseLatePairs: 0 });
      expect.soft(r.matches, p.name).toBeGreaterThan(0);
    }
  } finally {
    await procs.killAll();
    await results?.stop();
    await producer.disconnect();
  }
}
