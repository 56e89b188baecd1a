/**
 * Two-phase aggregation across group members (src/hot/two-phase.ts), on a simulated group
 * (test/support/cluster-sim.ts) with 1, 2 and 3 members, partitions moving at flushes and
 * members crashing between them:
 * - every sample metric's rows equal the DuckDB cold path over the same deduplicated events
 *   minus the late pairs the group reported: nothing lost, nothing counted twice, late
 *   accounting exact, whatever the schedule;
 * - on streams where no event is late under any schedule, rows equal a single process's.
 * - with one member, TUMBLE/HOP rows and late pairs equal a single process's exactly;
 * - CUMULATE metrics (windows keyed by their end in partials and state) keep the same rules.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { PartialStage, partialsPartition } from '../../src/hot/two-phase.js';
import { buildPlan, loadQueries } from '../../src/plan/index.js';
import { parseQuery } from '../../src/sql/index.js';
import { generate, SCENARIO_STREAM, type Scenario } from '../../src/sources/generator.js';
import { runCluster } from '../support/cluster-sim.js';
import { withoutLookupJoins } from '../../src/cli/load-definitions.js';
import { diffRows, runColdExcludingLate, runHot } from '../support/parity.js';

const catalog = loadCatalog('catalog');
// A group runs no lookup joins: `pitwall run` leaves them out (cli/load-definitions.ts).
const plans = withoutLookupJoins(loadQueries('queries', catalog)).plans;
const P = 4;

function recordsOf(scenario: Scenario, count: number, opts: Parameters<typeof generate>[2]): { partition: number; offset: number; value: string }[] {
  const next = new Array<number>(P).fill(0);
  return generate(scenario, count, opts).map((r) => {
    const partition = partialsPartition(String(r.key), P);
    const offset = next[partition] as number;
    next[partition] = offset + 1;
    return { partition, offset, value: r.value };
  });
}

describe('partialsPartition', () => {
  it('spreads keys over every partition and is stable', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(partialsPartition(`k${i}`, 6));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(partialsPartition('restaurant-7', 6)).toBe(partialsPartition('restaurant-7', 6));
    expect(partialsPartition('anything', 1)).toBe(0);
  });
});

describe.each(['food-delivery', 'conference', 'esports', 'nexmark'] as Scenario[])('a group on %s streams', (scenario) => {
  const stream = SCENARIO_STREAM[scenario];
  const metrics = plans.filter((p) => p.stream.name === stream);

  it('loses nothing and counts nothing twice, with moves and crashes (rows == cold minus the group\'s late pairs)', async () => {
    const seen = { moves: 0, crashes: 0, late: 0, rows: 0 };
    await fc.assert(fc.asyncProperty(
      fc.record({
        seed: fc.integer({ min: 1, max: 1_000_000 }),
        members: fc.integer({ min: 1, max: 3 }),
        count: fc.integer({ min: 200, max: 2500 }),
        jitterMs: fc.integer({ min: 0, max: 20_000 }),
        duplicateRate: fc.double({ min: 0, max: 0.2, noNaN: true }),
        lateRate: fc.double({ min: 0, max: 0.1, noNaN: true }),
        keys: fc.integer({ min: 1, max: 30 }),
        clockMsPerStep: fc.constantFrom(0, 0, 2000, 10_000),
      }),
      async (o) => {
        const records = recordsOf(scenario, o.count, { seed: o.seed, ratePerSec: 5, jitterMs: o.jitterMs, duplicateRate: o.duplicateRate, lateRate: o.lateRate, lateByMs: 300_000, malformedRate: 0.02, keys: o.keys });
        const run = runCluster(catalog, metrics, stream, records, { members: o.members, inputPartitions: P, partialsPartitions: 3, seed: o.seed, moveRate: 0.05, crashRate: 0.02, clockMsPerStep: o.clockMsPerStep });
        seen.moves += run.moves;
        seen.crashes += run.crashes;
        expect(run.partialsAfterClose).toBe(0);
        // Every late pair is late in its own partition or by the idle rule, whatever moved or crashed.
        expect(run.unexplainedLate, `seed ${o.seed}, ${o.members} members`).toEqual([]);
        for (const plan of metrics) {
          const late = run.late.get(plan.name) ?? [];
          seen.late += late.length;
          seen.rows += run.rows.get(plan.name)?.length ?? 0;
          const cold = await runColdExcludingLate(catalog, plan, records, late);
          expect(diffRows(plan, run.rows.get(plan.name) ?? [], cold), `seed ${o.seed}, ${o.members} members`).toEqual([]);
        }
      },
    ), { numRuns: 12, examples: [
      [{ seed: 777, members: 3, count: 2500, jitterMs: 15_000, duplicateRate: 0.1, lateRate: 0.08, keys: 8, clockMsPerStep: 10_000 }],
      // A partials partition moved right after its owner consumed past its last commit.
      [{ seed: 10, members: 2, count: 1072, jitterMs: 0, duplicateRate: 0, lateRate: 0, keys: 1, clockMsPerStep: 0 }],
    ] });
    expect(seen.moves).toBeGreaterThan(0);
    expect(seen.crashes).toBeGreaterThan(0);
    expect(seen.late).toBeGreaterThan(0);
    expect(seen.rows).toBeGreaterThan(0);
  });

  it('gives a single process\'s rows with 1, 2 and 3 members when no event is late', () => {
    const delay = Math.min(...metrics.map((m) => m.stream.watermarkDelayMs));
    for (const seed of [11, 12]) {
      const records = recordsOf(scenario, 1500, { seed, ratePerSec: 5, jitterMs: Math.floor(delay / 2), duplicateRate: 0.05, lateRate: 0, malformedRate: 0.02, keys: 12 });
      const single = runHot(catalog, metrics, stream, records);
      for (const members of [1, 2, 3]) {
        const run = runCluster(catalog, metrics, stream, records, { members, inputPartitions: P, partialsPartitions: 3, seed, moveRate: 0.05, crashRate: 0.02 });
        for (const plan of metrics) {
          expect(run.late.get(plan.name) ?? [], `${plan.name}: no late pairs`).toEqual([]);
          expect(diffRows(plan, run.rows.get(plan.name) ?? [], single.rows.get(plan.name) ?? []), `${plan.name}, ${members} members, seed ${seed}`).toEqual([]);
        }
      }
    }
  });
});

describe('one member', () => {
  it('decides TUMBLE/HOP lateness exactly as a single process', () => {
    const scenario: Scenario = 'food-delivery';
    const stream = SCENARIO_STREAM[scenario];
    // SESSION lateness is judged where a key's events meet, against the watermark published at
    // flushes (hot/two-phase.ts): close to a session's close it can differ from one process's.
    const metrics = plans.filter((p) => p.stream.name === stream && p.window.type !== 'session');
    const records = recordsOf(scenario, 3000, { seed: 5, ratePerSec: 2, jitterMs: 12_000, duplicateRate: 0.05, lateRate: 0.08, lateByMs: 400_000, malformedRate: 0.02, keys: 10 });
    const single = runHot(catalog, metrics, stream, records, 1);
    const run = runCluster(catalog, metrics, stream, records, { members: 1, inputPartitions: P, partialsPartitions: 3, seed: 5, order: 'given' });
    let late = 0;
    for (const plan of metrics) {
      const key = (l: { eventId: string; windowStart: number }): string => `${l.eventId}@${l.windowStart}`;
      const a = (run.late.get(plan.name) ?? []).map(key).sort();
      const b = (single.late.get(plan.name) ?? []).map(key).sort();
      late += a.length;
      expect(a, plan.name).toEqual(b);
      expect(diffRows(plan, run.rows.get(plan.name) ?? [], single.rows.get(plan.name) ?? [])).toEqual([]);
    }
    expect(late).toBeGreaterThan(0);
  });
});

describe('CUMULATE across a group', () => {
  const stream = SCENARIO_STREAM['food-delivery'];
  const metrics = [
    buildPlan(parseQuery('orders_running.sql', `CREATE VIEW orders_running AS
SELECT window_start, window_end, data.restaurantId AS restaurant_id, COUNT(*) AS orders, SUM(data.orderTotal) AS revenue
FROM CUMULATE(orders, eventTime, INTERVAL '1 minute', INTERVAL '5 minutes', INTERVAL '-2 minutes')
GROUP BY window_start, window_end, data.restaurantId;`), catalog),
    buildPlan(parseQuery('top_running.sql', `CREATE VIEW top_running AS
SELECT * FROM (
  SELECT window_start, window_end, data.restaurantId AS restaurant_id, COUNT(*) AS orders,
         ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY COUNT(*) DESC) AS rn
  FROM CUMULATE(orders, eventTime, INTERVAL '2 minutes', INTERVAL '10 minutes')
  GROUP BY window_start, window_end, data.restaurantId) AS ranked
WHERE rn <= 3;`), catalog),
  ];

  it('loses nothing and counts nothing twice, with moves and crashes (rows == cold minus the group\'s late pairs)', async () => {
    const seen = { late: 0, rows: 0, crashes: 0 };
    await fc.assert(fc.asyncProperty(
      fc.record({ seed: fc.integer({ min: 1, max: 1_000_000 }), members: fc.integer({ min: 1, max: 3 }), count: fc.integer({ min: 200, max: 2000 }), lateRate: fc.double({ min: 0, max: 0.1, noNaN: true }) }),
      async (o) => {
        const records = recordsOf('food-delivery', o.count, { seed: o.seed, ratePerSec: 5, jitterMs: 10_000, duplicateRate: 0.05, lateRate: o.lateRate, lateByMs: 300_000, malformedRate: 0.02, keys: 8 });
        const run = runCluster(catalog, metrics, stream, records, { members: o.members, inputPartitions: P, partialsPartitions: 3, seed: o.seed, moveRate: 0.05, crashRate: 0.02, clockMsPerStep: 2000 });
        seen.crashes += run.crashes;
        expect(run.partialsAfterClose).toBe(0);
        expect(run.unexplainedLate).toEqual([]);
        for (const plan of metrics) {
          const late = run.late.get(plan.name) ?? [];
          seen.late += late.length;
          seen.rows += run.rows.get(plan.name)?.length ?? 0;
          expect(diffRows(plan, run.rows.get(plan.name) ?? [], await runColdExcludingLate(catalog, plan, records, late)), `seed ${o.seed}, ${o.members} members`).toEqual([]);
        }
      },
    ), { numRuns: 8, examples: [[{ seed: 777, members: 3, count: 2000, lateRate: 0.08 }]] });
    expect(seen.late).toBeGreaterThan(0);
    expect(seen.rows).toBeGreaterThan(0);
    expect(seen.crashes).toBeGreaterThan(0);
  });
});

describe('PartialStage.flush', () => {
  it('stamps its messages with when the first batch since the last flush arrived (for event→result latency)', () => {
    const stream = SCENARIO_STREAM['food-delivery'];
    const metrics = plans.filter((p) => p.stream.name === stream);
    const stage = new PartialStage(catalog, metrics, { result: () => undefined }, { partialsPartitions: () => 2 });
    stage.assign(stream, 0, undefined, 0);
    const records = generate('food-delivery', 40, { ratePerSec: 5 }).map((r, i) => ({ partition: 0, offset: i, value: r.value }));
    stage.process(stream, records.slice(0, 20), 1_000);
    stage.process(stream, records.slice(20), 1_500);
    const first = stage.flush(false, false).messages;
    expect(first.length).toBeGreaterThan(0);
    expect(first.every((m) => m.sinceMs === 1_000)).toBe(true);
    expect(stage.flush(false, false).messages.every((m) => m.sinceMs === undefined)).toBe(true); // nothing arrived since
  });
});
