/**
 * The int-overflow and cast-divergence reports, end to end as they were found: replay (hot),
 * recompute (cold, DuckDB) and reconcile over the reported catalog, metrics and events
 * (test/fixtures/cases/). Before the one-rule-per-operation work the hot path emitted rounded
 * doubles in int columns, recompute aborted on DuckDB's int64 overflow, and CAST read '12.5' and
 * UTC offsets differently on each path.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
const MAX = Number.MAX_SAFE_INTEGER;

type Row = Record<string, unknown>;

/** Replays and recomputes `file`, checks reconcile finds nothing unexplained, returns both row sets. */
async function hotAndCold(caseDir: string, file: string): Promise<{ hot: (m: string) => Row[]; cold: (m: string) => Row[] }> {
  const catalog = loadCatalog(join(FIX, caseDir, 'catalog'));
  const plans = loadQueries(join(FIX, caseDir, 'queries'), catalog);
  const dir = mkdtempSync(join(tmpdir(), 'pw-scalar-case-'));
  const inputs = [{ stream: 'ev', file }];
  await replay(catalog, plans, inputs, join(dir, 'hot'));
  await recompute(catalog, plans, { inputs }, join(dir, 'cold'));
  const r = reconcile(plans, join(dir, 'hot'), join(dir, 'cold'));
  expect(r.unexplained, JSON.stringify(r.differences)).toBe(0);
  const lines = (f: string): Row[] => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
  return { hot: (m) => lines(join(dir, 'hot', `${m}.ndjson`)), cold: (m) => lines(join(dir, 'cold', `${m}.ndjson`)) };
}

const pick = (rows: Row[], cols: string[]): Row[] => rows.map((r) => Object.fromEntries(cols.map((c) => [c, r[c]])));

describe('int-overflow: one rule on both paths, no aborted recompute', () => {
  it('SUM(int) past ±(2^53 − 1) and overflowing v * 1000000 are NULL on both paths; the other columns are exact', async () => {
    // The case's gen.mjs: 1,100 events v = 2^53 − 1 in window 1 (exact SUM 9907919180215090100),
    // one event v = 1.78e15 in window 2 (v * 1e6 = 1.78e21).
    const file = join(mkdtempSync(join(tmpdir(), 'pw-int-overflow-')), 'ev.ndjson');
    const lines: string[] = [];
    for (let i = 0; i < 1100; i++) lines.push(JSON.stringify({ id: `e${i}`, ts: '2026-06-01T00:00:01Z', v: MAX }));
    lines.push(JSON.stringify({ id: 'm', ts: '2026-06-01T00:01:01Z', v: 1_780_272_000_000_000 }));
    writeFileSync(file, `${lines.join('\n')}\n`);

    const { hot, cold } = await hotAndCold('int-overflow', file);
    for (const rows of [hot('q_sum'), cold('q_sum')]) {
      expect(pick(rows, ['window_start', 'n', 'total', 'neg'])).toEqual([
        { window_start: '2026-06-01T00:00:00.000Z', n: 1100, total: null, neg: null },
        { window_start: '2026-06-01T00:01:00.000Z', n: 1, total: 1_780_272_000_000_000, neg: null },
      ]);
      expect(rows[0]?.mean).toBeCloseTo(MAX, -2); // AVG is double: within a few units of 2^53
      expect(rows[1]?.mean).toBe(1_780_272_000_000_000);
    }
    for (const rows of [hot('q_mul'), cold('q_mul')]) {
      expect(pick(rows, ['window_start', 'v_micro', 'pos'])).toEqual([
        { window_start: '2026-06-01T00:00:00.000Z', v_micro: null, pos: 0 },
        { window_start: '2026-06-01T00:01:00.000Z', v_micro: null, pos: 0 },
      ]);
    }
  });
});

describe('cast-divergence: CAST reads text by one grammar on both paths', () => {
  it("'12.5' is not a BIGINT, and an explicit UTC offset is applied", async () => {
    const { hot, cold } = await hotAndCold('cast-divergence', join(FIX, 'cast-divergence', 'ev.ndjson'));
    for (const rows of [hot('q'), cold('q')]) {
      expect(pick(rows, ['s_key', 'as_int', 'as_ts'])).toEqual([
        { s_key: '12.5', as_int: null, as_ts: null },
        { s_key: '2026-06-01 10:00:00+02', as_int: null, as_ts: '2026-06-01T08:00:00.000Z' },
      ]);
    }
  });
});

describe('string, regexp and JSON functions: one result on both paths, end to end', () => {
  it('json_extract_string reads the raw payload as JSON.parse does (last duplicate, U+FFFD, big integers NULL)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pw-string-json-')), 'ev.ndjson');
    // Written by hand: duplicate keys, an unpaired surrogate escape and a 2^53 + 1 survive in the archive's raw text.
    writeFileSync(file, [
      String.raw`{"id":"e1","ts":"2026-06-01T00:00:01Z","kind":"order.created","data":{"items":[{"sku":"A-1"}],"code":"AB-12","qty":2.50}}`,
      String.raw`{"id":"e2","ts":"2026-06-01T00:00:02Z","kind":"order.created","data":{"items":[{"sku":"B-2","sku":"A-1"}],"code":"ab-12","qty":9007199254740993}}`,
      String.raw`{"id":"e3","ts":"2026-06-01T00:00:03Z","kind":"order.cancelled","data":{"items":[{"sku":"\ud800"}],"code":"XY-9","qty":-0}}`,
      String.raw`{"id":"e4","ts":"2026-06-01T00:00:04Z","kind":"straße.paid","data":{"items":[]},"data":{"items":[{"sku":"A-1"}],"code":null,"qty":1e2}}`,
    ].join('\n') + '\n');
    const { hot, cold } = await hotAndCold('string-json-functions', file);
    // And from the Parquet archive, whose _pw_payload keeps each payload's raw text.
    const catalog = loadCatalog(join(FIX, 'string-json-functions', 'catalog'));
    const plans = loadQueries(join(FIX, 'string-json-functions', 'queries'), catalog);
    const dir = mkdtempSync(join(tmpdir(), 'pw-string-json-archive-'));
    const archive = new ArchiveWriter(join(dir, 'archive'), catalog, {});
    archive.open();
    await replay(catalog, plans, [{ stream: 'ev', file }], join(dir, 'hot'), { archive });
    await recompute(catalog, plans, { archive: join(dir, 'archive') }, join(dir, 'cold'));
    const fromArchive = readFileSync(join(dir, 'cold', 'q_by_sku.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
    const cols = ['sku', 'verb', 'n', 'coded', 'sample'];
    const want = [
      { sku: 'A-1', verb: 'CREATED', n: 2, coded: 1, sample: 'ord/2.5' },
      { sku: 'A-1', verb: 'PAID', n: 1, coded: 0, sample: 'str/100' },
      { sku: '\ufffd', verb: 'CANCELLED', n: 1, coded: 1, sample: 'ord/0' },
    ];
    const sorted = (rows: Row[]): Row[] => pick(rows, cols).sort((a, b) => `${String(a.sku)}${String(a.verb)}`.localeCompare(`${String(b.sku)}${String(b.verb)}`));
    expect(sorted(hot('q_by_sku'))).toEqual(want);
    expect(sorted(cold('q_by_sku'))).toEqual(want);
    expect(sorted(fromArchive)).toEqual(want);
  }, 60_000);
});
