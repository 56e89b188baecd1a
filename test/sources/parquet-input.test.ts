/** Replay reads Parquet inputs (nested structs, typed columns) exactly as it reads NDJSON. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { replay } from '../../src/hot/replay.js';
import { loadQueries } from '../../src/plan/index.js';
import { generate } from '../../src/sources/generator.js';

describe('Parquet replay input', () => {
  it('gives the same rows and counts as the same events in NDJSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-pq-'));
    const ndjson = join(dir, 'orders.ndjson');
    const parquet = join(dir, 'orders.parquet');
    const records = generate('food-delivery', 4000, { seed: 17, ratePerSec: 5, duplicateRate: 0.05, lateRate: 0.02 });
    writeFileSync(ndjson, records.map((r) => r.value).join('\n'));
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    await conn.run(`COPY (SELECT * FROM read_json('${ndjson}', format = 'newline_delimited')) TO '${parquet}' (FORMAT parquet)`);
    const types = (await conn.runAndReadAll(`SELECT typeof(data), typeof(eventTime) FROM read_parquet('${parquet}') LIMIT 1`)).getRows()[0];
    conn.closeSync();
    expect(String(types?.[0])).toMatch(/^STRUCT\(/); // nested payload kept as a struct
    const catalog = loadCatalog('catalog');
    const plans = loadQueries('queries', catalog).filter((p) => p.stream.name === 'orders');
    const a = await replay(catalog, plans, [{ stream: 'orders', file: ndjson }], join(dir, 'a'));
    const b = await replay(catalog, plans, [{ stream: 'orders', file: parquet }], join(dir, 'b'));
    expect(b.streams).toEqual(a.streams);
    expect(a.streams.orders?.quarantined).toBe(0);
    for (const p of plans) {
      expect(readFileSync(join(dir, 'b', `${p.name}.ndjson`), 'utf8'), p.name).toBe(readFileSync(join(dir, 'a', `${p.name}.ndjson`), 'utf8'));
    }
  });
});
