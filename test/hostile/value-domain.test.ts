/**
 * The value domain end to end: payloads outside what the hot path, the Arrow/Parquet archive
 * and DuckDB all represent identically are quarantined with a precise reason; the valid events
 * around them go on, the archive is written, and replay, recompute (from the files and from the
 * archive) and reconcile agree. Each fixture under test/fixtures/cases/ is a producer mistake
 * found in the field.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../src/archive/archive-writer.js';
import { loadCatalog } from '../../src/catalog/index.js';
import { recompute } from '../../src/cold/recompute.js';
import { replay } from '../../src/hot/replay.js';
import { loadQueries } from '../../src/plan/index.js';
import { reconcile } from '../../src/reconcile/reconcile.js';

const FIX = join('test', 'fixtures', 'cases');

interface Outcome {
  summary: { events: number; accepted: number; quarantined: number; duplicates: number; late: number };
  quarantine: { code: string; reason: string; raw: string; offset: number }[];
  rows: (metric: string) => Record<string, unknown>[];
  cold: (metric: string) => Record<string, unknown>[];
}

/** Replay with the archive, recompute from the files and from the archive, reconcile both. */
async function run(caseDir: string | undefined, stream: string, file: string): Promise<Outcome> {
  const catalog = loadCatalog(caseDir ? join(FIX, caseDir, 'catalog') : 'catalog');
  const plans = loadQueries(caseDir ? join(FIX, caseDir, 'queries') : 'queries', catalog).filter((p) => p.stream.name === stream);
  const dir = mkdtempSync(join(tmpdir(), 'pw-domain-'));
  const archive = new ArchiveWriter(join(dir, 'archive'), catalog, { piiKey: 'k' });
  archive.open();
  const inputs = [{ stream, file }];
  const hot = await replay(catalog, plans, inputs, join(dir, 'hot'), { archive });
  await archive.close();
  await recompute(catalog, plans, { inputs }, join(dir, 'cold'));
  await recompute(catalog, plans, { archive: join(dir, 'archive') }, join(dir, 'cold-archive'));
  for (const cold of ['cold', 'cold-archive']) {
    const r = reconcile(plans, join(dir, 'hot'), join(dir, cold), 'k');
    expect(r.unexplained, `${cold}: ${JSON.stringify(r.differences.filter((d) => d.class !== 'late'))}`).toBe(0);
  }
  const lines = (f: string): Record<string, unknown>[] => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : []);
  return {
    summary: hot.streams[stream] as Outcome['summary'],
    quarantine: lines(join(dir, 'hot', '_quarantine.ndjson')) as unknown as Outcome['quarantine'],
    rows: (m) => lines(join(dir, 'hot', `${m}.ndjson`)),
    cold: (m) => lines(join(dir, 'cold', `${m}.ndjson`)),
  };
}

describe('value domain: quarantined at validation, the rest goes on', () => {
  it('an integer event time outside 0001..9999 is quarantined; the good event\'s window is emitted', async () => {
    const o = await run('epoch-out-of-range', 'ev', join(FIX, 'epoch-out-of-range', 'ev.ndjson'));
    expect(o.summary).toMatchObject({ events: 2, accepted: 1, quarantined: 1 });
    expect(o.quarantine[0]).toMatchObject({ code: 'PW_PAYLOAD_BAD_TIMESTAMP' });
    expect(o.quarantine[0]?.reason).toContain('outside the supported range 0001-01-01T00:00:00.000Z … 9999-12-31T23:59:59.999Z');
    expect(o.rows('q')).toEqual([expect.objectContaining({ window_start: '2026-06-01T00:00:00.000Z', n: 1 })]);
  });

  it('1e400 in a double field is quarantined instead of nulling the window\'s SUM', async () => {
    const o = await run(undefined, 'orders', join(FIX, 'double-infinity-accepted', 'in.ndjson'));
    expect(o.summary).toMatchObject({ events: 2, accepted: 1, quarantined: 1 });
    expect(o.quarantine[0]).toMatchObject({ code: 'PW_PAYLOAD_WRONG_TYPE', reason: "field 'data.orderTotal' must be double, got a number too large for a double (it reads as ±Infinity)" });
    expect(o.rows('restaurant_orders_5m')).toEqual([expect.objectContaining({ restaurant_id: 'r1', orders: 1, revenue: 10 })]);
  });

  it('1e400 in an int field is quarantined and never reaches the archive', async () => {
    const o = await run('int-field-infinity-poisons-archive', 'ticks', join(FIX, 'int-field-infinity-poisons-archive', 'in.ndjson'));
    expect(o.summary).toMatchObject({ events: 3, accepted: 2, quarantined: 1 });
    expect(o.quarantine[0]?.code).toBe('PW_PAYLOAD_WRONG_TYPE');
    expect(o.rows('ticks_1m')).toEqual([expect.objectContaining({ k: 'e', n: 2, sv: 12, sd: 4, mv: 7 })]);
    expect(o.cold('ticks_1m')).toEqual(o.rows('ticks_1m'));
  });

  it('int event ids beyond 2^53−1 are quarantined, never merged into one "duplicate"', async () => {
    const o = await run('int-event-id-precision-dedup', 'ticks', join(FIX, 'int-event-id-precision-dedup', 'in.ndjson'));
    expect(o.summary).toMatchObject({ events: 2, accepted: 0, quarantined: 2, duplicates: 0 });
    for (const q of o.quarantine) {
      expect(q.code).toBe('PW_PAYLOAD_WRONG_TYPE');
      expect(q.reason).toContain("field 'id' must be int within ±9007199254740991");
    }
  });

  it('invalid UTF-8 bytes are quarantined with the byte offset, not replaced by U+FFFD', async () => {
    const o = await run(undefined, 'orders', join(FIX, 'invalid-utf8-silently-replaced', 'in.ndjson'));
    expect(o.summary).toMatchObject({ events: 2, accepted: 0, quarantined: 2 });
    expect(o.quarantine.map((q) => [q.code, q.reason])).toEqual([
      // 0xFF 0xFE after "r, and the overlong 0xC0 0xAF (a '/' in disguise) in the same place.
      ['PW_PAYLOAD_NOT_JSON', 'payload is not valid UTF-8 (invalid byte sequence at byte 104); JSON must be UTF-8 (RFC 8259 §8.1)'],
      ['PW_PAYLOAD_NOT_JSON', 'payload is not valid UTF-8 (invalid byte sequence at byte 104); JSON must be UTF-8 (RFC 8259 §8.1)'],
    ]);
    expect(o.rows('restaurant_orders_5m')).toEqual([]);
  });

  it('a UTF-8 byte-order mark at the start of the file is ignored', async () => {
    const o = await run(undefined, 'orders', join(FIX, 'bom-first-event-quarantined', 'in.ndjson'));
    expect(o.summary).toMatchObject({ events: 2, accepted: 2, quarantined: 0 });
    expect(o.rows('restaurant_orders_5m')[0]).toMatchObject({ orders: 2 });
  });

  it('an event dated 9999 is quarantined as too far ahead instead of making every later event late', async () => {
    const o = await run(undefined, 'orders', join(FIX, 'far-future-event-poisons-watermark', 'in.ndjson'));
    expect(o.summary).toMatchObject({ events: 301, quarantined: 1, late: 0 });
    expect(o.quarantine[0]).toMatchObject({ code: 'PW_PAYLOAD_BAD_TIMESTAMP', offset: 150 });
    expect(o.quarantine[0]?.reason).toMatch(/^event time 9999-12-31T23:59:59\.000Z is \d+\S* ahead of the latest valid event time before it on this partition \(2024-03-15T19:\d\d:\d\d\.\d{3}Z\), more than max_future 1d/);
  });

  it('a payload nested 10,000 levels deep is quarantined at validation, so the archive never fails on it', async () => {
    const o = await run(undefined, 'orders', join(FIX, 'deep-nesting-poisons-archive', 'in.ndjson'));
    expect(o.summary.quarantined).toBe(1);
    expect(o.quarantine[0]).toMatchObject({ code: 'PW_PAYLOAD_TOO_DEEP' });
    expect(o.summary.accepted).toBe(o.summary.events - 1);
  });
});
