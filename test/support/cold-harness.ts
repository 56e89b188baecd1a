/** Test harness: plan a metric from SQL text against an inline catalog and run it in DuckDB. */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { compilePayloadValidator, parseCatalogFile, type Catalog, type StreamDef, type ValidEvent } from '../../src/catalog/index.js';
import type { CatalogError } from '../../src/errors.js';
import { appendEvents, compileDuckDb, createEventsTable, runCompiled } from '../../src/cold/index.js';
import { buildPlan, type MetricPlan } from '../../src/plan/index.js';
import { parseQuery } from '../../src/sql/index.js';
import type { ResultRow } from '../../src/util/result-row.js';

export const ORDERS_YAML = `
name: orders
event_id: eventId
event_time: eventTime
watermark_delay: 5s
fields:
  eventId: { type: string, required: true }
  eventType: { type: string }
  eventTime: { type: timestamp, required: true }
  data.restaurantId: { type: string }
  data.orderTotal: { type: double }
  data.items: { type: int }
  data.customerId: { type: string }
  data.vip: { type: boolean }
`;

export function catalogOf(...yamls: string[]): Catalog {
  const errors: CatalogError[] = [];
  const streams = new Map<string, StreamDef>();
  yamls.forEach((y, i) => {
    const s = parseCatalogFile(`test-${i}.yaml`, y, errors);
    if (s) streams.set(s.name, s);
  });
  if (errors.length) throw errors[0] as CatalogError;
  return { dir: 'test', streams };
}

export function plan(sql: string, catalog: Catalog): MetricPlan {
  return buildPlan(parseQuery('metric.sql', sql), catalog);
}

/** Validates raw payloads (all must be valid) into events, in arrival order. */
export function events(stream: StreamDef, payloads: readonly Record<string, unknown>[]): ValidEvent[] {
  const validate = compilePayloadValidator(stream);
  return payloads.map((p) => {
    const r = validate(p);
    if (!r.ok) throw new Error(`test payload invalid: ${r.reason}`);
    return r;
  });
}

let conn: DuckDBConnection | undefined;

/** Runs `sql` over `payloads` (arrival order) in DuckDB and returns the result rows. */
export async function runCold(sql: string, catalog: Catalog, payloads: readonly Record<string, unknown>[]): Promise<ResultRow[]> {
  conn ??= await (await DuckDBInstance.create(':memory:')).connect();
  const p = plan(sql, catalog);
  await createEventsTable(conn, p.stream);
  await appendEvents(conn, p.stream, events(p.stream, payloads));
  return runCompiled(conn, p, compileDuckDb(p));
}

/** `2024-03-15T19:MM:SS.000Z` shorthand. */
export const t = (mmss: string): string => `2024-03-15T19:${mmss}.000Z`;
