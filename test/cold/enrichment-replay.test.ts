/**
 * An external lookup end to end: replay calls a local service (127.0.0.1) that fails for part
 * of the run, archives every answer it used, and recompute from that archive gives exactly the
 * hot rows (the cold path LEFT JOINs the archived answers by event id), fallbacks included.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../src/archive/archive-writer.js';
import { recompute } from '../../src/cold/recompute.js';
import { replay } from '../../src/hot/replay.js';
import { enrichmentCatalog, lookupPlan, scan } from '../hot/enrichment/fixture.js';
import { LookupServer } from '../hot/enrichment/lookup-server.js';

const server = new LookupServer();
let dir = '';
beforeAll(async () => { await server.start(); });
afterAll(async () => { await server.stop(); if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('replay with an external lookup', () => {
  it('hot rows equal recompute from the archive, whatever the service answered', async () => {
    const fixture = enrichmentCatalog(server.port, { timeout: '2s', cache: '{ size: 0 }', breaker: '{ volume_threshold: 100000 }' });
    dir = fixture.dir;
    const { catalog } = fixture;
    const plan = lookupPlan(catalog);
    // Rooms r1, r22 known; none9 unknown (404); r333 fails (HTTP 500: a fallback); one scan in ten without a room.
    const rooms = ['r1', 'r22', 'none9', null, 'r1', 'r22', 'r1', 'r333', 'r1', 'r22'];
    const records = Array.from({ length: 200 }, (_, i) => scan(i, rooms[i % rooms.length] as string | null, i));
    const file = join(dir, 'scans.ndjson');
    writeFileSync(file, records.map((r) => r.value).join('\n'));
    server.mode = 'ok';
    server.failKeys.add('r333');
    // The service is slow now and then: answers arrive out of order, the window fills and empties.
    const jitter = setInterval(() => { server.delayMs = server.delayMs ? 0 : 3; }, 7);
    const archive = new ArchiveWriter(join(dir, 'archive'), catalog, { piiKey: 'k' });
    archive.open();
    let summary;
    try {
      summary = await replay(catalog, [plan], [{ stream: 'scans', file }], join(dir, 'hot'), { archive });
    } finally {
      clearInterval(jitter);
      server.delayMs = 0;
      server.failKeys.clear();
    }
    await archive.close();
    await recompute(catalog, [plan], { archive: join(dir, 'archive') }, join(dir, 'cold'));
    const read = (side: string, name = 'room_fill.ndjson'): unknown[] => readFileSync(join(dir, side, name), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(read('cold')).toEqual(read('hot'));
    const lane = read('hot', '_enrichment.ndjson') as { key: string | null; row: unknown; fallback: string | null }[];
    expect(lane).toHaveLength(200);
    const stats = summary.enrichment?.room_info;
    const fallbacks = Object.values(stats?.fallbacks ?? {}).reduce((a, b) => a + b, 0);
    expect(stats?.fallbacks.http_status).toBe(20); // r333, every tenth scan
    expect(lane.filter((l) => l.fallback !== null)).toHaveLength(fallbacks);
    expect(lane.filter((l) => l.key === null)).toHaveLength(20);
    expect(summary.metrics.room_fill?.joinMisses).toBe(lane.filter((l) => l.row === null).length);
    expect(JSON.stringify(read('hot'))).toContain('Hall r22');
  });
});
