/** Arrow IPC on /rows: `Accept: application/vnd.apache.arrow.stream` decodes to the JSON rows. */
import { DataType, tableFromIPC, type Table } from 'apache-arrow';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../../src/serve/server.js';
import type { ResultRow } from '../../src/util/result-row.js';
import { fixture, plans } from './serve-harness.js';

const ARROW = 'application/vnd.apache.arrow.stream';
let app: FastifyInstance;

beforeAll(async () => {
  const f = fixture({ close: false, generator: { duplicateRate: 0.02 } });
  f.engine.endOfInput();
  ({ app } = await createServer({ store: f.store, handle: f.handle }));
});
afterAll(async () => { await app.close(); });

/** Arrow values back to the JSON forms: Int64 bigint → number, timestamp ms → ISO-8601. */
function rowsOf(table: Table): ResultRow[] {
  const out: ResultRow[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: ResultRow = {};
    for (const field of table.schema.fields) {
      const v: unknown = table.getChild(field.name)?.get(i);
      row[field.name] = v === null || v === undefined ? null
        : DataType.isTimestamp(field.type) ? new Date(Number(v)).toISOString()
          : typeof v === 'bigint' ? Number(v) : v as string | number | boolean;
    }
    out.push(row);
  }
  return out;
}

describe('Arrow IPC rows', () => {
  it('every metric with rows: same rows, typed columns, same cursor as JSON', async () => {
    const withRows = plans.filter((p) => ['courier_sessions', 'order_funnel_1m', 'restaurant_orders_5m', 'top_restaurants_10m'].includes(p.name));
    for (const p of withRows) {
      for (const q of ['limit=1000', 'limit=7', 'limit=7&cursor=7', `limit=5&${p.columns[2]?.name}=${p.name === 'order_funnel_1m' ? '0' : 'r1'}`]) {
        const url = `/v1/metrics/${p.name}/rows?${q}`;
        const json = (await app.inject({ method: 'GET', url })).json<{ rows: ResultRow[]; nextCursor: string | null }>();
        const r = await app.inject({ method: 'GET', url, headers: { accept: ARROW } });
        expect(r.statusCode).toBe(200);
        expect(r.headers['content-type']).toBe(ARROW);
        expect(r.headers['x-pitwall-next-cursor']).toBe(json.nextCursor ?? '');
        const table = tableFromIPC(r.rawPayload);
        expect(table.schema.fields.map((f) => f.name)).toEqual([...p.columns.map((c) => c.name), 'final']); // final: the window is closed
        p.columns.forEach((c, i) => {
          const t = table.schema.fields[i]?.type;
          const ok = { int: DataType.isInt, double: DataType.isFloat, string: DataType.isUtf8, boolean: DataType.isBool, timestamp: DataType.isTimestamp, null: DataType.isUtf8 }[c.type];
          expect(ok(t), `${p.name}.${c.name}: ${String(t)}`).toBe(true);
          if (c.type === 'int') expect((t as { bitWidth: number }).bitWidth).toBe(64);
        });
        expect(table.numRows, url).toBe(json.rows.length);
        expect(rowsOf(table), url).toEqual(json.rows);
      }
    }
  });

  it('an empty page is a valid stream with the schema and no rows', async () => {
    const r = await app.inject({ method: 'GET', url: '/v1/metrics/team_damage_30s/rows', headers: { accept: `${ARROW}, application/json;q=0.5` } });
    expect(r.statusCode).toBe(200);
    const table = tableFromIPC(r.rawPayload);
    expect(table.numRows).toBe(0);
    expect(table.schema.fields.map((f) => f.name)).toEqual([...(plans.find((p) => p.name === 'team_damage_30s')?.columns.map((c) => c.name) ?? []), 'final']);
  });

  it('errors stay JSON even when Arrow is asked for', async () => {
    const r = await app.inject({ method: 'GET', url: '/v1/metrics/nope/rows', headers: { accept: ARROW } });
    expect(r.statusCode).toBe(404);
    expect(r.json<{ error: { code: string } }>().error.code).toBe('PW_SERVE_UNKNOWN_METRIC');
  });
});
