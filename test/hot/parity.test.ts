/**
 * Property: for random streams (out of order, duplicates, late events, bad payloads) and every
 * sample metric, the hot path's final rows equal the planner's DuckDB SQL over the same
 * deduplicated events minus the late (event, window) pairs — exact for counts, integer sums,
 * MIN and MAX; 1e-9 relative for double sums and averages; sketch bounds for approx_*. The
 * lookup-join sample joins a rooms table with versions changing mid-stream and a closed room.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { findNode, loadQueries } from '../../src/plan/index.js';
import { generate, SCENARIO_STREAM, type Scenario } from '../../src/sources/generator.js';
import { diffRows, runColdExcludingLate, runColdJoined, runHotSteps, type JoinStep } from '../support/parity.js';

const chunks = <T>(xs: readonly T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

const catalog = loadCatalog('catalog');
const plans = loadQueries('queries', catalog);

describe.each(['food-delivery', 'conference', 'esports', 'nexmark'] as Scenario[])('hot == cold on %s streams', (scenario) => {
  const stream = SCENARIO_STREAM[scenario];
  const metrics = plans.filter((p) => p.stream.name === stream);

  it(`agrees for ${metrics.map((m) => m.name).join(', ')}`, async () => {
    const seen = { late: 0, duplicates: 0, quarantined: 0, rows: 0, joinedRows: 0 };
    await fc.assert(fc.asyncProperty(
      fc.record({
        seed: fc.integer({ min: 1, max: 1_000_000 }),
        count: fc.integer({ min: 50, max: 4000 }),
        ratePerSec: fc.double({ min: 0.2, max: 50, noNaN: true }),
        jitterMs: fc.integer({ min: 0, max: 20_000 }),
        duplicateRate: fc.double({ min: 0, max: 0.2, noNaN: true }),
        lateRate: fc.double({ min: 0, max: 0.1, noNaN: true }),
        lateByMs: fc.integer({ min: 1000, max: 600_000 }),
        malformedRate: fc.double({ min: 0, max: 0.05, noNaN: true }),
        keys: fc.integer({ min: 1, max: 30 }),
      }),
      async (opts) => {
        const records = generate(scenario, opts.count, opts).map((r, i) => ({ partition: 0, offset: i, value: r.value }));
        // The rooms table (for the lookup-join sample): rooms known from the start, some renamed
        // and resized at the first event's time plus a minute, one closed (conference only).
        const first = records.map((r) => Date.parse(/"eventTime":"([^"]+)"/.exec(r.value)?.[1] ?? '')).find(Number.isFinite) ?? 0;
        const rooms = Array.from({ length: opts.keys }, (_, i) => [
          { roomId: `room${i}`, validFrom: new Date(first - 60_000).toISOString(), name: `Hall ${i % 4}`, capacity: 10 + i },
          ...(i % 3 === 0 ? [{ roomId: `room${i}`, validFrom: new Date(first + 60_000).toISOString(), name: `Hall ${i % 4}b`, capacity: 5 + i }] : []),
          ...(i === 1 ? [{ roomId: 'room1', validFrom: new Date(first + 120_000).toISOString(), deleted: true }] : []),
        ]).flat().map((r, i) => ({ partition: 0, offset: i, value: JSON.stringify(r) }));
        const steps: JoinStep[] = [{ source: 'rooms', records: rooms }, ...chunks(records, 500).map((c) => ({ source: stream, records: c }))];
        const hot = runHotSteps(catalog, metrics, steps);
        const st = hot.stats.streams[stream];
        seen.late += st?.late ?? 0;
        seen.duplicates += st?.duplicates ?? 0;
        seen.quarantined += st?.quarantined ?? 0;
        for (const rows of hot.rows.values()) seen.rows += rows.length;
        for (const plan of metrics) {
          const joined = findNode(plan.root, 'LookupJoinNode') ? await runColdJoined(catalog, plan, steps, hot) : undefined;
          const cold = joined?.rows ?? await runColdExcludingLate(catalog, plan, records, hot.late.get(plan.name) ?? []);
          expect(diffRows(plan, hot.rows.get(plan.name) ?? [], cold), `seed ${opts.seed}`).toEqual([]);
          if (joined) {
            expect(hot.misses.get(plan.name), `seed ${opts.seed}`).toBe(joined.misses);
            seen.joinedRows += hot.rows.get(plan.name)?.length ?? 0;
          }
        }
      },
    ), {
      numRuns: 25,
      // One long, disorderly stream always runs, so late events, duplicates and bad payloads
      // are exercised whatever the random draws are.
      examples: [[{ seed: 4242, count: 4000, ratePerSec: 0.5, jitterMs: 8000, duplicateRate: 0.1, lateRate: 0.08, lateByMs: 900_000, malformedRate: 0.03, keys: 6 }]],
    });
    // The generated streams really exercised the hard cases.
    expect(seen.late).toBeGreaterThan(0);
    expect(seen.duplicates).toBeGreaterThan(0);
    expect(seen.quarantined).toBeGreaterThan(0);
    expect(seen.rows).toBeGreaterThan(0);
    if (metrics.some((m) => findNode(m.root, 'LookupJoinNode'))) expect(seen.joinedRows).toBeGreaterThan(0);
  });
});
