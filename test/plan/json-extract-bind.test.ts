/**
 * Binding json_extract_string: the stream name or FROM alias as the whole payload, paths into
 * PII fields refused (the archive keeps them hashed or dropped, live events as sent).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { PitwallError } from '../../src/errors.js';
import { buildPlan } from '../../src/plan/index.js';
import { parseQuery } from '../../src/sql/index.js';

const catalog = loadCatalog(join(import.meta.dirname, '..', '..', 'catalog'));

function planError(where: string): PitwallError | undefined {
  const sql = `CREATE VIEW v AS\nSELECT window_start, COUNT(*) AS n\nFROM TUMBLE(orders, eventTime, INTERVAL '1 minute') AS o\nWHERE ${where}\nGROUP BY window_start;`;
  try {
    buildPlan(parseQuery('v.sql', sql), catalog);
  } catch (err) {
    if (err instanceof PitwallError) return err;
    throw err;
  }
  return undefined;
}

describe('json_extract_string binding', () => {
  it('takes the stream name or its alias, and paths outside PII fields', () => {
    expect(planError("json_extract_string(orders, '$.data.restaurantId') = 'r1'")).toBeUndefined();
    expect(planError("json_extract_string(o, '$.data.items[0].sku') = 'A-1'")).toBeUndefined();
  });
  it.each([
    ["json_extract_string(o, '$.data.customerId') = 'c'", 'PW_PLAN_JSON_PATH', "reads PII field 'data.customerId'"],
    ["json_extract_string(o, '$.data') = 'c'", 'PW_PLAN_JSON_PATH', "reads PII field 'data.customerId'"],
    ["json_extract_string(o, '$.data.deliveryAddress.city') = 'c'", 'PW_PLAN_JSON_PATH', "reads PII field 'data.deliveryAddress'"],
    ["json_extract_string(o, '$.data[0]') = 'c'", 'PW_PLAN_JSON_PATH', "reads PII field 'data.customerId'"],
    ["json_extract_string(data, '$.a') = 'c'", 'PW_PLAN_ARGUMENTS', 'must be the stream name or its FROM alias (orders or o)'],
  ])('refuses %s', (where, code, message) => {
    const err = planError(where);
    expect(err?.code).toBe(code);
    expect(err?.message).toContain(message);
  });
});
