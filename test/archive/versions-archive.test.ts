/**
 * The archive of a stream with catalog `versions`: typed columns at the declared paths whatever
 * the event's version, the JSON column in the producer's layout, and PII treated where each
 * version carries the field.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../src/archive/archive-writer.js';
import { piiHash } from '../../src/archive/pii.js';
import { compilePayloadValidator } from '../../src/catalog/index.js';
import { catalogOf } from '../support/cold-harness.js';

const YAML = `
name: orders
event_id: eventId
event_time: eventTime
fields:
  eventId: { type: string, required: true }
  eventTime: { type: timestamp, required: true }
  eventVersion: { type: int }
  data.prepSeconds: { type: double }
  data.customerId: { type: string, pii: hash }
  data.address: { type: string, pii: drop }
versions:
  1: {}
  2:
    data.prepSeconds: data.prep.seconds
    data.customerId: data.customer.id
    data.address: data.customer.address
`;

describe('archive of versioned events', () => {
  it('typed columns at declared paths, the payload as sent, PII hashed or dropped where each version carries it', async () => {
    const catalog = catalogOf(YAML);
    const stream = catalog.streams.get('orders');
    if (!stream) throw new Error('no stream');
    const validate = compilePayloadValidator(stream);
    const payloads = [
      { eventId: 'a', eventTime: 1710531000000, eventVersion: 1, data: { prepSeconds: 30, customerId: 'alice', address: '1 Main St' } },
      { eventId: 'b', eventTime: 1710531001000, eventVersion: 2, data: { prep: { seconds: 45 }, customer: { id: 'bob', address: '2 High St' } } },
    ];
    const dir = mkdtempSync(join(tmpdir(), 'pw-arch-versions-'));
    const writer = new ArchiveWriter(dir, catalog, { piiKey: 'secret', threads: 0 });
    writer.open();
    payloads.forEach((p, i) => {
      const v = validate(p);
      if (!v.ok) throw new Error(v.reason);
      writer.accepted(stream, v, { partition: 0, offset: i }, JSON.stringify(p));
    });
    await writer.close();
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    const rows = (await conn.runAndReadAll(`SELECT _pw_event_id AS id, data.prepSeconds AS prep, data.customerId AS customer, _pw_payload
      FROM read_parquet('${dir}/orders/**/*.parquet', hive_partitioning = true) ORDER BY _pw_offset`)).getRowObjectsJson() as Record<string, string>[];
    conn.closeSync();
    expect(rows.map((r) => [r.id, r.prep, r.customer])).toEqual([['a', 30, piiHash('secret', 'alice')], ['b', 45, piiHash('secret', 'bob')]]);
    expect(JSON.parse(rows[0]?._pw_payload ?? '')).toEqual({ ...payloads[0], data: { prepSeconds: 30, customerId: piiHash('secret', 'alice') } });
    // Version 2 stays in its own layout; its customer id is hashed and its address dropped there.
    expect(JSON.parse(rows[1]?._pw_payload ?? '')).toEqual({ ...payloads[1], data: { prep: { seconds: 45 }, customer: { id: piiHash('secret', 'bob') } } });
  });
});
