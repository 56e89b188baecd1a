/**
 * Group members hand their accepted events to the main thread's archive as columnar chunks
 * (hot/member-protocol.ts AcceptedBatch, transferred, not cloned per event). The archive they
 * make is the one event-by-event hand-offs make: same rows, same manifest ranges, whether a
 * chunk goes to the segment writer whole or (spanning hours, or repeating offsets after a
 * member's reload) row by row.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../src/archive/archive-writer.js';
import type { EventChunk } from '../../src/archive/columnar.js';
import { Manifest } from '../../src/archive/manifest.js';
import { catalogOf } from '../support/cold-harness.js';

const catalog = catalogOf(`
name: orders
event_id: eventId
event_time: eventTime
fields:
  eventId: { type: string, required: true }
  eventTime: { type: timestamp, required: true }
  data.restaurantId: { type: string }
`);
const stream = catalog.streams.get('orders');
const T0 = Date.parse('2024-03-15T19:59:00.000Z');

interface Ev { partition: number; offset: number; t: number; raw: string }
const ev = (partition: number, offset: number, sec: number): Ev => ({ partition, offset, t: T0 + sec * 1000, raw: JSON.stringify({ eventId: `p${partition}-${offset}`, eventTime: new Date(T0 + sec * 1000).toISOString(), data: { restaurantId: `r${offset % 7}` } }) });

function chunkOf(events: readonly Ev[]): EventChunk {
  return {
    rows: events.length, joined: events.map((e) => e.raw).join(','), lengths: Int32Array.from(events.map((e) => e.raw.length)),
    partitions: Int32Array.from(events.map((e) => e.partition)), offsets: Float64Array.from(events.map((e) => e.offset)), times: Float64Array.from(events.map((e) => e.t)),
  };
}

async function rowsOf(dir: string): Promise<unknown[][]> {
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    return (await conn.runAndReadAll(`SELECT _pw_partition, _pw_offset, _pw_event_id, epoch_ms(_pw_time), hour, _pw_payload FROM read_parquet('${dir}/orders/**/*.parquet', hive_partitioning = true) ORDER BY 1, 2`)).getRows() as unknown[][];
  } finally {
    conn.closeSync();
  }
}

const ranges = (dir: string): unknown[] => Manifest.read(dir).filter((e) => e.lane === 'events').map((e) => [e.hour, e.rows, e.ranges]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('ArchiveWriter.acceptedChunk', () => {
  it('archives what event-by-event hand-offs archive: whole chunks, chunks across an hour, offsets repeated after a reload', async () => {
    if (!stream || stream.kind !== 'stream') throw new Error('no stream');
    const chunks: Ev[][] = [
      [ev(0, 0, 1), ev(1, 0, 2), ev(0, 1, 3), ev(1, 1, 4)], // one hour, rising offsets: whole
      [ev(0, 2, 50), ev(1, 2, 70), ev(0, 3, 75)], // 19:59:50 to 20:00:15: row by row
      [ev(0, 3, 75), ev(0, 4, 76), ev(1, 3, 77)], // offset 0/3 again (a member reloaded): row by row, 0/3 once
      [ev(0, 5, 80), ev(1, 4, 81)], // whole again
    ];
    const one = mkdtempSync(join(tmpdir(), 'pw-chunk-one-'));
    const many = mkdtempSync(join(tmpdir(), 'pw-chunk-many-'));
    const a = new ArchiveWriter(one, catalog, { threads: 0 });
    const b = new ArchiveWriter(many, catalog, { threads: 0 });
    a.open();
    b.open();
    for (const c of chunks) {
      for (const e of c) a.accepted(stream, { ok: true, eventId: '', eventTimeMs: e.t, payload: {} }, { partition: e.partition, offset: e.offset }, e.raw);
      b.acceptedChunk(stream, chunkOf(c));
    }
    await a.close();
    await b.close();
    const want = await rowsOf(one);
    expect(want).toHaveLength(11); // 12 handed, one repeated
    expect(await rowsOf(many)).toEqual(want);
    expect(ranges(many)).toEqual(ranges(one));
    expect(b.stats.events).toBe(a.stats.events);
    expect(b.stats.skipped).toBe(1);
  });
});
