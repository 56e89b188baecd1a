/**
 * The archive's hand-over to its segment writer thread: raw texts kept as received, chunks
 * across segment boundaries, failed writes retried with the manifest kept in hand-over order,
 * every hour of a stream handed over together, backpressure, and a worker that dies.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../src/archive/archive-writer.js';
import { Manifest } from '../../src/archive/manifest.js';
import { compilePayloadValidator, type ValidEvent } from '../../src/catalog/index.js';
import { catalogOf, ORDERS_YAML } from '../support/cold-harness.js';

const catalog = catalogOf(ORDERS_YAML);
const stream = catalog.streams.get('orders') ?? (() => { throw new Error('no orders stream'); })();
const validate = compilePayloadValidator(stream);

function valid(raw: string): ValidEvent {
  const r = validate(JSON.parse(raw));
  if (!r.ok) throw new Error(r.reason);
  return r;
}

const HOUR = 3_600_000;
const T0 = Date.parse('2024-03-15T19:00:00Z');

function raw(i: number, timeMs = T0 + i): string {
  return JSON.stringify({ eventId: `e${i}`, eventTime: timeMs, data: { restaurantId: `r${i % 7}`, orderTotal: i / 4 } });
}

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  try { return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]; } finally { conn.closeSync(); }
}

const writers: ArchiveWriter[] = [];
function writer(dir: string, options: ConstructorParameters<typeof ArchiveWriter>[2] = {}): ArchiveWriter {
  const w = new ArchiveWriter(dir, catalog, options);
  w.open();
  writers.push(w);
  return w;
}
afterEach(async () => {
  for (const w of writers.splice(0)) await w.close().catch(() => undefined);
});

describe('archive hand-over to the segment writer', () => {
  it('keeps each payload text byte for byte as received, across chunks and segments, non-ASCII included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-pipe-'));
    const w = writer(dir, { segmentRows: 1500 });
    const texts: string[] = [];
    for (let i = 0; i < 3000; i++) {
      // Spacing as a producer might send it, and multi-byte characters in some chunks only.
      const text = i % 997 === 5
        ? `{ "eventId": "e${i}", "eventTime": ${T0 + i}, "data": { "restaurantId": "café ☕ ${i}", "orderTotal": 2 } }`
        : raw(i);
      texts.push(text);
      w.accepted(stream, valid(text), { partition: i % 2, offset: i }, text);
    }
    await w.flush();
    expect(w.stats.segments).toBe(2);
    const got = await rows(`SELECT _pw_offset, _pw_event_id, _pw_payload, data.restaurantId AS r FROM read_parquet('${dir}/orders/**/*.parquet') ORDER BY _pw_offset`);
    expect(got).toHaveLength(3000);
    got.forEach((row, i) => {
      expect(row._pw_payload).toBe(texts[i]);
      expect(row._pw_event_id).toBe(`e${i}`);
    });
    expect(got[5]?.r).toBe('café ☕ 5');
  });

  it('keeps a segment that failed to write, retries it at the next flush, and lists later segments only after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-pipe-'));
    writeFileSync(join(dir, 'orders'), 'a file where the stream directory goes'); // every events segment write fails
    const w = writer(dir);
    for (let i = 0; i < 10; i++) w.accepted(stream, valid(raw(i)), { partition: 0, offset: i }, raw(i));
    w.quarantined({ stream: 'orders', origin: { partition: 0, offset: 10 }, code: 'PW_PAYLOAD_NOT_JSON', reason: 'payload is not JSON', raw: '{oops' });
    // A file-system failure: the message says so and points at the machine, not at pitwall.
    await expect(w.flush()).rejects.toMatchObject({ code: 'PW_ARCHIVE_WRITE', message: expect.stringMatching(/: E[A-Z]+: .*check free space and permissions$/) as string });
    expect(w.stats.writeFailures).toBe(1);
    // The quarantine segment is on disk but waits for the events segment handed over before it.
    expect(Manifest.read(dir)).toEqual([]);
    expect(w.pendingSegments).toBe(2);

    // A crash now: the next run finds the written quarantine segment unlisted and removes it.
    const crashed = mkdtempSync(join(tmpdir(), 'pw-pipe-crash-'));
    cpSync(dir, crashed, { recursive: true });
    const restarted = new ArchiveWriter(crashed, catalog, { threads: 0 });
    expect(restarted.open().orphans).toBe(1);

    rmSync(join(dir, 'orders'));
    await w.flush();
    expect(Manifest.read(dir).map((e) => `${e.lane}:${e.rows}`)).toEqual(['events:10', 'quarantine:1']);
    const [count] = await rows(`SELECT count(*)::INT AS n FROM read_parquet('${dir}/orders/**/*.parquet')`);
    expect(count?.n).toBe(10);
  });

  it('hands over every hour of a stream when one hour rolls over, so a restart skips exactly what is archived', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-pipe-'));
    const w = writer(dir, { segmentRows: 3 });
    const times = [T0, T0 + HOUR, T0 + 1, T0 + 2]; // hour A, hour B, A (3 open rows: rolls over), A
    times.forEach((t, i) => w.accepted(stream, valid(raw(i, t)), { partition: 0, offset: i }, raw(i, t)));
    expect(w.pendingSegments).toBe(2); // hour A (2 events) and hour B (1 event) together
    await w.flush();
    expect(Manifest.read(dir).map((e) => `${e.hour}:${e.rows}:${e.groupSize ?? 1}`)).toEqual(['date=2024-03-15/hour=19:2:2', 'date=2024-03-15/hour=20:1:2', 'date=2024-03-15/hour=19:1:1']);
    const again = writer(dir);
    times.forEach((t, i) => again.accepted(stream, valid(raw(i, t)), { partition: 0, offset: i }, raw(i, t)));
    again.accepted(stream, valid(raw(4)), { partition: 0, offset: 4 }, raw(4));
    expect(again.stats).toMatchObject({ skipped: 4, events: 1 });
  });

  it('counts a group only when all its manifest lines are there: a torn write drops the group and its segments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-pipe-'));
    const w = writer(dir, { segmentRows: 3 });
    const times = [T0, T0 + HOUR, T0 + 1];
    times.forEach((t, i) => w.accepted(stream, valid(raw(i, t)), { partition: 0, offset: i }, raw(i, t)));
    await w.flush();
    const manifest = join(dir, '_manifest.ndjson');
    const lines = readFileSync(manifest, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    writeFileSync(manifest, `${lines[0] as string}\n`); // the crash tore the group's second line
    expect(Manifest.read(dir)).toEqual([]);
    const again = new ArchiveWriter(dir, catalog, { threads: 0 });
    expect(again.open().orphans).toBe(2); // both segments of the group
    expect(readFileSync(manifest, 'utf8')).toBe('');
    times.forEach((t, i) => again.accepted(stream, valid(raw(i, t)), { partition: 0, offset: i }, raw(i, t)));
    expect(again.stats).toMatchObject({ skipped: 0, events: 3 });
  });

  it('makes sources wait while too many segments are waiting for the writer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-pipe-'));
    const w = writer(dir, { segmentRows: 2, maxInFlight: 1 });
    expect(w.relieve()).toBeUndefined();
    for (let i = 0; i < 2; i++) w.accepted(stream, valid(raw(i)), { partition: 0, offset: i }, raw(i));
    const wait = w.relieve();
    expect(wait).toBeInstanceOf(Promise);
    await wait;
    expect(w.pendingSegments).toBe(0);
    expect(w.relieve()).toBeUndefined();
    expect(Manifest.read(dir)).toHaveLength(1);
  });

  it('fails every flush once its worker thread died holding events (a restart archives them again from the input)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-pipe-'));
    process.env.PITWALL_FAILPOINT = 'archive-worker-exit'; // read by the worker when it gets a job
    let w: ArchiveWriter;
    try {
      w = writer(dir);
      await w.ready();
    } finally {
      delete process.env.PITWALL_FAILPOINT;
    }
    for (let i = 0; i < 5; i++) w.accepted(stream, valid(raw(i)), { partition: 0, offset: i }, raw(i));
    await expect(w.flush()).rejects.toThrow(/worker thread stopped.*restart pitwall/);
    expect(w.broken).toBeDefined();
    await expect(w.flush()).rejects.toMatchObject({ code: 'PW_ARCHIVE_WRITE' });
    expect(Manifest.read(dir)).toEqual([]);
  });
});

describe('an event the segment writer cannot encode', () => {
  it('goes to the quarantine lane with the stage and reason; its segment and every flush go on', async () => {
    // The worker reads the failpoint when it starts; the in-thread writer when it builds.
    process.env.PITWALL_FAILPOINT = 'archive-record:"e7"';
    try {
      for (const threads of [0, 1] as const) {
        const dir = mkdtempSync(join(tmpdir(), 'pw-reject-'));
        const w = writer(dir, { threads, segmentRows: 1000 });
        for (let i = 0; i < 20; i++) w.accepted(stream, valid(raw(i)), { partition: 0, offset: i }, raw(i));
        await w.flush(); // used to fail here, and at every retry after it
        expect(w.stats).toMatchObject({ events: 19, rejected: 1, quarantined: 1, writeFailures: 0 });
        const entries = Manifest.read(dir);
        expect(entries.filter((e) => e.lane === 'events').reduce((n, e) => n + e.rows, 0)).toBe(19);
        expect(entries.filter((e) => e.lane === 'quarantine').reduce((n, e) => n + e.rows, 0)).toBe(1);
        const events = await rows(`SELECT _pw_event_id AS id FROM read_parquet('${dir}/orders/**/*.parquet') ORDER BY _pw_offset`);
        expect(events.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => `e${i}`).filter((id) => id !== 'e7'));
        const [q] = await rows(`SELECT _pw_offset AS o, code, reason, raw FROM read_parquet('${dir}/_quarantine/orders/**/*.parquet')`);
        expect(q).toMatchObject({ o: '7', code: 'PW_ARCHIVE_RECORD', raw: raw(7) });
        expect(String(q?.reason)).toMatch(/^archive: the event could not be encoded \(failpoint archive-record:/);
        await w.close();
      }
    } finally {
      delete process.env.PITWALL_FAILPOINT;
    }
  });
});
