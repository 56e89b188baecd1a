/**
 * Versioned payloads (catalog `versions`) read the same on the hot path and in DuckDB: a fixed
 * mixed-version input with hand-written rows (the hot engine, DuckDB over validated events,
 * and replay → archive → recompute from the Parquet archive and from the file), and a property
 * over random version mixes checked against a model of the logical values.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../src/archive/archive-writer.js';
import { loadCatalog } from '../../src/catalog/index.js';
import { recompute } from '../../src/cold/recompute.js';
import { replay } from '../../src/hot/replay.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import { buildPlan, type MetricPlan } from '../../src/plan/index.js';
import { parseQuery } from '../../src/sql/index.js';
import type { ResultRow } from '../../src/util/result-row.js';
import { diffRows, runColdExcludingLate, runHot } from '../support/parity.js';

const here = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'parity');
const catalog = loadCatalog(join(here, 'versioned'));
const plan: MetricPlan = buildPlan(parseQuery('by_r.sql', `CREATE VIEW by_r AS
  SELECT window_start, r, COUNT(*) AS events, COUNT(amt) AS with_amt, SUM(amt) AS total, COUNT(u) AS with_u, MAX(u) AS max_u, SUM(n) AS sum_n
  FROM TUMBLE(ev, ts, INTERVAL '1 minute') GROUP BY window_start, r`), catalog);
const filtered: MetricPlan = buildPlan(parseQuery('big.sql', `CREATE VIEW big AS
  SELECT window_start, COUNT(*) AS events FROM TUMBLE(ev, ts, INTERVAL '1 minute') WHERE amt > 2 OR u = 'p' GROUP BY window_start`), catalog);

const COLUMNS = ['window_start', 'r', 'events', 'with_amt', 'total', 'with_u', 'max_u', 'sum_n'];
const pick = (rows: readonly ResultRow[]): unknown[][] => rows.map((r) => COLUMNS.map((c) => r[c] ?? null));
const toRecords = (lines: readonly string[]): RawRecord[] => lines.map((value, offset) => ({ partition: 0, offset, value }));

async function hotAndCold(p: MetricPlan, records: readonly RawRecord[]): Promise<{ rows: ResultRow[]; quarantined: number }> {
  const hot = runHot(catalog, [p], 'ev', records);
  const rows = hot.rows.get(p.name) ?? [];
  const cold = await runColdExcludingLate(catalog, p, records, hot.late.get(p.name) ?? []);
  expect(diffRows(p, rows, cold)).toEqual([]);
  return { rows, quarantined: hot.stats.streams.ev?.quarantined ?? -1 };
}

describe('versioned events, fixed input', () => {
  const file = join(here, 'versioned.ndjson');
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  // a (v1), b (v2: amt and n under data, u lacking), c (v3: r and u swapped, amt under m) in the first
  // minute; d (version 9), e (no version) and f (v2 with n where version 1 keeps it) quarantined;
  // g (v2) in the second minute; the second b is a duplicate.
  const expected = [
    [0, 'x', 3, 3, 8, 2, 'py', 6],
    [60_000, 'y', 1, 0, null, 0, null, 4],
  ];

  it('hot and DuckDB read each version where it carries the fields', async () => {
    const { rows, quarantined } = await hotAndCold(plan, toRecords(lines));
    expect(pick(rows).map((r) => [typeof r[0] === 'string' ? Date.parse(r[0]) : r[0], ...r.slice(1)])).toEqual(expected);
    expect(quarantined).toBe(3);
    // amt > 2 (a: 2.5, b: 4 from data.amount, not its decoy 100) or u = 'p' (a); c's decoy amt 999 is not read.
    const big = await hotAndCold(filtered, toRecords(lines));
    expect(big.rows.map((r) => r.events)).toEqual([2]);
  });

  it('replay archives the raw payloads, and recompute from the archive and from the file gives the same rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-versions-'));
    const archive = new ArchiveWriter(join(dir, 'archive'), catalog, {});
    archive.open();
    const hot = await replay(catalog, [plan], [{ stream: 'ev', file }], join(dir, 'hot'), { archive });
    expect(hot.streams.ev).toMatchObject({ events: 8, accepted: 4, quarantined: 3, duplicates: 1 });
    const quarantine = readFileSync(join(dir, 'hot', '_quarantine.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { code: string; reason: string });
    expect(quarantine.map((q) => q.code)).toEqual(['PW_PAYLOAD_UNKNOWN_VERSION', 'PW_PAYLOAD_UNKNOWN_VERSION', 'PW_PAYLOAD_MISSING_FIELD']);
    expect(quarantine[0]?.reason).toContain("payload has version 9 in 'v', which the catalog does not list; stream 'ev' knows versions 1, 2, 3");
    const read = (out: string): unknown[][] => readFileSync(join(dir, out, 'by_r.ndjson'), 'utf8').trim().split('\n')
      .map((l) => JSON.parse(l) as ResultRow).map((r) => COLUMNS.map((c) => (c === 'window_start' ? Date.parse(String(r[c])) : r[c] ?? null)));
    expect(read('hot')).toEqual(expected);
    await recompute(catalog, [plan], { archive: join(dir, 'archive') }, join(dir, 'cold-archive'));
    expect(read('cold-archive')).toEqual(expected);
    await recompute(catalog, [plan], { inputs: [{ stream: 'ev', file }] }, join(dir, 'cold-files'));
    expect(read('cold-files')).toEqual(expected);
  });
});

/** One event as the model sees it: the logical values, whatever version carries them. */
interface Logical { id: string; t: number; version: number | undefined; r: string | null; amt: number | null; u: string | null; n: number }

/** The event's payload as its version lays it out, with decoys where another version keeps the fields. */
function encode(e: Logical): string {
  const ts = new Date(e.t).toISOString();
  switch (e.version) {
    case 2: return JSON.stringify({ id: e.id, ts, v: 2, r: e.r, amt: -1, u: 'decoy', n: -1, data: { amount: e.amt, n: e.n } });
    case 3: return JSON.stringify({ id: e.id, ts, v: 3, r: e.u, u: e.r, amt: -1, m: { amt: e.amt }, n: e.n });
    default: return JSON.stringify({ id: e.id, ts, ...(e.version === undefined ? {} : { v: e.version }), r: e.r, amt: e.amt, u: e.u, n: e.n });
  }
}

/** Rows the metric must give: valid versions only, version 2 lacking u. */
function model(events: readonly Logical[]): unknown[][] {
  const groups = new Map<string, { ws: number; r: string | null; list: Logical[] }>();
  for (const e of events) {
    if (e.version === undefined || e.version > 3) continue;
    const ws = Math.floor(e.t / 60_000) * 60_000;
    const key = `${ws}|${e.r ?? '\u0000'}`;
    const g = groups.get(key) ?? { ws, r: e.r, list: [] };
    g.list.push(e.version === 2 ? { ...e, u: null } : e);
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => a.ws - b.ws || (a.r === null ? 1 : b.r === null ? -1 : a.r < b.r ? -1 : 1)).map((g) => {
    const amts = g.list.map((e) => e.amt).filter((a): a is number => a !== null);
    const us = g.list.map((e) => e.u).filter((u): u is string => u !== null).sort();
    return [g.ws, g.r, g.list.length, amts.length, amts.length ? amts.reduce((s, a) => s + a, 0) : null, us.length, us[us.length - 1] ?? null, g.list.reduce((s, e) => s + e.n, 0)];
  });
}

describe('versioned events, random version mixes', () => {
  const logical = fc.record({
    t: fc.integer({ min: 0, max: 180_000 }),
    version: fc.constantFrom<number | undefined>(1, 2, 3, 1, 2, 3, undefined, 7),
    r: fc.constantFrom<string | null>('a', 'b', null),
    amt: fc.option(fc.integer({ min: -50, max: 50 }).map((x) => x / 4), { nil: null }),
    u: fc.constantFrom<string | null>('k', 'm', 'z', null),
    n: fc.integer({ min: -5, max: 5 }),
  });

  it('hot equals DuckDB equals the model, and exactly the missing and unlisted versions are quarantined', async () => {
    await fc.assert(fc.asyncProperty(fc.array(logical, { minLength: 1, maxLength: 40 }), async (draws) => {
      // In event-time order, so that no event is late (the model counts every valid one).
      const events: Logical[] = draws.sort((a, b) => a.t - b.t).map((d, i) => ({ ...d, id: `e${i}` }));
      const { rows, quarantined } = await hotAndCold(plan, toRecords(events.map(encode)));
      expect(pick(rows).map((r) => [typeof r[0] === 'string' ? Date.parse(r[0]) : r[0], ...r.slice(1)])).toEqual(model(events));
      expect(quarantined).toBe(events.filter((e) => e.version === undefined || e.version === 7).length);
    }), { numRuns: 40 });
  });
});
