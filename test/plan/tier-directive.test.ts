/**
 * The `-- tier:` directive: parsed next to `-- emit:`, carried in the plan, shown by EXPLAIN
 * when not the default, and left out of the definition hash (a tier decides when the hot path
 * computes a metric, never what its rows hold).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { PlanError } from '../../src/errors.js';
import { buildPlan, explainPlan } from '../../src/plan/index.js';
import { parseQuery } from '../../src/sql/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const catalog = loadCatalog(join(here, 'fixtures', 'catalog'));
const body = `CREATE VIEW per_minute AS
SELECT window_start, COUNT(*) AS n
FROM TUMBLE(clicks, ts, INTERVAL '1 minute')
GROUP BY window_start;
`;

describe('-- tier:', () => {
  it('defaults to standard and reads each tier in any case, with emit before or after', () => {
    expect(parseQuery('m.sql', body).tier).toBe('standard');
    expect(parseQuery('m.sql', `-- tier: batch\n${body}`).tier).toBe('batch');
    expect(parseQuery('m.sql', `-- emit: on_update\n--tier:CRITICAL\n${body}`)).toMatchObject({ tier: 'critical', emit: 'on_update' });
    expect(parseQuery('m.sql', `-- tier: standard\n-- emit: on_update\n${body}`)).toMatchObject({ tier: 'standard', emit: 'on_update' });
  });

  it('is read only in the leading comments', () => {
    expect(parseQuery('m.sql', `${body}-- tier: batch\n`).tier).toBe('standard');
  });

  it('refuses an unknown tier with PW_SQL_TIER at the value', () => {
    let err: unknown;
    try { parseQuery('m.sql', `-- emit: on_update\n--  tier:  bulk\n${body}`); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(PlanError);
    expect((err as PlanError).code).toBe('PW_SQL_TIER');
    expect((err as PlanError).message).toContain("unknown tier 'bulk'");
    expect((err as PlanError).position).toMatchObject({ file: 'm.sql', line: 2, col: 12 });
  });

  it('is carried in the plan, shown by EXPLAIN when not standard, and leaves the hash alone', () => {
    const plain = buildPlan(parseQuery('m.sql', body), catalog);
    const batch = buildPlan(parseQuery('m.sql', `-- tier: batch\n${body}`), catalog);
    expect(batch.tier).toBe('batch');
    expect(batch.hash).toBe(plain.hash);
    expect(explainPlan(batch).split('\n')[0]).toContain('[emit=on_window_close, tier=batch, hash=');
    expect(explainPlan(plain).split('\n')[0]).not.toContain('tier=');
    // Anything else in the text still changes the hash.
    expect(buildPlan(parseQuery('m.sql', `-- tier: batch\n${body.replace('COUNT(*)', 'COUNT(ts)')}`), catalog).hash).not.toBe(plain.hash);
  });
});
