/**
 * Several group members on the real broker (src/hot/member-runner.ts), in this process: a
 * 6-partition topic keyed by restaurant, two members from the start, a third joining mid-stream
 * and one of the first two leaving; metrics grouped by the partition key (restaurant: TUMBLE,
 * a HOP top-N, a quantile sketch) and by another key (customer sessions, through the partials
 * topic). Final rows equal one uninterrupted engine's over the same events: nothing lost,
 * nothing counted twice across the moves.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { MemberRunner } from '../../src/hot/member-runner.js';
import { partialsPartition } from '../../src/hot/two-phase.js';
import { loadQueries } from '../../src/plan/index.js';
import { prng } from '../../src/sources/generator.js';
import { runHot } from '../support/parity.js';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/process-timeout.js';
import { brokers, createTopic, ordersProjectWith, readResults, testKafka, uniqueName, waitFor } from './support.js';

const PARTITIONS = 6;
const ORDERS = 24_000;
const START_MS = Date.UTC(2024, 2, 15, 19, 0, 0);
const SPAN_MS = 20 * 60_000;

const METRICS: Record<string, string> = {
  rest_minute: `CREATE VIEW rest_minute AS
    SELECT window_start, window_end, data.restaurantId AS restaurant_id, COUNT(*) AS orders, SUM(data.orderTotal) AS revenue
    FROM TUMBLE(orders, eventTime, INTERVAL '1 minute')
    GROUP BY window_start, window_end, data.restaurantId;`,
  top3: `CREATE VIEW top3 AS
    SELECT window_start, window_end, restaurant_id, orders, rn FROM (
      SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY orders DESC, restaurant_id) AS rn FROM (
        SELECT window_start, window_end, data.restaurantId AS restaurant_id, COUNT(*) AS orders
        FROM HOP(orders, eventTime, INTERVAL '2 minutes', INTERVAL '6 minutes')
        GROUP BY window_start, window_end, data.restaurantId) AS c) AS r
    WHERE rn <= 3;`,
  p90_5m: `CREATE VIEW p90_5m AS
    SELECT window_start, window_end, COUNT(DISTINCT data.customerId) AS customers, quantile_cont(data.orderTotal, 0.9) AS p90
    FROM TUMBLE(orders, eventTime, INTERVAL '5 minutes')
    GROUP BY window_start, window_end;`,
  cust_session: `CREATE VIEW cust_session AS
    SELECT window_start, window_end, data.customerId AS customer_id, COUNT(*) AS orders, SUM(data.orderTotal) AS spent
    FROM SESSION(orders, eventTime, INTERVAL '2 minutes')
    GROUP BY window_start, window_end, data.customerId;`,
};

interface Delivery { readonly partition: number; readonly value: string }

/** Orders in event-time order, arriving up to 2 s late (never late for the 5 s watermark delay); ~5% delivered twice. */
function deliveries(seed: number): Delivery[] {
  const r = prng(seed);
  const out: { d: Delivery; arrival: number }[] = [];
  for (let n = 0; n < ORDERS; n++) {
    const t = START_MS + Math.floor((n / ORDERS) * SPAN_MS);
    const restaurantId = `r${Math.floor(Math.pow(r(), 1.5) * 60)}`;
    const body = {
      eventId: `gm-${n}`, eventType: 'order.created', eventTime: new Date(t).toISOString(),
      data: { customerId: `c${Math.floor(r() * 400)}`, restaurantId, orderTotal: Math.round((8 + r() * 80) * 4) / 4 },
    };
    const d = { partition: partialsPartition(restaurantId, PARTITIONS), value: JSON.stringify(body) };
    const arrival = t + r() * 2000;
    out.push({ d, arrival });
    if (r() < 0.05) out.push({ d, arrival: arrival + 300 + r() * 1500 });
  }
  return out.sort((a, b) => a.arrival - b.arrival).map((o) => o.d);
}

describe.skipIf(!brokers)('a group of members sharing a topic', () => {
  it('gives one engine\'s final rows while members join and leave', { timeout: Math.max(PROCESS_TEST_TIMEOUT_MS, 240_000) }, async () => {
    if (!brokers) return;
    const kafka = testKafka('group-members');
    const topic = uniqueName('orders-group');
    const resultsTopic = uniqueName('results-group');
    const group = uniqueName('group');
    const prefix = uniqueName('pw');
    const dir = ordersProjectWith('pw-group-', topic, METRICS);
    const catalog = loadCatalog(join(dir, 'catalog'));
    const plans = loadQueries(join(dir, 'queries'), catalog);
    await createTopic(kafka, topic, PARTITIONS);
    const events = deliveries(4417);
    const offsets = new Array<number>(PARTITIONS).fill(0);
    const expected = runHot(catalog, plans, 'orders', events.map((e) => {
      const offset = offsets[e.partition] as number;
      offsets[e.partition] = offset + 1;
      return { partition: e.partition, offset, value: e.value };
    }));
    expect(expected.stats.streams.orders?.late).toBe(0);
    expect(expected.stats.streams.orders?.duplicates).toBeGreaterThan(0);

    const stateDir = mkdtempSync(join(tmpdir(), 'pw-group-state-'));
    const logs: string[] = [];
    const broker = brokers;
    const member = (name: string): MemberRunner => new MemberRunner(catalog, plans, {
      brokers: [broker], groupId: group, stateDir, resultsTopic, checkpointIntervalMs: 500, fromBeginning: true,
      partialsPrefix: prefix, memberId: name, log: (m) => logs.push(m),
    });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const send = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i += 500) {
        const byPartition = new Map<number, { value: string }[]>();
        for (const e of events.slice(i, Math.min(to, i + 500))) {
          const list = byPartition.get(e.partition) ?? [];
          list.push({ value: e.value });
          byPartition.set(e.partition, list);
        }
        await producer.sendBatch({ topicMessages: [...byPartition].map(([partition, msgs]) => ({ topic, messages: msgs.map((m) => ({ ...m, partition })) })) });
      }
    };
    const debug = setInterval(() => {
      for (const m of [a, b, c]) {
        if (!m) continue;
        const wm = m.streams.map((st) => `${st.stream.name}: wm ${st.watermark.watermarkMs} parts ${JSON.stringify(st.watermark.partitions())} floors ${JSON.stringify([...(st.floors ?? [])])} offs ${JSON.stringify([...st.offsets])}`).join('; ');
        logs.push(`[${m.id}] ${wm} merge ${JSON.stringify(m.mergeWatermarks())} cp ${m.checkpoints} ${JSON.stringify(m.counters)}`);
      }
    }, 5000);
    const a = member('a');
    const b = member('b');
    let c: MemberRunner | undefined;
    let results: Awaited<ReturnType<typeof readResults>> | undefined;
    try {
      await Promise.all([a.start(), b.start()]);
      results = await readResults(kafka, resultsTopic);
      const reader = results;
      const third = Math.floor(events.length / 3);
      await send(0, third);
      await waitFor(() => a.checkpoints + b.checkpoints > 6, 60_000);
      c = member('c');
      await c.start();
      await send(third, 2 * third);
      await waitFor(() => (c as MemberRunner).checkpoints > 4, 60_000);
      await b.stop();
      await send(2 * third, events.length);
      // One event per partition a day later closes every window of the orders.
      const late = new Date(START_MS + SPAN_MS + 86_400_000).toISOString();
      await producer.send({ topic, messages: Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, value: JSON.stringify({ eventId: `end-${p}`, eventType: 'end', eventTime: late, data: {} }) })) });
      const want = new Map(plans.map((p) => [p.name, expected.rows.get(p.name) ?? []]));
      const total = [...want.values()].reduce((n, rows) => n + rows.length, 0);
      const until = START_MS + SPAN_MS + 3_600_000;
      const done = await waitFor(() => [...reader.finals(plans.map((p) => p.name), until).values()].reduce((n, rows) => n + rows.length, 0) >= total, 120_000, 500);
      await reader.drained(30_000);
      const got = reader.finals(plans.map((p) => p.name), until);
      const counts = plans.map((p) => `${p.name}: ${got.get(p.name)?.length ?? 0}/${want.get(p.name)?.length ?? 0}`).join(', ');
      const sort = (rows: readonly Record<string, unknown>[]): string[] => rows.map((r) => JSON.stringify(r)).sort();
      for (const p of plans) expect(sort(got.get(p.name) ?? []), `${p.name} (finished: ${done}; ${counts}); log:\n${logs.slice(-60).join('\n')}`).toEqual(sort(want.get(p.name) ?? []));
      const stats = [a, c].map((m) => m.stats());
      expect(stats.reduce((n, s) => n + Object.values(s.metrics).reduce((k, m) => k + (m.partialsAfterClose ?? 0), 0), 0)).toBe(0);
    } finally {
      clearInterval(debug);
      await Promise.allSettled([a.stop(), b.stop(), c?.stop()]);
      await results?.stop();
      await producer.disconnect();
    }
  });
});
