/**
 * Which metrics `pitwall run` runs: under --single, a metric joining an external lookup runs
 * (the runner's enrichment stage) and one joining a reference table is left out; member threads
 * leave both out. The PW_RUN_JOIN warning for a lookup says where lookups run and what to do.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { lookupJoinWarning, withoutLookupJoins, withoutTableJoins } from '../../src/cli/load-definitions.js';
import { loadQueries } from '../../src/plan/index.js';
import { enrichmentCatalog, lookupPlan } from '../hot/enrichment/fixture.js';

describe('metrics pitwall run runs', () => {
  it('keeps external lookups under --single only, and leaves reference-table joins out', () => {
    const lookup = lookupPlan(enrichmentCatalog(1).catalog);
    const tableJoins = loadQueries('queries', loadCatalog('catalog')).filter((p) => withoutLookupJoins([p]).joined.length > 0);
    expect(tableJoins.length).toBeGreaterThan(0);
    const single = withoutTableJoins([lookup, ...tableJoins]);
    expect(single.plans.map((p) => p.name)).toEqual([lookup.name]);
    expect(single.joined).toEqual(tableJoins);
    expect(withoutLookupJoins([lookup]).joined).toEqual([lookup]);
    const warning = lookupJoinWarning(lookup);
    expect(warning).toMatch(/^PW_RUN_JOIN: /);
    expect(warning).toContain('`pitwall run --single`');
    expect(warning).toContain('run with --single');
  });
});
