/** Catalog `kind: lookup` and the join to it: settings, defaults, coded errors with positions, inner joins refused. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog, parseCatalogFile } from '../../../src/catalog/index.js';
import type { CatalogError } from '../../../src/errors.js';
import { compileDuckDb } from '../../../src/cold/index.js';
import { describeHotPipeline } from '../../../src/hot/describe-pipeline.js';
import { explainPlan } from '../../../src/plan/explain.js';
import { enrichmentCatalog, LOOKUP_METRIC, lookupPlan } from './fixture.js';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function errorsOf(text: string): { code: string; message: string; line: number | undefined }[] {
  const errors: CatalogError[] = [];
  parseCatalogFile('room_info.yaml', text, errors);
  return errors.map((e) => ({ code: e.code, message: e.message, line: e.position?.line }));
}

describe('kind: lookup', () => {
  it('reads its settings, with defaults', () => {
    const { dir, catalog } = enrichmentCatalog(8080, { cache: '{ ttl: 1m, size: 50 }', breaker: '{ error_threshold: 25, reset_timeout: 3s }' });
    dirs.push(dir);
    expect(catalog.streams.get('room_info')?.lookup).toEqual({
      url: 'http://127.0.0.1:8080/rooms/{roomId}', key: 'roomId', timeoutMs: 200, concurrency: 4, cacheTtlMs: 60_000, cacheSize: 50,
      maxInFlight: 50_000, maxInFlightBytes: 16 * 1024 * 1024, errorThresholdPercent: 25, volumeThreshold: 10, resetTimeoutMs: 3000, windowMs: 10_000,
    });
  });

  it('refuses a URL without the key placeholder, a missing key, stream keys and bad durations, at their lines', () => {
    const base = 'name: room_info\nkind: lookup\n';
    const fields = 'fields:\n  roomId: { type: string }\n';
    expect(errorsOf(`${base}url: "http://x/rooms/{id}"\nkey: roomId\n${fields}`)).toEqual([
      { code: 'PW_CATALOG_LOOKUP_URL', message: expect.stringContaining('{roomId}') as string, line: 3 },
    ]);
    expect(errorsOf(`${base}url: "ftp://x/{roomId}"\nkey: roomId\n${fields}`)[0]?.code).toBe('PW_CATALOG_LOOKUP_URL');
    expect(errorsOf(`${base}url: "http://x/{roomId}"\n${fields}`)[0]?.message).toContain("missing key 'key'");
    expect(errorsOf(`${base}url: "http://x/{roomId}"\nkey: roomId\nevent_time: t\n${fields}`)).toEqual([
      { code: 'PW_CATALOG_KIND_KEY', message: expect.stringContaining('does not apply to an external lookup') as string, line: 5 },
    ]);
    expect(errorsOf(`${base}url: "http://x/{roomId}"\nkey: roomId\ntimeout: soon\n${fields}`)).toEqual([
      { code: 'PW_CATALOG_DURATION', message: expect.stringContaining("key 'timeout' has 'soon'") as string, line: 5 },
    ]);
    expect(errorsOf(`name: s\nevent_id: id\nevent_time: t\nurl: "http://x/{id}"\nfields:\n  id: { type: string, required: true }\n  t: { type: timestamp, required: true }\n`)[0]).toMatchObject({ code: 'PW_CATALOG_KIND_KEY', line: 4 });
  });

  it('is joined with LEFT JOIN; an inner JOIN is refused at its position', () => {
    const { dir, catalog } = enrichmentCatalog(8080);
    dirs.push(dir);
    const plan = lookupPlan(catalog);
    expect(explainPlan(plan)).toContain('LookupJoin: LEFT room_info (external lookup, url=http://127.0.0.1:8080/rooms/{roomId}, timeout=200ms) ON room_info.roomId = data.roomId');
    expect(describeHotPipeline(plan).join('\n')).toContain('at most max_in_flight=50000 events');
    // The cold path joins the archived answers by event id, the first record of an id only.
    const { sql } = compileDuckDb(plan);
    expect(sql).toContain('answers AS (SELECT * FROM "pw_answers_room_info_scans" QUALIFY row_number() OVER (PARTITION BY "lane.event_id" ORDER BY _pw_arrival) = 1)');
    expect(sql).toContain('joined AS (SELECT e.*, x."row.roomId" AS "$t.roomId", x."row.name" AS "$t.name", x."row.capacity" AS "$t.capacity" FROM deduped e LEFT JOIN answers x ON x."lane.event_id" = e._pw_event_id)');
    const inner = LOOKUP_METRIC.replace('LEFT JOIN', 'JOIN');
    expect(() => lookupPlan(catalog, inner)).toThrow(expect.objectContaining({ code: 'PW_PLAN_JOIN_LOOKUP_INNER', message: expect.stringContaining('LEFT JOIN') as string }) as Error);
    try { lookupPlan(catalog, inner); } catch (e) { expect((e as CatalogError).position).toMatchObject({ line: 4, col: 1 }); }
  });

  it('loads next to streams and tables', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-lookup-cat-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'geo.yaml'), 'name: geo\nkind: lookup\nurl: "https://geo.example/v1/{ip}"\nkey: ip\nfields:\n  ip: { type: string }\n  country: { type: string }\n');
    expect(loadCatalog(dir).streams.get('geo')?.kind).toBe('lookup');
  });
});
