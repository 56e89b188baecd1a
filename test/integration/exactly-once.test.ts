/**
 * Exactly-once state over a real broker: `pitwall run` over a 3-partition topic, SIGKILLed
 * twice while events are still arriving and restarted each time, produces the same final rows
 * as an uninterrupted run of the same engine over the same events.
 */
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { lastCheckpoint } from '../../src/state/state-store.js';
import { loadCatalog } from '../../src/catalog/index.js';
import { loadQueries } from '../../src/plan/index.js';
import { generate } from '../../src/sources/generator.js';
import type { ResultRow } from '../../src/util/result-row.js';
import { runHot } from '../support/parity.js';
import { brokers, createTopic, ordersProjectWith, readResults, testKafka, uniqueName, waitFor } from './support.js';

const EVENTS = 30_000;
const CHUNKS = 10;

const METRICS: Record<string, string> = {
  per_restaurant: `CREATE VIEW per_restaurant AS
    SELECT window_start, window_end, data.restaurantId AS restaurant_id, COUNT(*) AS orders,
           SUM(data.itemCount) AS items, MIN(data.itemCount) AS min_items, COUNT(DISTINCT data.customerId) AS customers
    FROM TUMBLE(orders, eventTime, INTERVAL '1 minute')
    WHERE eventType = 'order.created'
    GROUP BY window_start, window_end, data.restaurantId;`,
  funnel_hop: `-- emit: on_update
    CREATE VIEW funnel_hop AS
    SELECT window_start, window_end, COUNT(*) FILTER (WHERE eventType = 'order.delivered') AS delivered, COUNT(*) AS events
    FROM HOP(orders, eventTime, INTERVAL '30 seconds', INTERVAL '2 minutes')
    GROUP BY window_start, window_end;`,
};

describe.skipIf(!brokers)('exactly-once state across SIGKILL', () => {
  it('gives the rows of an uninterrupted run after two SIGKILLs and restarts', async () => {
    if (!brokers) return;
    const kafka = testKafka('exactly-once');
    const topic = uniqueName('orders');
    const resultsTopic = uniqueName('results');
    const dir = ordersProjectWith('pw-eo-', topic, METRICS);
    const catalog = loadCatalog(join(dir, 'catalog'));
    const plans = loadQueries(join(dir, 'queries'), catalog);

    await createTopic(kafka, topic, 3);

    // Out of order within the watermark delay, duplicates and bad payloads; nothing late.
    const generated = generate('food-delivery', EVENTS, { seed: 11, ratePerSec: 50, jitterMs: 2000, duplicateRate: 0.05, malformedRate: 0.01, keys: 12 });
    const lastTime = Math.max(...generated.filter((g) => Number.isFinite(g.eventTimeMs)).map((g) => g.eventTimeMs));
    // One event per partition a day later closes every window of the real events.
    const sentinels = [0, 1, 2].map((p) => ({ partition: p, value: JSON.stringify({ eventId: `sentinel-${p}`, eventType: 'sentinel', eventTime: new Date(lastTime + 86_400_000).toISOString(), data: {} }) }));

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const produceChunk = async (i: number): Promise<void> => {
      const chunk = generated.slice((i * EVENTS) / CHUNKS, ((i + 1) * EVENTS) / CHUNKS);
      await producer.send({ topic, acks: -1, messages: chunk.map((g) => ({ key: g.key, value: g.value })) });
    };

    const stateDir = join(dir, 'state');
    const args = ['bin/pitwall.js', 'run', '--catalog', join(dir, 'catalog'), '--queries', join(dir, 'queries'), '--brokers', brokers,
      '--state-dir', stateDir, '--group', uniqueName('eo-group'), '--results-topic', resultsTopic, '--checkpoint-interval', '500ms', '--from-beginning', '--port', '0'];
    const start = (): ResultPromise => execa('node', args, { reject: false, stdio: ['ignore', 'ignore', 'pipe'] });
    const checkpointExists = async (): Promise<boolean> => (await lastCheckpoint(stateDir)) !== undefined;

    let proc = start();
    let kills = 0;
    for (let i = 0; i < CHUNKS; i++) {
      await produceChunk(i);
      await new Promise((r) => setTimeout(r, 400));
      if (i === 3 || i === 7) {
        await waitFor(checkpointExists, 30_000);
        proc.kill('SIGKILL');
        await proc;
        kills++;
        proc = start();
      }
    }
    await producer.send({ topic, acks: -1, messages: sentinels });
    await producer.disconnect();

    // Expected: the same engine, uninterrupted, over the same events.
    const records = generated.map((g, i) => ({ partition: 0, offset: i, value: g.value }));
    const expected = runHot(catalog, plans, 'orders', records);
    const want = new Map(plans.map((p) => [p.name, expected.rows.get(p.name) ?? []]));
    const total = [...want.values()].reduce((n, rows) => n + rows.length, 0);

    // Read the compacted results topic: the latest value per key, final rows only.
    const results = await readResults(kafka, resultsTopic);
    const names = plans.map((p) => p.name);
    const finals = (): Map<string, ResultRow[]> => results.finals(names, lastTime);
    const complete = await waitFor(() => [...finals().values()].reduce((n, rows) => n + rows.length, 0) >= total, 120_000, 500);
    await results.stop();
    proc.kill('SIGTERM');
    const last = await proc;

    expect(kills).toBe(2);
    expect(complete, last.stderr?.toString()).toBe(true);
    const got = finals();
    for (const p of plans) {
      const sort = (rows: ResultRow[]): string[] => rows.map((r) => JSON.stringify(r)).sort();
      expect(sort(got.get(p.name) ?? []), p.name).toEqual(sort(want.get(p.name) ?? []));
    }
    expect(total).toBeGreaterThan(50);
  });
});
