/**
 * Property: for random streams (out of order, duplicates, late events, bad payloads) and every
 * sample metric, the hot path's final rows equal the planner's DuckDB SQL over the same
 * deduplicated events minus the late (event, window) pairs — exact for counts, integer sums,
 * MIN and MAX; 1e-9 relative for double sums and averages; sketch bounds for approx_*.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { loadQueries } from '../../src/plan/index.js';
import { generate, SCENARIO_STREAM, type Scenario } from '../../src/sources/generator.js';
import { diffRows, runColdExcludingLate, runHot } from '../support/parity.js';

const catalog = loadCatalog('catalog');
const plans = loadQueries('queries', catalog);

describe.each(['food-delivery', 'conference', 'esports', 'nexmark'] as Scenario[])('hot == cold on %s streams', (scenario) => {
  const stream = SCENARIO_STREAM[scenario];
  const metrics = plans.filter((p) => p.stream.name === stream);

  it(`agrees for ${metrics.map((m) => m.name).join(', ')}`, async () => {
    const seen = { late: 0, duplicates: 0, quarantined: 0, rows: 0 };
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
        const hot = runHot(catalog, metrics, stream, records);
        const st = hot.stats.streams[stream];
        seen.late += st?.late ?? 0;
        seen.duplicates += st?.duplicates ?? 0;
        seen.quarantined += st?.quarantined ?? 0;
        for (const rows of hot.rows.values()) seen.rows += rows.length;
        for (const plan of metrics) {
          const cold = await runColdExcludingLate(catalog, plan, records, hot.late.get(plan.name) ?? []);
          expect(diffRows(plan, hot.rows.get(plan.name) ?? [], cold), `seed ${opts.seed}`).toEqual([]);
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
  });
});
