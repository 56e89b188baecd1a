/**
 * The binder rejects whatever part of a statement it did not read (src/sql/ast-usage.ts,
 * src/plan/reject-unread.ts): structurally, for any property of the parsed tree, not from a list
 * of constructs. The fixtures/fail files cover constructs users write (COLLATE, window frames,
 * CREATE OR REPLACE, VARCHAR(n), …); here the mechanism itself, and a property no parser
 * version has today.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { PlanError } from '../../src/errors.js';
import { buildPlan } from '../../src/plan/index.js';
import { AstUsage, rawAst } from '../../src/sql/ast-usage.js';
import { parseQuery } from '../../src/sql/index.js';

const catalog = loadCatalog(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'catalog'));

describe('AstUsage', () => {
  const tree = (): Record<string, unknown> => ({
    type: 'select',
    loc: { start: { offset: 7 } },
    parentheses: true,
    where: { type: 'binary_expr', operator: '=', left: { type: 'column_ref', column: 'a' }, right: { type: 'number', value: 1 }, collate: null },
    options: null,
    limit: { separator: '', value: [] },
    extra: { type: 'fancy', value: 'x' },
  });

  it('reports every property holding something that was not read, at the nearest located node', () => {
    const usage = new AstUsage(tree());
    const root = usage.root as { where: { operator: unknown; left: { column: unknown } } };
    void root.where.operator;
    void root.where.left.column;
    expect(usage.unread().map((u) => [u.key, u.value, u.nearOffset])).toEqual([
      ['extra', { type: 'fancy', value: 'x' }, 7],
      ['right', { type: 'number', value: 1 }, 7],
    ]);
  });

  it('empty values (null, false, \'\', empty lists and objects of such), loc and parentheses need no reading', () => {
    const usage = new AstUsage({ type: 'x', a: null, b: false, c: '', d: [], e: { f: null, g: [] }, loc: { start: { offset: 1 } }, parentheses: true });
    expect(usage.unread()).toEqual([{ node: expect.anything(), key: 'type', value: 'x', nearOffset: 1 }]);
  });

  it("a node's type counts as read once anything else of it is", () => {
    const usage = new AstUsage({ type: 'expr', expr: { type: 'number', value: 1 } });
    void (usage.root as { expr: { value: unknown } }).expr.value;
    expect(usage.unread()).toEqual([]);
  });

  it('reads through rawAst are not recorded; the same object always gets the same view', () => {
    const usage = new AstUsage({ where: { type: 'x', value: 1 } });
    const root = usage.root as { where: { value: unknown } };
    void rawAst(root.where).value;
    expect(usage.unread().map((u) => u.key)).toEqual(['type', 'value']);
    expect(root.where).toBe(root.where);
  });
});

describe('the planner rejects what it did not read', () => {
  const text = `CREATE VIEW m AS
SELECT window_start, COUNT(*) AS n
FROM TUMBLE(clicks, ts, INTERVAL '1 minute')
WHERE kind = 'buy'
GROUP BY window_start;
`;

  it('a property a future parser might add to a WHERE comparison is rejected at the comparison', () => {
    const query = parseQuery('m.sql', text);
    const where = rawAst(query.select).where as Record<string, unknown>;
    where.quantifier = 'ANY';
    let err: unknown;
    try { buildPlan(query, catalog); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(PlanError);
    expect(err).toMatchObject({ code: 'PW_PLAN_UNSUPPORTED', position: { file: 'm.sql', line: 4, col: 7 } });
    expect((err as PlanError).detail).toBe(`unsupported SQL at "kind = 'buy'" (quantifier): pitwall's dialect has no meaning for it here, and a metric never runs with part of its SQL ignored; remove it or rewrite the metric`);
  });

  it('the same metric without it plans', () => {
    expect(buildPlan(parseQuery('m.sql', text), catalog).name).toBe('m');
  });
});
