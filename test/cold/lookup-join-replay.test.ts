/**
 * The sample lookup-join metric (queries/room_fill_1m.sql) end to end over files: `replay`
 * reads the rooms table before the scans, `recompute` loads the same changes into DuckDB's
 * ASOF JOIN, from the files and from the archive replay wrote; all give the same rows, and a capacity change mid-run shows in the minutes after it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.js';
import { ArchiveWriter } from '../../src/archive/archive-writer.js';
import { recompute } from '../../src/cold/recompute.js';
import { replay } from '../../src/hot/replay.js';
import { Engine } from '../../src/hot/engine.js';
import { ResultCollector } from '../../src/hot/result-collector.js';
import { buildPlan, planFile } from '../../src/plan/index.js';
import { parseQuery } from '../../src/sql/index.js';

const catalog = loadCatalog('catalog');
const plan = planFile('queries/room_fill_1m.sql', catalog);
const dir = mkdtempSync(join(tmpdir(), 'pw-lookup-join-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const at = (s: number): string => new Date(Date.UTC(2026, 0, 1, 9, 0, s)).toISOString();
const rooms = [
  { roomId: 'r1', validFrom: at(0), name: 'Hall A', capacity: 4 },
  { roomId: 'r2', validFrom: at(0), name: 'Hall B', capacity: 2 },
  { roomId: 'r1', validFrom: at(90), name: 'Hall A', capacity: 8 }, // extended at 9:01:30
  { roomId: 'r2', validFrom: at(120), deleted: true }, // closed at 9:02
  { roomId: 'r3', validFrom: 'yesterday' }, // not a timestamp: quarantined
];
const scan = (i: number, s: number, room: string, direction = 'in', ticketTier?: string): object => ({ eventId: `e${i}`, eventType: 'badge.scanned', eventTime: at(s), data: { roomId: room, attendeeId: `a${i}`, direction, ticketTier } });
const scans = [scan(1, 5, 'r1'), scan(2, 10, 'r1', 'in', 'VIP-gold'), scan(3, 20, 'r2'), scan(4, 30, 'r1', 'out'), scan(5, 70, 'r1'), scan(6, 100, 'r1'), scan(7, 130, 'r2'), scan(8, 140, 'r9'), scan(9, 150, 'r1')];

describe('room_fill_1m over files', () => {
  it('replay and recompute agree; versions follow the scan time; misses and bad changes are counted', async () => {
    const roomsFile = join(dir, 'rooms.ndjson');
    const scansFile = join(dir, 'scans.ndjson');
    writeFileSync(roomsFile, rooms.map((r) => JSON.stringify(r)).join('\n'));
    writeFileSync(scansFile, scans.map((r) => JSON.stringify(r)).join('\n'));
    // The table input comes after the stream on purpose: replay reads tables first whatever the order.
    const inputs = [{ stream: 'badge_scans', file: scansFile }, { stream: 'rooms', file: roomsFile }];
    const archive = new ArchiveWriter(join(dir, 'archive'), catalog, { piiKey: 'k' });
    archive.open();
    const summary = await replay(catalog, [plan], inputs, join(dir, 'hot'), { archive });
    await archive.close();
    await recompute(catalog, [plan], { inputs }, join(dir, 'cold'));
    await recompute(catalog, [plan], { archive: join(dir, 'archive') }, join(dir, 'cold-archive'));
    const read = (side: string): unknown[] => readFileSync(join(dir, side, 'room_fill_1m.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
    const minute = (m: number): string => new Date(Date.UTC(2026, 0, 1, 9, m)).toISOString();
    expect(read('hot')).toEqual([
      // fill_ratio is rounded to 3 digits; vip_entries counts tiers starting with 'vip' in any case.
      { window_start: minute(0), window_end: minute(1), room: 'Hall A', capacity: 4, entries: 2, fill_ratio: 0.5, vip_entries: 1 },
      { window_start: minute(0), window_end: minute(1), room: 'Hall B', capacity: 2, entries: 1, fill_ratio: 0.5, vip_entries: 0 },
      { window_start: minute(1), window_end: minute(2), room: 'Hall A', capacity: 8, entries: 2, fill_ratio: 0.25, vip_entries: 0 },
      { window_start: minute(2), window_end: minute(3), room: 'Hall A', capacity: 8, entries: 1, fill_ratio: 0.125, vip_entries: 0 },
    ]);
    expect(read('cold')).toEqual(read('hot'));
    expect(read('cold-archive')).toEqual(read('hot')); // the archive holds the applied table changes
    expect(summary.metrics.room_fill_1m?.joinMisses).toBe(2); // r2 after it closed, r9 unknown
    expect(summary.tables?.rooms).toEqual({ records: 5, quarantined: 1, streams: { badge_scans: { changes: 4, applied: 4, late: 0, overflow: 0, versions: expect.any(Number) as number } } });
    expect(readFileSync(join(dir, 'hot', '_quarantine.ndjson'), 'utf8')).toContain('"stream":"rooms"');
  });
});

describe('a late table change in the archive', () => {
  it('is archived and marked, and recompute from the archive leaves it out as the hot path did', async () => {
    const parity = loadCatalog('test/plan/fixtures/parity/catalog');
    const p = buildPlan(parseQuery('joined.sql', `CREATE VIEW joined AS
SELECT window_start, t.label AS label, COUNT(*) AS n
FROM TUMBLE(ev, ts, INTERVAL '1 minute') e JOIN tbl t ON e.r = t.k
GROUP BY window_start, t.label;`), parity);
    const root = join(dir, 'late-archive');
    const archive = new ArchiveWriter(root, parity, { piiKey: 'k', threads: 0 });
    archive.open();
    const results = new ResultCollector();
    const engine = new Engine(parity, [p], { result: (pl, c) => results.apply(pl, c), accepted: (s, e, o, raw) => archive.accepted(s, e, o, raw), tableChange: (c) => archive.tableChange(c) });
    const t = (s: number): string => new Date(s * 1000).toISOString();
    let offset = 0;
    const rec = (value: object): { partition: number; offset: number; value: string } => ({ partition: 0, offset: offset++, value: JSON.stringify(value) });
    engine.processTable('tbl', [rec({ k: 'a', vf: t(0), label: 'A0' })]);
    engine.process('ev', [rec({ id: '1', ts: t(10), r: 'a' }), rec({ id: '2', ts: t(40), r: 'a' })], 0);
    engine.processTable('tbl', [rec({ k: 'a', vf: t(20), label: 'A-late' }), rec({ k: 'a', vf: t(50), label: 'A1' })]); // 0:20 <= 0:40: late
    engine.process('ev', [rec({ id: '3', ts: t(30), r: 'a' }), rec({ id: '4', ts: t(55), r: 'a' })], 0);
    engine.endOfInput();
    await archive.close();
    const hot = results.rows(p);
    expect(hot.map((r) => [r.label, r.n])).toEqual([['A0', 3], ['A1', 1]]);
    await recompute(parity, [p], { archive: root }, join(dir, 'late-cold'));
    const cold = readFileSync(join(dir, 'late-cold', 'joined.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(cold).toEqual(hot);
  });
});
