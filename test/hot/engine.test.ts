/** Operators driven by hand: watermarks, lateness, emission modes, caps and checkpoints. */
import { describe, expect, it } from 'vitest';
import { Engine, type EngineSnapshot } from '../../src/hot/engine.js';
import type { RowChange } from '../../src/hot/operator-types.js';
import { ResultCollector } from '../../src/hot/result-collector.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import { WatermarkTracker } from '../../src/hot/watermark.js';
import { generate } from '../../src/sources/generator.js';
import { ORDERS_YAML, catalogOf, plan, t } from '../support/cold-harness.js';

const catalog = catalogOf(ORDERS_YAML); // watermark_delay 5s, allowed_lateness 0s
const rec = (offset: number, id: string, time: string, data: Record<string, unknown> = {}, partition = 0): RawRecord =>
  ({ partition, offset, value: JSON.stringify({ eventId: id, eventType: 'order.created', eventTime: time, data }) });

function setup(sql: string, options = {}): { engine: Engine; changes: RowChange[]; results: ResultCollector; late: string[] } {
  const p = plan(sql, catalog);
  const changes: RowChange[] = [];
  const results = new ResultCollector();
  const late: string[] = [];
  const engine = new Engine(catalog, [p], {
    result: (pl, c) => { changes.push(c); results.apply(pl, c); },
    late: (_p, pair) => late.push(pair.event.eventId),
  }, options);
  return { engine, changes, results, late };
}

const COUNT_1M = `CREATE VIEW m AS SELECT window_start, data.r AS r, COUNT(*) AS n
  FROM TUMBLE(orders, eventTime, INTERVAL '1 minute') GROUP BY window_start, data.r`;
const ORDERS_R = ORDERS_YAML.replace('  data.vip: { type: boolean }', '  data.vip: { type: boolean }\n  data.r: { type: string }');
const rcatalog = catalogOf(ORDERS_R);

describe('watermarks', () => {
  it('is the min over partitions of max event time minus the delay, and never goes back', () => {
    const w = new WatermarkTracker(5000, 30_000);
    w.assign(0, 0);
    w.assign(1, 0);
    expect(w.observe(0, 100_000, 0)).toBe(Number.NEGATIVE_INFINITY); // partition 1 holds it back
    expect(w.observe(1, 50_000, 0)).toBe(45_000);
    expect(w.observe(1, 40_000, 0)).toBe(45_000); // an older event does not move it back
    expect(w.observe(1, 200_000, 0)).toBe(95_000);
  });

  it('a partition that goes quiet (or away in a rebalance) holds the watermark until idle_timeout', () => {
    const w = new WatermarkTracker(0, 30_000);
    w.assign(0, 0);
    w.assign(1, 0);
    w.observe(0, 100_000, 0);
    w.observe(1, 90_000, 0);
    w.observe(0, 120_000, 20_000); // partition 1 silent for 20 s: still holding
    expect(w.watermarkMs).toBe(90_000);
    expect(w.tick(30_000)).toBe(120_000); // silent for 30 s: released
  });

  it('stops waiting for an idle partition after idle_timeout, and waits again when it sends', () => {
    const w = new WatermarkTracker(0, 30_000);
    w.assign(0, 0);
    w.assign(1, 0);
    w.observe(0, 100_000, 1000);
    expect(w.watermarkMs).toBe(Number.NEGATIVE_INFINITY);
    expect(w.tick(30_500)).toBe(100_000); // partition 1 silent for 30.5 s: idle; partition 0 is not
    w.observe(1, 90_000, 30_600); // it wakes up behind: the watermark stays where it was
    expect(w.watermarkMs).toBe(100_000);
  });
});

describe('windows close on the watermark', () => {
  it('emits a final row once watermark >= window_end + allowed_lateness, and routes later events to the late lane', () => {
    const p = plan(COUNT_1M, rcatalog);
    const changes: RowChange[] = [];
    const late: string[] = [];
    const engine = new Engine(rcatalog, [p], { result: (_p, c) => changes.push(c), late: (_p, pair) => late.push(pair.event.eventId) });
    engine.process('orders', [rec(0, 'a', t('30:10'), { r: 'x' }), rec(1, 'b', t('31:04'), { r: 'x' })]);
    expect(changes).toEqual([]); // watermark 30:59: [30:00, 31:00) still open
    engine.process('orders', [rec(2, 'c', t('31:05'), { r: 'x' })]); // watermark 31:00: closes it
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ kind: 'upsert', final: true, values: [Date.parse(t('30:00')), 'x', 1] });
    engine.process('orders', [rec(3, 'd', t('30:59'), { r: 'x' })]); // for the closed window: late
    expect(late).toEqual(['d']);
    engine.endOfInput();
    expect(changes.map((c) => c.values?.[2])).toEqual([1, 2]); // d was never folded
  });

  it('counts a duplicate of a late event as a duplicate, not again as late', () => {
    const { engine, late } = setup(COUNT_1M.replace(/data\.r\b/g, 'data.restaurantId'));
    engine.process('orders', [rec(0, 'a', t('32:00')), rec(1, 'late', t('30:00')), rec(2, 'late', t('30:00'))]);
    engine.endOfInput();
    expect(late).toEqual(['late']);
    expect(engine.stats().streams.orders).toMatchObject({ events: 3, accepted: 2, duplicates: 1, late: 1 });
  });
});

describe('emit modes', () => {
  it('on_update upserts provisional rows per batch, then the final row at close', () => {
    const p = plan(`-- emit: on_update\n${COUNT_1M}`, rcatalog);
    const changes: RowChange[] = [];
    const engine = new Engine(rcatalog, [p], { result: (_p, c) => changes.push(c) });
    engine.process('orders', [rec(0, 'a', t('30:10'), { r: 'x' }), rec(1, 'b', t('30:20'), { r: 'x' })]);
    engine.process('orders', [rec(2, 'c', t('30:30'), { r: 'x' })]);
    engine.endOfInput();
    expect(changes.map((c) => [c.final, c.values?.[2]])).toEqual([[false, 2], [false, 3], [true, 3]]);
  });

  it('on_update with top-N deletes a row that drops out of the top', () => {
    const p = plan(`-- emit: on_update
      CREATE VIEW m AS SELECT window_start, r, n FROM (
        SELECT window_start, data.r AS r, COUNT(*) AS n, ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY COUNT(*) DESC) AS rn
        FROM TUMBLE(orders, eventTime, INTERVAL '1 minute') GROUP BY window_start, data.r) WHERE rn <= 1`, rcatalog);
    const changes: RowChange[] = [];
    const engine = new Engine(rcatalog, [p], { result: (_p, c) => changes.push(c) });
    engine.process('orders', [rec(0, 'a', t('30:10'), { r: 'x' })]);
    engine.process('orders', [rec(1, 'b', t('30:11'), { r: 'y' }), rec(2, 'c', t('30:12'), { r: 'y' })]);
    expect(changes.map((c) => [c.kind, c.values?.[1] ?? null])).toEqual([['upsert', 'x'], ['upsert', 'y'], ['delete', null]]);
  });
});

describe('bounded memory', () => {
  it('counts overflow past the open-group cap instead of growing', () => {
    const p = plan(COUNT_1M, rcatalog);
    const engine = new Engine(rcatalog, [p], { result: () => undefined }, { maxGroups: 2 });
    engine.process('orders', [0, 1, 2, 3].map((i) => rec(i, `e${i}`, t('30:10'), { r: `k${i}` })));
    expect(engine.stateSize().m?.groups).toBe(2);
    expect(engine.stats().metrics.m?.overflow).toBe(2);
    engine.endOfInput();
    expect(engine.stateSize().m?.groups).toBe(0); // freed at close
  });
});

describe('checkpoints', () => {
  it('snapshot, restore into a fresh engine and continue gives the rows of an uninterrupted run', () => {
    const orders = catalogOf(ORDERS_YAML);
    const sqls = [
      `CREATE VIEW a AS SELECT window_start, data.restaurantId AS r, COUNT(*) AS n, SUM(data.orderTotal) AS s, approx_count_distinct(data.customerId) AS u, quantile_cont(data.orderTotal, 0.9) AS p90 FROM TUMBLE(orders, eventTime, INTERVAL '1 minute') GROUP BY window_start, data.restaurantId`,
      `-- emit: on_update\nCREATE VIEW b AS SELECT window_start, window_end, data.customerId AS c, COUNT(*) AS n FROM SESSION(orders, eventTime, INTERVAL '2 minutes') GROUP BY window_start, window_end, data.customerId`,
      `CREATE VIEW c AS SELECT window_start, window_end, data.restaurantId AS r, COUNT(*) AS n, SUM(data.orderTotal) AS s FROM CUMULATE(orders, eventTime, INTERVAL '1 minute', INTERVAL '5 minutes', INTERVAL '-2 minutes') GROUP BY window_start, window_end, data.restaurantId`,
    ];
    const plans = sqls.map((s) => plan(s, orders));
    const records = generate('food-delivery', 3000, { seed: 7, ratePerSec: 5, duplicateRate: 0.1, lateRate: 0.05, malformedRate: 0.02 })
      .map((r, i) => ({ partition: 0, offset: i, value: r.value }));
    const run = (cut: number | undefined): ResultCollector => {
      const results = new ResultCollector();
      const sink = { result: (pl: typeof plans[number], c: RowChange) => results.apply(pl, c) };
      let engine = new Engine(orders, plans, sink);
      for (let i = 0; i < records.length; i += 100) {
        engine.process('orders', records.slice(i, i + 100), 0);
        if (cut !== undefined && i === cut) {
          // "Crash": only the JSON snapshot survives; a new engine restores and continues.
          const snap = JSON.parse(JSON.stringify(engine.snapshot())) as EngineSnapshot;
          engine = new Engine(orders, plans, sink);
          expect(engine.restore(snap, 0)).toEqual([]);
        }
      }
      engine.endOfInput();
      return results;
    };
    const whole = run(undefined);
    for (const cut of [0, 700, 1500, 2900]) {
      const resumed = run(cut);
      for (const p of plans) expect(resumed.rows(p)).toEqual(whole.rows(p));
    }
  });

  it('does not restore state into a metric whose definition changed', () => {
    const { engine } = setup(COUNT_1M.replace(/data\.r\b/g, 'data.restaurantId'));
    engine.process('orders', [rec(0, 'a', t('30:10'))]);
    const snap = engine.snapshot();
    const changed = setup(COUNT_1M.replace(/data\.r\b/g, 'data.restaurantId').replace('COUNT(*) AS n', 'COUNT(*) AS cnt'));
    expect(changed.engine.restore(snap, 0)).toEqual(['m']);
  });
});

describe('dedup', () => {
  it('forgets ids past the TTL and evicts the oldest past the cap, counting evictions', async () => {
    const { DedupFilter } = await import('../../src/hot/dedup.js');
    const d = new DedupFilter(1000, 3);
    expect(d.isDuplicate(0, 'a', 0)).toBe(false);
    expect(d.isDuplicate(0, 'a', 5)).toBe(true);
    expect(d.isDuplicate(1, 'a', 5)).toBe(false); // partitions are separate
    d.expire(1000); // a@0 expires at 0 + 1000
    expect(d.isDuplicate(0, 'a', 1001)).toBe(false);
    for (const id of ['b', 'c', 'd']) d.isDuplicate(0, id, 1500);
    expect(d.size()).toBe(4); // 3 on partition 0 after evicting 'a', 1 on partition 1
    expect(d.evicted).toBe(1);
    const restored = new DedupFilter(1000, 3);
    restored.restore(JSON.parse(JSON.stringify(d.snapshot())));
    expect(restored.isDuplicate(0, 'c', 1600)).toBe(true);
    expect(restored.isDuplicate(0, 'a', 1600)).toBe(false);
  });

  it('stays O(1) per id when the cap evicts continuously', async () => {
    const { DedupFilter } = await import('../../src/hot/dedup.js');
    const d = new DedupFilter(3_600_000, 10_000);
    for (let i = 0; i < 300_000; i++) d.isDuplicate(0, `e${i}`, i);
    expect(d.size()).toBe(10_000);
    expect(d.evicted).toBe(290_000);
  });
});

describe('records whose key belongs on another partition (another producer partitioner)', () => {
  it('are counted as misrouted and deduplicated against the partition their key belongs on', () => {
    const catalog = catalogOf(ORDERS_YAML);
    const metric = plan("CREATE VIEW n AS SELECT window_start, COUNT(*) AS n FROM TUMBLE(orders, eventTime, INTERVAL '1 minute') GROUP BY window_start", catalog);
    const rows: unknown[] = [];
    const engine = new Engine(catalog, [metric], { result: (_p, c) => { rows.push(c); } });
    const value = JSON.stringify({ eventId: 'dup-1', eventTime: '2024-03-15T19:00:00Z', data: {} });
    engine.process('orders', [
      { partition: 0, offset: 0, value, keyPartition: 1 }, // a CRC32 producer put it on 0; its key belongs on 1
      { partition: 0, offset: 1, value, keyPartition: 1 },
      { partition: 1, offset: 0, value }, // the same event from a murmur2 producer
    ]);
    engine.endOfInput();
    expect(engine.stats().streams.orders).toMatchObject({ events: 3, accepted: 1, duplicates: 2, misrouted: 2 });
  });
});
