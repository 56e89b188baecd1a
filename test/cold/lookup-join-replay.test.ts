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
import { planFile } from '../../src/plan/index.js';

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
const scan = (i: number, s: number, room: string, direction = 'in'): object => ({ eventId: `e${i}`, eventType: 'badge.scanned', eventTime: at(s), data: { roomId: room, attendeeId: `a${i}`, direction } });
const scans = [scan(1, 5, 'r1'), scan(2, 10, 'r1'), scan(3, 20, 'r2'), scan(4, 30, 'r1', 'out'), scan(5, 70, 'r1'), scan(6, 100, 'r1'), scan(7, 130, 'r2'), scan(8, 140, 'r9'), scan(9, 150, 'r1')];

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
      { window_start: minute(0), window_end: minute(1), room: 'Hall A', capacity: 4, entries: 2, fill_ratio: 0.5 },
      { window_start: minute(0), window_end: minute(1), room: 'Hall B', capacity: 2, entries: 1, fill_ratio: 0.5 },
      { window_start: minute(1), window_end: minute(2), room: 'Hall A', capacity: 8, entries: 2, fill_ratio: 0.25 },
      { window_start: minute(2), window_end: minute(3), room: 'Hall A', capacity: 8, entries: 1, fill_ratio: 0.125 },
    ]);
    expect(read('cold')).toEqual(read('hot'));
    expect(read('cold-archive')).toEqual(read('hot')); // the archive holds the applied table changes
    expect(summary.metrics.room_fill_1m?.joinMisses).toBe(2); // r2 after it closed, r9 unknown
    expect(summary.tables?.rooms).toEqual({ records: 5, quarantined: 1, streams: { badge_scans: { changes: 4, applied: 4, late: 0, overflow: 0, versions: expect.any(Number) as number } } });
    expect(readFileSync(join(dir, 'hot', '_quarantine.ndjson'), 'utf8')).toContain('"stream":"rooms"');
  });
});
