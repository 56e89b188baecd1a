/**
 * The scenario the group tests share (group-members.test.ts, group-processes.test.ts): orders
 * on a 6-partition topic keyed by restaurant, and metrics grouped by the partition key (TUMBLE
 * per restaurant, a HOP top-N) and by other keys (a whole-window quantile and COUNT DISTINCT, a
 * per-customer SESSION: through the partials topics).
 */
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { expect } from 'vitest';
import { loadCatalog, type Catalog } from '../../src/catalog/index.js';
import { partialsPartition } from '../../src/hot/two-phase.js';
import { loadQueries, type MetricPlan } from '../../src/plan/index.js';
import { prng } from '../../src/sources/generator.js';
import { openStateEnv, readerOf } from '../../src/state/lmdb-env.js';
import { runHot } from '../support/parity.js';
import { createTopic, ordersProjectWith, sendToPartitions, testKafka, uniqueName, waitFor, withOffsets, type PartitionedDelivery, type ResultsReader } from './support.js';

export const GROUP_PARTITIONS = 6;
export const GROUP_START_MS = Date.UTC(2024, 2, 15, 19, 0, 0);

export const GROUP_METRICS: Record<string, string> = {
  rest_minute: `CREATE VIEW rest_minute AS
    SELECT window_start, window_end, data.restaurantId AS restaurant_id, COUNT(*) AS orders, SUM(data.orderTotal) AS revenue
    FROM TUMBLE(orders, eventTime, INTERVAL '1 minute')
    WHERE eventType = 'order.created'
    GROUP BY window_start, window_end, data.restaurantId;`,
  top3: `CREATE VIEW top3 AS
    SELECT window_start, window_end, restaurant_id, orders, rn FROM (
      SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY orders DESC, restaurant_id) AS rn FROM (
        SELECT window_start, window_end, data.restaurantId AS restaurant_id, COUNT(*) AS orders
        FROM HOP(orders, eventTime, INTERVAL '2 minutes', INTERVAL '6 minutes')
        WHERE eventType = 'order.created'
        GROUP BY window_start, window_end, data.restaurantId) AS c) AS r
    WHERE rn <= 3;`,
  p90_5m: `CREATE VIEW p90_5m AS
    SELECT window_start, window_end, COUNT(DISTINCT data.customerId) AS customers, quantile_cont(data.orderTotal, 0.9) AS p90
    FROM TUMBLE(orders, eventTime, INTERVAL '5 minutes')
    WHERE eventType = 'order.created'
    GROUP BY window_start, window_end;`,
  cust_session: `CREATE VIEW cust_session AS
    SELECT window_start, window_end, data.customerId AS customer_id, COUNT(*) AS orders, SUM(data.orderTotal) AS spent
    FROM SESSION(orders, eventTime, INTERVAL '2 minutes')
    WHERE eventType = 'order.created'
    GROUP BY window_start, window_end, data.customerId;`,
};

/**
 * `orders` orders over `spanMs` in event-time order, arriving up to 2 s late (within the 5 s
 * watermark delay), ~5% delivered twice. With `hourLate`, about 1% of the first half arrive an
 * hour late, from customers with no other order: late for every window and session under one
 * process's watermark and a group's alike. Order totals are multiples of 0.25, so double sums are
 * exact in any order of addition.
 */
export function groupDeliveries(seed: number, orders: number, spanMs: number, hourLate: boolean): PartitionedDelivery[] {
  const r = prng(seed);
  const out: { d: PartitionedDelivery; arrival: number }[] = [];
  for (let n = 0; n < orders; n++) {
    const t = GROUP_START_MS + Math.floor((n / orders) * spanMs);
    const restaurantId = `r${Math.floor(Math.pow(r(), 1.5) * 80)}`;
    const body = {
      eventId: `g-${n}`, eventType: 'order.created', eventTime: new Date(t).toISOString(),
      data: { customerId: `c${Math.floor(r() * 500)}`, restaurantId, orderTotal: Math.round((8 + r() * 80) * 4) / 4 },
    };
    const late = hourLate && n < orders / 2 && r() < 0.01;
    if (late) body.data.customerId = `late-${n}`;
    const d = { partition: partialsPartition(restaurantId, GROUP_PARTITIONS), value: JSON.stringify(body) };
    const arrival = t + (late ? 3_600_000 : r() * 2000);
    out.push({ d, arrival });
    if (r() < 0.05) out.push({ d, arrival: arrival + 300 + r() * 1500 });
  }
  return out.sort((a, b) => a.arrival - b.arrival).map((o) => o.d);
}

/** One event per partition a day after `endMs`: it closes every window and session before it. */
export function closingEvents(endMs: number): { partition: number; value: string }[] {
  const at = new Date(endMs + 86_400_000).toISOString();
  return Array.from({ length: GROUP_PARTITIONS }, (_, p) => ({ partition: p, value: JSON.stringify({ eventId: `end-${p}`, eventType: 'end', eventTime: at, data: {} }) }));
}

/** A group scenario on the test broker: its topic (6 partitions), project and the rows one uninterrupted engine gives. */
export interface GroupScenario {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly resultsTopic: string;
  readonly group: string;
  readonly dir: string;
  readonly catalog: Catalog;
  readonly plans: MetricPlan[];
  readonly events: PartitionedDelivery[];
  readonly expected: ReturnType<typeof runHot>;
  /** Final rows per metric. */
  readonly want: ReadonlyMap<string, readonly Record<string, unknown>[]>;
  readonly total: number;
}

/** Creates the topic and project of a scenario named `label` with `orders` orders (seed `seed`, some an hour late). */
export async function groupScenario(label: string, seed: number, orders: number): Promise<GroupScenario> {
  const kafka = testKafka(label);
  const topic = uniqueName(`orders-${label}`);
  const dir = ordersProjectWith(`pw-${label}-`, topic, GROUP_METRICS);
  const catalog = loadCatalog(join(dir, 'catalog'));
  const plans = loadQueries(join(dir, 'queries'), catalog);
  await createTopic(kafka, topic, GROUP_PARTITIONS);
  const events = groupDeliveries(seed, orders, GROUP_SPAN_MS, true);
  const expected = runHot(catalog, plans, 'orders', withOffsets(events));
  const want = new Map(plans.map((p) => [p.name, expected.rows.get(p.name) ?? []]));
  const total = [...want.values()].reduce((n, rows) => n + rows.length, 0);
  return { kafka, topic, resultsTopic: uniqueName(`results-${label}`), group: uniqueName(label), dir, catalog, plans, events, expected, want, total };
}

/** The event-time span of a scenario's orders (ms). */
export const GROUP_SPAN_MS = 30 * 60_000;

/** `pitwall run` processes of a test, each with its stderr kept by name. */
export class PitwallProcesses {
  readonly procs: { name: string; proc: ResultPromise }[] = [];
  readonly logs = new Map<string, string>();

  spawn(name: string, args: readonly string[], env: Record<string, string> = {}): ResultPromise {
    const proc = execa('node', ['bin/pitwall.js', 'run', ...args], { env, reject: false, stdio: ['ignore', 'ignore', 'pipe'], forceKillAfterDelay: 60_000 });
    this.procs.push({ name, proc });
    proc.stderr?.on('data', (d: Buffer) => { this.logs.set(name, (this.logs.get(name) ?? '') + d.toString()); });
    return proc;
  }

  log(name: string): string { return this.logs.get(name) ?? ''; }

  /** The last lines of every process's stderr (kafkajs' own lines left out), for failure messages. */
  stderr(lines = 25): string {
    return this.procs.map(({ name }) => `--- ${name}\n${this.log(name).split('\n').filter((l) => !l.includes('kafkajs')).slice(-lines).join('\n')}`).join('\n');
  }

  async killAll(): Promise<void> {
    for (const { proc } of this.procs) { proc.kill('SIGCONT'); proc.kill('SIGKILL'); }
    await Promise.allSettled(this.procs.map((p) => p.proc));
  }
}

/**
 * Waits until the results topic holds a final row for every expected one (or 150 s), stops
 * `running` with SIGTERM, and checks that they exited cleanly and that the final rows equal the
 * uninterrupted engine's. Returns the final rows per metric.
 */
export async function expectGroupFinals(s: GroupScenario, results: ResultsReader, running: readonly ResultPromise[], procs: PitwallProcesses): Promise<Map<string, Record<string, unknown>[]>> {
  const names = s.plans.map((p) => p.name);
  const until = GROUP_START_MS + GROUP_SPAN_MS + 3_600_000;
  const count = (): number => [...results.finals(names, until).values()].reduce((n, rows) => n + rows.length, 0);
  const complete = await waitFor(() => count() >= s.total, 150_000, 1000);
  for (const p of running) p.kill('SIGTERM');
  const ends = await Promise.all(running);
  const drained = await results.drained(60_000);
  const summary = `complete ${complete}, drained ${drained}, ${count()} of ${s.total} final rows\n${procs.stderr()}`;
  expect(ends.map((e) => e.exitCode ?? e.signal), summary).toEqual(running.map(() => 0));
  const got = results.finals(names, until);
  const sort = (rows: readonly Record<string, unknown>[]): string[] => rows.map((r) => JSON.stringify(r)).sort();
  for (const p of s.plans) expect.soft(sort(got.get(p.name) ?? []), `${p.name}: ${summary}`).toEqual(sort(s.want.get(p.name) ?? []));
  return got;
}

/** A producer for the scenario's topic, and `send(from, to, paceMs)` of its deliveries [from, to). */
export async function scenarioSender(s: GroupScenario): Promise<{ producer: Producer; send: (from: number, to: number, paceMs: number) => Promise<void> }> {
  const producer = s.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return { producer, send: (from, to, paceMs) => sendToPartitions(producer, s.topic, s.events, from, to, paceMs) };
}

/** True once a checkpoint was committed to the state store in `stateDir` (with `pid`: by a member of that process). */
export async function checkpointedIn(stateDir: string, pid?: number): Promise<boolean> {
  const path = join(stateDir, 'state.lmdb');
  if (!existsSync(path)) return false;
  const env = openStateEnv(path);
  try {
    const at = readerOf(env).get('meta', ['checkpoint']) as { member?: string } | undefined;
    return at !== undefined && (pid === undefined || String(at.member ?? '').includes(`-${pid}-`));
  } finally {
    await env.root.close();
  }
}
