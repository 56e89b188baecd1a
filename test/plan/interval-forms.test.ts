/**
 * INTERVAL forms analysts type (issue: the analyst's SQL): several parts that add up ('1 hour 30
 * minutes', '2 weeks 1 day') and weeks, for every window function; hot and cold agree on the
 * windows they give; forms that are not a fixed length or not readable still fail with
 * PW_PLAN_WINDOW_SIZE at their position.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import type { PitwallError } from '../../src/errors.js';
import type { RawRecord } from '../../src/hot/stream-runtime.js';
import { buildPlan } from '../../src/plan/index.js';
import { parseQuery } from '../../src/sql/index.js';
import { parseIntervalMs } from '../../src/util/duration.js';
import { diffRows, runColdExcludingLate, runHot } from '../support/parity.js';

const here = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'parity');
const catalog = loadCatalog(join(here, 'catalog'));
const plan = (window: string): ReturnType<typeof buildPlan> => buildPlan(parseQuery('m.sql', `CREATE VIEW m AS
SELECT window_start, window_end, r, COUNT(*) AS n, SUM(amt) AS total
FROM ${window}
GROUP BY window_start, window_end, r;`), catalog);

describe('parseIntervalMs', () => {
  it('adds up parts and knows weeks; refuses calendar units and anything else', () => {
    expect(parseIntervalMs('1 hour 30 minutes', '')).toBe(5_400_000);
    expect(parseIntervalMs('2 weeks 1 day', '')).toBe(15 * 86_400_000);
    expect(parseIntervalMs('1 week', '')).toBe(604_800_000);
    expect(parseIntervalMs('1', 'WEEK')).toBe(604_800_000);
    expect(parseIntervalMs('90 seconds', '')).toBe(90_000);
    for (const bad of ['1 month', '1 hour and 30 minutes', 'hour', '', '1 hour 2 years']) expect(parseIntervalMs(bad, ''), bad).toBeUndefined();
  });
});

describe('windows with compound and week intervals', () => {
  it('bind to the sum of their parts in TUMBLE, HOP and SESSION', () => {
    expect(plan("TUMBLE(ev, ts, INTERVAL '1 hour 30 minutes')").window).toEqual({ type: 'tumble', sizeMs: 5_400_000 });
    expect(plan("HOP(ev, ts, INTERVAL '1 day', INTERVAL '1 week')").window).toEqual({ type: 'hop', slideMs: 86_400_000, sizeMs: 604_800_000 });
    expect(plan("SESSION(ev, ts, INTERVAL '1 minute 30 seconds')").window).toEqual({ type: 'session', gapMs: 90_000 });
  });

  it('fail where they cannot be read, naming the forms allowed', () => {
    let err: unknown;
    try { plan("TUMBLE(ev, ts, INTERVAL '1 hour and 30 minutes')"); } catch (e) { err = e; }
    expect((err as PitwallError).code).toBe('PW_PLAN_WINDOW_SIZE');
    expect((err as PitwallError).detail).toBe("cannot read the window size '1 hour and 30 minutes'; use INTERVAL '<n> <unit>' (several parts add up: '1 hour 30 minutes') or INTERVAL '<n>' <UNIT>, with unit millisecond, second, minute, hour, day or week");
  });

  it('give the same rows on the hot and the cold path', async () => {
    // Events every 7 minutes over 3 days, 3 keys: windows of 1 h 30 min and of 1 week (slide 1 day).
    const records: RawRecord[] = Array.from({ length: 620 }, (_, i) => ({
      partition: 0, offset: i,
      value: JSON.stringify({ id: String(i), ts: new Date(i * 7 * 60_000).toISOString(), r: ['a', 'b', 'c'][i % 3], amt: i % 11 }),
    }));
    for (const w of ["TUMBLE(ev, ts, INTERVAL '1 hour 30 minutes')", "HOP(ev, ts, INTERVAL '1 day', INTERVAL '1 week')"]) {
      const p = plan(w);
      const hot = runHot(catalog, [p], 'ev', records);
      const rows = hot.rows.get(p.name) ?? [];
      expect(rows.length, w).toBeGreaterThan(3);
      const cold = await runColdExcludingLate(catalog, p, records, hot.late.get(p.name) ?? []);
      expect(diffRows(p, rows, cold), w).toEqual([]);
    }
    const tumble = runHot(catalog, [plan("TUMBLE(ev, ts, INTERVAL '1 hour 30 minutes')")], 'ev', records).rows.get('m') ?? [];
    expect(tumble.map((r) => (Date.parse(String(r.window_end)) - Date.parse(String(r.window_start))))).toEqual(tumble.map(() => 5_400_000));
  });
});

describe('window offsets (TUMBLE and HOP)', () => {
  const records: RawRecord[] = Array.from({ length: 700 }, (_, i) => ({
    partition: 0, offset: i,
    value: JSON.stringify({ id: String(i), ts: new Date(i * 7 * 60_000).toISOString(), r: ['a', 'b'][i % 2], amt: i % 5 }),
  }));

  it('shift where windows start: daily windows from a venue\'s local midnight at UTC-5 start at 05:00 UTC', async () => {
    const p = plan("TUMBLE(ev, ts, INTERVAL '1 day', INTERVAL '5 hours')");
    expect(p.window).toEqual({ type: 'tumble', sizeMs: 86_400_000, offsetMs: 18_000_000 });
    const hot = runHot(catalog, [p], 'ev', records);
    const rows = hot.rows.get('m') ?? [];
    expect(rows.length).toBeGreaterThan(2);
    for (const r of rows) expect(new Date(String(r.window_start)).toISOString().slice(11)).toBe('05:00:00.000Z');
    expect(diffRows(p, rows, await runColdExcludingLate(catalog, p, records, hot.late.get('m') ?? []))).toEqual([]);
  });

  it('take negative offsets and HOP offsets, on both paths alike', async () => {
    for (const [w, want] of [
      ["TUMBLE(ev, ts, INTERVAL '1 day', INTERVAL '-5 hours')", { type: 'tumble', sizeMs: 86_400_000, offsetMs: -18_000_000 }],
      ["HOP(ev, ts, INTERVAL '1 hour', INTERVAL '3 hours', INTERVAL '20 minutes')", { type: 'hop', slideMs: 3_600_000, sizeMs: 10_800_000, offsetMs: 1_200_000 }],
    ] as const) {
      const p = plan(w);
      expect(p.window, w).toEqual(want);
      const hot = runHot(catalog, [p], 'ev', records);
      const rows = hot.rows.get('m') ?? [];
      expect(rows.length, w).toBeGreaterThan(3);
      const mod = ((Date.parse(String(rows[0]?.window_start)) - (want.offsetMs as number)) % (want.type === 'hop' ? want.slideMs : want.sizeMs) + 86_400_000) % (want.type === 'hop' ? want.slideMs : want.sizeMs);
      expect(mod, w).toBe(0);
      expect(diffRows(p, rows, await runColdExcludingLate(catalog, p, records, hot.late.get('m') ?? [])), w).toEqual([]);
    }
  });

  it('are refused on SESSION and when not an interval', () => {
    const codeOf = (w: string): string | undefined => { try { plan(w); return undefined; } catch (e) { return (e as PitwallError).code; } };
    expect(codeOf("SESSION(ev, ts, INTERVAL '1 minute', INTERVAL '5 seconds')")).toBe('PW_PLAN_WINDOW_ARGS');
    expect(codeOf("TUMBLE(ev, ts, INTERVAL '1 day', 5)")).toBe('PW_PLAN_WINDOW_SIZE');
    expect(codeOf("TUMBLE(ev, ts, INTERVAL '1 day', INTERVAL '1 month')")).toBe('PW_PLAN_WINDOW_SIZE');
  });
});
