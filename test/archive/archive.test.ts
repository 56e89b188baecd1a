/** The archive: round trip through Parquet, crash safety, idempotence, PII, retention. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../src/archive/archive-writer.js';
import { Manifest } from '../../src/archive/manifest.js';
import { loadCatalog } from '../../src/catalog/index.js';
import { loadQueries } from '../../src/plan/index.js';
import { replay } from '../../src/hot/replay.js';
import { generate } from '../../src/sources/generator.js';
import { catalogOf, events } from '../support/cold-harness.js';
import { PROCESS_TEST_TIMEOUT_MS } from '../support/process-timeout.js';

const YAML = `
name: orders
event_id: eventId
event_time: eventTime
retention: 2h
fields:
  eventId: { type: string, required: true }
  eventTime: { type: timestamp, required: true }
  eventType: { type: string }
  data.restaurantId: { type: string }
  data.orderTotal: { type: double }
  data.items: { type: int }
  data.vip: { type: boolean }
  data.deliveredAt: { type: timestamp }
  data.customerId: { type: string, pii: hash }
  data.address: { type: string, pii: drop }
`;

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  try { return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]; } finally { conn.closeSync(); }
}

describe('archive round trip', () => {
  it.each([{ threads: 1 as const, on: 'a worker thread' }, { threads: 0 as const, on: 'the calling thread' }])('returns every accepted event field for field, nested fields as structs, PII hashed or dropped (segments written on $on)', async ({ threads }) => {
    const catalog = catalogOf(YAML);
    const stream = catalog.streams.get('orders');
    if (!stream) throw new Error('no stream');
    const payloads = [
      { eventId: 'a', eventTime: '2024-03-15T19:30:00.250Z', eventType: 'order.created', extra: { kept: true }, data: { restaurantId: 'r1', orderTotal: 12.5, items: 3, vip: true, deliveredAt: '2024-03-15T20:00:00Z', customerId: 'alice', address: '1 Main St' } },
      { eventId: 'b', eventTime: 1710531000000, data: null },
      { eventId: 'c', eventTime: '2024-03-15T21:05:00Z', data: { restaurantId: null, items: -7 } },
    ];
    const dir = mkdtempSync(join(tmpdir(), 'pw-arch-'));
    const writer = new ArchiveWriter(dir, catalog, { piiKey: 'secret', threads });
    writer.open();
    events(stream, payloads).forEach((e, i) => writer.accepted(stream, e, { partition: 2, offset: 100 + i }));
    await writer.close();
    const rows = await query(`SELECT _pw_partition, _pw_offset, _pw_event_id, epoch_ms(_pw_time) AS t, eventType, data, data.restaurantId AS r, date, hour, _pw_payload
      FROM read_parquet('${dir}/orders/**/*.parquet', hive_partitioning = true) ORDER BY _pw_offset`);
    expect(rows).toHaveLength(3);
    const [a, b, c] = rows as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    expect(a).toMatchObject({ _pw_partition: 2, _pw_offset: '100', _pw_event_id: 'a', t: '1710531000250', eventType: 'order.created', r: 'r1', date: '2024-03-15', hour: '19' });
    const data = a.data as Record<string, unknown>;
    expect(data).toMatchObject({ restaurantId: 'r1', orderTotal: 12.5, items: '3', vip: true, deliveredAt: '2024-03-15 20:00:00' });
    expect(data.customerId).toMatch(/^[0-9a-f]{32}$/); // keyed hash, not the name
    expect(data).not.toHaveProperty('address'); // dropped column
    const payload = JSON.parse(a._pw_payload as string) as { extra: unknown; data: Record<string, unknown> };
    expect(payload.extra).toEqual({ kept: true }); // fields outside the catalog are kept
    expect(payload.data.customerId).toBe(data.customerId);
    expect(payload.data).not.toHaveProperty('address');
    expect(b).toMatchObject({ _pw_event_id: 'b', t: '1710531000000', data: null, r: null });
    expect(c).toMatchObject({ hour: '21', r: null });
    expect((c.data as Record<string, unknown>).items).toBe('-7');
  });

  it('refuses to archive pii: hash fields without a key', () => {
    expect(() => new ArchiveWriter(mkdtempSync(join(tmpdir(), 'pw-arch-')), catalogOf(YAML))).toThrow(/PITWALL_PII_KEY/);
  });

  it('deletes whole hour partitions past retention, with their manifest lines', async () => {
    const catalog = catalogOf(YAML);
    const stream = catalog.streams.get('orders');
    if (!stream) throw new Error('no stream');
    const dir = mkdtempSync(join(tmpdir(), 'pw-arch-'));
    const writer = new ArchiveWriter(dir, catalog, { piiKey: 'k' });
    writer.open();
    events(stream, [{ eventId: 'old', eventTime: '2024-03-15T10:10:00Z' }, { eventId: 'new', eventTime: '2024-03-15T13:10:00Z' }])
      .forEach((e, i) => writer.accepted(stream, e, { partition: 0, offset: i }));
    await writer.flush();
    // retention 2h: at 14:30 the 10:00 hour (ends 11:00) is gone, the 13:00 hour stays.
    expect(writer.applyRetention(Date.parse('2024-03-15T14:30:00Z'))).toBe(1);
    expect(existsSync(join(dir, 'orders', 'date=2024-03-15', 'hour=10'))).toBe(false);
    expect(Manifest.read(dir).map((e) => e.hour)).toEqual(['date=2024-03-15/hour=13']);
  });
});

// Three `pitwall replay` processes end to end: the process-test timeout, not the unit default.
describe('archive crash safety', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('a writer killed between batch and rename leaves no partial segment, and a rerun archives each event once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-crash-'));
    const input = join(dir, 'orders.ndjson');
    const records = generate('food-delivery', 3000, { seed: 5, ratePerSec: 2, duplicateRate: 0.1, malformedRate: 0.02 });
    writeFileSync(input, records.map((r) => r.value).join('\n'));
    const archive = join(dir, 'archive');
    const args = ['bin/pitwall.js', 'replay', '--catalog', 'catalog', '--queries', 'queries', '--input', `orders=${input}`, '--out', join(dir, 'hot'), '--archive', archive];
    const env = { ...process.env, PITWALL_PII_KEY: 'k' };
    const crashed = spawnSync('node', args, { env: { ...env, PITWALL_FAILPOINT: 'archive-before-rename' }, encoding: 'utf8' });
    expect(crashed.signal).toBe('SIGKILL');
    const leftovers = readdirSync(archive, { recursive: true }).map(String);
    expect(leftovers.some((f) => f.includes('.tmp-'))).toBe(true); // the partial segment is there, under its temp name
    expect(Manifest.read(archive)).toEqual([]); // and the manifest does not list it
    execFileSync('node', args, { env, encoding: 'utf8' });
    const after = readdirSync(archive, { recursive: true }).map(String);
    expect(after.some((f) => f.includes('.tmp-'))).toBe(false);
    // Once more: everything is already archived, nothing is written twice.
    execFileSync('node', args, { env, encoding: 'utf8' });
    const [count] = await query(`SELECT count(*) AS n, count(DISTINCT _pw_event_id) AS ids FROM read_parquet('${archive}/orders/**/*.parquet', hive_partitioning = true)`);
    const accepted = JSON.parse(execFileSync('cat', [join(dir, 'hot', '_summary.json')], { encoding: 'utf8' })) as { streams: { orders: { accepted: number } } };
    expect(Number(count?.n)).toBe(accepted.streams.orders.accepted);
    expect(Number(count?.ids)).toBe(accepted.streams.orders.accepted);
  });
});

describe('replay vs recompute', () => {
  it('reconciles with zero unexplained differences; late-explained counts equal the late pairs exactly', async () => {
    const { recompute } = await import('../../src/cold/recompute.js');
    const { reconcile } = await import('../../src/reconcile/reconcile.js');
    const dir = mkdtempSync(join(tmpdir(), 'pw-rec-'));
    const queries = join(dir, 'queries');
    execFileSync('mkdir', ['-p', queries]);
    writeFileSync(join(queries, 'count_tumble.sql'), `CREATE VIEW count_tumble AS SELECT window_start, data.restaurantId AS r, COUNT(*) AS n FROM TUMBLE(orders, eventTime, INTERVAL '1 minute') GROUP BY window_start, data.restaurantId;`);
    writeFileSync(join(queries, 'count_hop.sql'), `CREATE VIEW count_hop AS SELECT window_start, window_end, COUNT(*) AS n FROM HOP(orders, eventTime, INTERVAL '1 minute', INTERVAL '3 minutes') GROUP BY window_start, window_end;`);
    for (const f of readdirSync('queries')) writeFileSync(join(queries, f), execFileSync('cat', [join('queries', f)], { encoding: 'utf8' }));
    const catalog = loadCatalog('catalog');
    const plans = loadQueries(queries, catalog);
    const input = join(dir, 'orders.ndjson');
    const records = generate('food-delivery', 6000, { seed: 9, ratePerSec: 3, jitterMs: 4000, duplicateRate: 0.08, lateRate: 0.05, lateByMs: 300_000, malformedRate: 0.02, keys: 8 });
    writeFileSync(input, records.map((r) => r.value).join('\n'));
    const archive = new ArchiveWriter(join(dir, 'archive'), catalog, { piiKey: 'k' });
    archive.open();
    const hot = await replay(catalog, plans, [{ stream: 'orders', file: input }], join(dir, 'hot'), { archive });
    expect(hot.streams.orders?.late).toBeGreaterThan(0);
    expect(hot.streams.orders?.duplicates).toBeGreaterThan(0);
    for (const [source, out] of [[{ inputs: [{ stream: 'orders', file: input }] }, 'cold-files'], [{ archive: join(dir, 'archive') }, 'cold-archive']] as const) {
      await recompute(catalog, plans, source, join(dir, out));
      const r = reconcile(plans, join(dir, 'hot'), join(dir, out), 'k');
      expect(r.unexplained, JSON.stringify(r.differences.filter((d) => d.class !== 'late').slice(0, 3))).toBe(0);
      for (const name of ['count_tumble', 'count_hop']) {
        const m = r.metrics.find((x) => x.metric === name);
        const missing = r.differences.filter((d) => d.metric === name).reduce((n, d) => n + (Number(d.cold?.n ?? 0) - Number(d.hot?.n ?? 0)), 0);
        expect(m?.latePairs).toBeGreaterThan(0);
        expect(missing, `${name} from ${out}`).toBe(m?.latePairs); // each late pair is exactly one row the hot path did not count
      }
    }
  });
});
