/**
 * Which metrics `pitwall run` runs: a metric joining an external lookup runs (the enrichment
 * stage of the single runner and of each member thread) and one joining a reference table is
 * left out. The demo leaves lookups out; its PW_RUN_JOIN warning says where lookups run.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { lookupJoinWarning, withoutLookupJoins, withoutTableJoins } from '../../src/cli/load-definitions.js';
import { loadQueries } from '../../src/plan/index.js';
import { enrichmentCatalog, lookupPlan } from '../hot/enrichment/fixture.js';

describe('metrics pitwall run runs', () => {
  it('keeps external lookups, and leaves reference-table joins out', () => {
    const lookup = lookupPlan(enrichmentCatalog(1).catalog);
    const tableJoins = loadQueries('queries', loadCatalog('catalog')).filter((p) => withoutLookupJoins([p]).joined.length > 0);
    expect(tableJoins.length).toBeGreaterThan(0);
    const run = withoutTableJoins([lookup, ...tableJoins]);
    expect(run.plans.map((p) => p.name)).toEqual([lookup.name]);
    expect(run.joined).toEqual(tableJoins);
    expect(withoutLookupJoins([lookup]).joined).toEqual([lookup]);
    const warning = lookupJoinWarning(lookup);
    expect(warning).toMatch(/^PW_RUN_JOIN: /);
    expect(warning).toContain('`pitwall run`');
    expect(warning).toContain('not in the demo');
    expect(warning).not.toContain('--single');
  });
});
