/**
 * Exactly-once state across many crashes with large state: `pitwall run` over a 3-partition
 * topic carrying ~168,000 deliveries (160,000 orders from ≈100,000 distinct customers inside
 * one 1-hour window, so ≈100,000 groups stay open for the whole run, plus ~5% redelivered
 * copies, so dedup state matters), SIGKILLed 10 times at seeded random points while events are still arriving and
 * restarted each time, produces exactly the final rows of an uninterrupted run of the same
 * engine over the same events, for every metric:
 *
 * - `cust_hour`: TUMBLE 1 hour per customer (the large state);
 * - `rest_minute`: TUMBLE 1 minute per restaurant (windows close all through the run);
 * - `cust_session`: SESSION per customer with a 2-minute gap (sessions open and close all
 *   through the run).
 *
 * Kills land at a seeded random delay (0.3–3 s) after the process was spawned (so some land
 * during startup or the restore) or after it committed its first checkpoint; checkpoints run
 * every 500 ms, so some land while a checkpoint is being captured, handed to the writer thread
 * or committed. Each run produces its share of the events while it runs, so it is consuming
 * when killed. At least 7 of the 10 restarts must restore the state store.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { loadQueries } from '../../src/plan/index.js';
import { prng } from '../../src/sources/generator.js';
import { lastCheckpoint } from '../../src/state/state-store.js';
import type { ResultRow } from '../../src/util/result-row.js';
import { runHot } from '../support/parity.js';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/process-timeout.js';
import { brokers, createTopic, ordersProjectWith, readResults, testKafka, uniqueName, waitFor, type ResultsReader } from './support.js';

const SEED = 0x5eed_2024;
/** Distinct orders (each one event); about 5% more deliveries are redelivered copies. */
const ORDERS = 160_000;
const DUPLICATE_RATE = 0.05;
const KILLS = 10;
const MIN_RESTORES = 7;
/** Event time of the first order: every order falls in the 19:00–20:00 window. */
const START_MS = Date.UTC(2024, 2, 15, 19, 5, 0);
/** Event-time span of the orders (inside the hour). */
const SPAN_MS = 40 * 60_000;
/** Arrival is at most this much after event time (well within the catalog's 5 s watermark delay). */
const JITTER_MS = 2000;
const RESTAURANTS = 300;
/** Customers: most orders from a wide range (≈100,000 distinct ids), some from regulars who order often (longer sessions). */
const CUSTOMER_RANGE = 200_000;
const REGULARS = 2000;
const REGULAR_SHARE = 0.15;
const SEND_BATCH = 1000;

const METRICS: Record<string, string> = {
  cust_hour: `CREATE VIEW cust_hour AS
    SELECT window_start, window_end, data.customerId AS customer_id, COUNT(*) AS orders,
           SUM(data.orderTotal) AS spent, SUM(data.itemCount) AS items, MAX(data.itemCount) AS max_items
    FROM TUMBLE(orders, eventTime, INTERVAL '1 hour')
    WHERE eventType = 'order.created'
    GROUP BY window_start, window_end, data.customerId;`,
  rest_minute: `CREATE VIEW rest_minute AS
    SELECT window_start, window_end, data.restaurantId AS restaurant_id, COUNT(*) AS orders,
           SUM(data.orderTotal) AS revenue, SUM(data.itemCount) AS items
    FROM TUMBLE(orders, eventTime, INTERVAL '1 minute')
    WHERE eventType = 'order.created'
    GROUP BY window_start, window_end, data.restaurantId;`,
  cust_session: `CREATE VIEW cust_session AS
    SELECT window_start, window_end, data.customerId AS customer_id, COUNT(*) AS orders,
           SUM(data.orderTotal) AS spent, MIN(eventTime) AS first_order, MAX(eventTime) AS last_order
    FROM SESSION(orders, eventTime, INTERVAL '2 minutes')
    WHERE eventType = 'order.created'
    GROUP BY window_start, window_end, data.customerId;`,
};

interface Delivery { readonly key: string; readonly value: string; readonly eventTimeMs: number }

/**
 * The deliveries in arrival order: orders in event-time order, each arriving up to JITTER_MS
 * late (out of order, never late for the watermark), about DUPLICATE_RATE of them delivered
 * again (same id, same payload) 0.5–4 s after the first copy. Order totals are multiples of
 * 0.25 so every double SUM is exact in any order of addition.
 */
function deliveries(seed: number): Delivery[] {
  const r = prng(seed);
  const out: { d: Delivery; arrival: number }[] = [];
  const meanGap = SPAN_MS / ORDERS;
  let t = START_MS;
  for (let n = 0; n < ORDERS; n++) {
    t = Math.min(START_MS + SPAN_MS, t + Math.max(0, Math.round(-Math.log(1 - r()) * meanGap)));
    const restaurantId = `r${Math.floor(Math.pow(r(), 1.5) * RESTAURANTS)}`;
    const customerId = `cust${r() < REGULAR_SHARE ? Math.floor(r() * REGULARS) : Math.floor(r() * CUSTOMER_RANGE)}`;
    const body = {
      eventId: `lg-${n.toString(36)}-${Math.floor(r() * 1e9).toString(36)}`,
      eventType: 'order.created',
      eventTime: new Date(t).toISOString(),
      data: { customerId, restaurantId, orderTotal: Math.round((8 + r() * 80) * 4) / 4, itemCount: 1 + Math.floor(r() * 6) },
    };
    const d = { key: restaurantId, value: JSON.stringify(body), eventTimeMs: t };
    const arrival = t + r() * JITTER_MS;
    out.push({ d, arrival });
    if (r() < DUPLICATE_RATE) out.push({ d, arrival: arrival + 500 + r() * 3500 });
  }
  return out.sort((a, b) => a.arrival - b.arrival).map((o) => o.d);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!brokers)('exactly-once state across SIGKILL with large state', () => {
  it('SIGKILL at random points, 10 runs, with large state, gives the rows of an uninterrupted run', { timeout: Math.max(PROCESS_TEST_TIMEOUT_MS, 480_000) }, async () => {
    if (!brokers) return;
    const t0 = performance.now();
    const kafka = testKafka('crash-large-state');
    const topic = uniqueName('orders-large');
    const resultsTopic = uniqueName('results-large');
    // A long idle timeout: partitions silent while the process is down never let the watermark pass them.
    const dir = ordersProjectWith('pw-crash-large-', topic, METRICS);
    const catalog = loadCatalog(join(dir, 'catalog'));
    const plans = loadQueries(join(dir, 'queries'), catalog);
    await createTopic(kafka, topic, 3);

    const events = deliveries(SEED);
    const tGen = performance.now();
    const lastTime = events.reduce((m, e) => Math.max(m, e.eventTimeMs), 0);
    // One event per partition a day later closes every window of the real events.
    const sentinels = [0, 1, 2].map((p) => ({ partition: p, value: JSON.stringify({ eventId: `sentinel-${p}`, eventType: 'sentinel', eventTime: new Date(lastTime + 86_400_000).toISOString(), data: {} }) }));

    // Expected: the same engine, uninterrupted, over the same events.
    const expected = runHot(catalog, plans, 'orders', events.map((e, i) => ({ partition: 0, offset: i, value: e.value })));
    const want = new Map(plans.map((p) => [p.name, expected.rows.get(p.name) ?? []]));
    const total = [...want.values()].reduce((n, rows) => n + rows.length, 0);
    const stats = expected.stats.streams.orders;
    // The scenario is what it claims: large state, duplicates, nothing late or malformed.
    expect(want.get('cust_hour')?.length).toBeGreaterThan(90_000);
    expect(stats?.duplicates).toBeGreaterThan(ORDERS * DUPLICATE_RATE * 0.8);
    expect(stats?.late).toBe(0);
    expect(stats?.quarantined).toBe(0);

    const tHot = performance.now();
    // The kill schedule, fixed by the seed: what each delay counts from, and the delay.
    const r = prng(SEED ^ 0x9e37_79b9);
    const schedule = Array.from({ length: KILLS }, () => ({ after: r() < 0.25 ? 'spawn' as const : 'checkpoint' as const, delayMs: Math.round(300 + r() * 2700) }));

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    let results: ResultsReader | undefined;
    let running: ResultPromise | undefined;
    try {
      await producer.connect();
      // Chunk i (of KILLS + 1) is sent during run i, in batches spread over ~1.5 s, so the process is consuming when killed.
      const chunkBounds = (i: number): [number, number] => [Math.floor((i * events.length) / (KILLS + 1)), Math.floor(((i + 1) * events.length) / (KILLS + 1))];
      const produceChunk = async (i: number, paceMs: number): Promise<void> => {
        const [from, to] = chunkBounds(i);
        for (let at = from; at < to; at += SEND_BATCH) {
          await producer.send({ topic, acks: -1, messages: events.slice(at, Math.min(to, at + SEND_BATCH)).map((e) => ({ key: e.key, value: e.value })) });
          if (paceMs > 0) await sleep(paceMs);
        }
      };

      const stateDir = join(dir, 'state');
      const args = ['bin/pitwall.js', 'run', '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--brokers', brokers,
        '--state-dir', stateDir, '--results-topic', resultsTopic, '--checkpoint-interval', '500ms', '--from-beginning', '--port', '0', '--single'];
      // --single: this is the single-process state store at scale (group-processes.test.ts
      // SIGKILLs group members). Each run joins its own consumer group: a SIGKILLed member stays in its group until the
      // session timeout (10 s), which would hold every restart's rebalance back that long. The
      // state store's offsets are the recovery point (the runner seeks to them; records below
      // them are skipped), so a fresh group resumes exactly where the last checkpoint left off.
      // (exactly-once.test.ts restarts into the same group.) forceKillAfterDelay: the final
      // checkpoint after SIGTERM may take longer than execa's default 5 s before it SIGKILLs
      // (run-action.ts bounds the stop by STOP_TIMEOUT_MS).
      const start = (): ResultPromise => {
        running = execa('node', [...args, '--group', uniqueName('crash-group')], { reject: false, stdio: ['ignore', 'ignore', 'pipe'], forceKillAfterDelay: 60_000 });
        return running;
      };
      const checkpointSeq = async (): Promise<number> => (await lastCheckpoint(stateDir))?.seq ?? 0;
      const stderrs: string[] = [];
      const log: string[] = [];

      let kills = 0;
      for (let i = 0; i < KILLS; i++) {
        const { after, delayMs } = schedule[i] as (typeof schedule)[number];
        const seqBefore = await checkpointSeq();
        const spawnedAt = performance.now();
        const proc = start();
        const producing = produceChunk(i, 80);
        let anchorMs = 0;
        if (after === 'checkpoint') {
          // Bounded, and cut short when the process exits by itself (that fails the run below).
          const committed = await waitFor(async () => proc.exitCode !== null || (await checkpointSeq()) > seqBefore, 90_000, 50);
          if (!committed || proc.exitCode !== null) {
            proc.kill('SIGKILL');
            const res = await proc;
            expect.fail(`run ${i}: no checkpoint within 90 s (exit ${String(res.exitCode ?? res.signal)}); earlier runs:\n${log.join('\n')}\nits stderr:\n${String(res.stderr ?? '').slice(-6000)}`);
          }
          anchorMs = performance.now() - spawnedAt;
        }
        await sleep(delayMs);
        proc.kill('SIGKILL');
        const res = await proc;
        // Killed, not exited on its own (a crash at startup or in a restore would otherwise pass for a kill).
        expect(res.signal, `run ${i} ended by itself (exit ${String(res.exitCode)}):\n${String(res.stderr ?? '').slice(-6000)}`).toBe('SIGKILL');
        kills++;
        stderrs.push(String(res.stderr ?? ''));
        await producing;
        log.push(`run ${i}: killed ${delayMs} ms after ${after === 'spawn' ? 'spawn' : `its first checkpoint (at ${Math.round(anchorMs)} ms)`}, store seq ${seqBefore} -> ${await checkpointSeq()}`);
      }
      const tKills = performance.now();
      const proc = start();
      await produceChunk(KILLS, 0);
      await producer.send({ topic, acks: -1, messages: sentinels });
      await producer.disconnect();

      // Read the compacted results topic: the latest value per key, final rows only.
      results = await readResults(kafka, resultsTopic);
      const reader = results;
      const finals = (): Map<string, ResultRow[]> => reader.finals(plans.map((p) => p.name), lastTime);
      const complete = await waitFor(() => reader.finalCount() >= total, 150_000, 1000);
      proc.kill('SIGTERM');
      const last = await proc;
      stderrs.push(String(last.stderr ?? ''));
      // Everything the stopped process sent is read before comparing.
      const drained = await reader.drained(60_000);
      await reader.stop();

      const restores = stderrs.reduce((n, s) => n + s.split('\n').filter((l) => l.includes('restored state store')).length, 0);
      const summary = `${log.join('\n')}\nrestores: ${restores}; ${total} expected final rows; ${Math.round((performance.now() - t0) / 1000)} s; state in ${stateDir}\nlast run's stderr:\n${String(last.stderr ?? '').slice(-4000)}`;
      const restoreMs = stderrs.flatMap((e) => [...e.matchAll(/restored state store in (\d+) ms/g)].map((m) => Number(m[1])));
      process.stderr.write(`crash-large-state: ${events.length} deliveries, ${total} final rows; ${kills} kills (${schedule.filter((k) => k.after === 'spawn').length} after spawn), ${restores} restores (slowest ${Math.max(0, ...restoreMs)} ms); `
        + `generate ${((tGen - t0) / 1000).toFixed(1)} s, uninterrupted run ${((tHot - tGen) / 1000).toFixed(1)} s, kill loop ${((tKills - tHot) / 1000).toFixed(1)} s, last run and read ${((performance.now() - tKills) / 1000).toFixed(1)} s\n`);
      expect(kills).toBe(KILLS);
      expect(complete, summary).toBe(true);
      expect(drained, summary).toBe(true);
      expect(last.exitCode, summary).toBe(0);
      expect(restores, summary).toBeGreaterThanOrEqual(MIN_RESTORES);
      const got = finals();
      for (const p of plans) {
        const sort = (rows: readonly ResultRow[]): string[] => rows.map((row) => JSON.stringify(row)).sort();
        const g = sort(got.get(p.name) ?? []);
        const w = sort(want.get(p.name) ?? []);
        const wSet = new Set(w);
        const gSet = new Set(g);
        const extra = g.filter((row) => !wSet.has(row));
        const missing = w.filter((row) => !gSet.has(row));
        expect({ metric: p.name, rows: g.length, extra: extra.slice(0, 10), extraCount: extra.length, missing: missing.slice(0, 10), missingCount: missing.length }, summary)
          .toEqual({ metric: p.name, rows: w.length, extra: [], extraCount: 0, missing: [], missingCount: 0 });
      }
      // Kept when the test fails (the state store, for a look at what was restored).
      rmSync(dir, { recursive: true, force: true });
    } finally {
      // A failure half-way leaves no pitwall process or client behind.
      running?.kill('SIGKILL');
      await producer.disconnect().catch(() => undefined);
      await results?.stop().catch(() => undefined);
    }
  });
});
