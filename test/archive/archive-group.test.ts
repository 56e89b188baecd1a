/**
 * An archive group: the processes of one consumer group each write their own archive, and a
 * process that took partitions over after a rebalance may archive again what its predecessor
 * had archived. Read through the group's parent directory, the archives are one archive: every
 * reader (recompute, report counts, `pitwall sql`, the late lane) sees each record once.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { archiveRoots, readArchiveManifest } from '../../src/archive/archive-lanes.js';
import { ArchiveWriter } from '../../src/archive/archive-writer.js';
import { recompute } from '../../src/cold/recompute.js';
import { replay } from '../../src/hot/replay.js';
import { reconcileMetric } from '../../src/reconcile/reconcile.js';
import { lateLane } from '../../src/reconcile/self-reconcile.js';
import { runArchiveSql } from '../../src/report/archive-sql.js';
import { streamCounts } from '../../src/report/stream-counts.js';
import type { ResultRow } from '../../src/util/result-row.js';
import { buildArchiveFixture, PII_KEY, type ArchiveFixture } from '../report/report-fixture.js';

let fx: ArchiveFixture;
let group: string;

beforeAll(async () => {
  fx = await buildArchiveFixture(3000);
  // Two "processes": one archived offsets [0, 60%), the other [40%, end): the middle fifth twice.
  const input = join(fx.dir, 'orders.ndjson');
  const lines = readFileSync(input, 'utf8').split('\n').filter(Boolean).length;
  group = mkdtempSync(join(tmpdir(), 'pw-archive-group-'));
  const a = new ArchiveWriter(join(group, 'host-1'), fx.catalog, { piiKey: PII_KEY });
  const b = new ArchiveWriter(join(group, 'host-2'), fx.catalog, { piiKey: PII_KEY });
  a.open();
  b.open();
  const to = (offset: number): ArchiveWriter[] => [...(offset < lines * 0.6 ? [a] : []), ...(offset >= lines * 0.4 ? [b] : [])];
  const split = {
    accepted: (...args: Parameters<ArchiveWriter['accepted']>) => { for (const w of to(args[2].offset)) w.accepted(...args); },
    quarantined: (...args: Parameters<ArchiveWriter['quarantined']>) => { for (const w of to(args[0].origin.offset)) w.quarantined(...args); },
    late: (...args: Parameters<ArchiveWriter['late']>) => { for (const w of to(args[1].origin.offset)) w.late(...args); },
    relieve: async () => { await a.relieve(); await b.relieve(); },
    flush: async () => { await a.flush(); await b.flush(); },
  };
  await replay(fx.catalog, fx.plans, [{ stream: 'orders', file: input }], join(group, '..', `${group.split('/').pop() as string}-hot`), { archive: split as unknown as ArchiveWriter });
  writeFileSync(join(group, 'README'), 'not an archive: ignored\n');
}, 120_000);

describe('an archive group', () => {
  it('is found through its parent directory; its archives overlap', () => {
    expect(archiveRoots(group).map((r) => r.split('/').pop())).toEqual(['host-1', 'host-2']);
    expect(archiveRoots(fx.archive)).toEqual([fx.archive]);
    const rows = (dir: string): number => readArchiveManifest(dir).filter((e) => e.lane === 'events').reduce((n, e) => n + e.rows, 0);
    expect(rows(group)).toBeGreaterThan(rows(fx.archive)); // the overlap is in both
  });

  it('recomputes to the same rows and counts as the single archive', async () => {
    const one = await recompute(fx.catalog, fx.plans, { archive: fx.archive }, join(fx.dir, 'cold-one'));
    const both = await recompute(fx.catalog, fx.plans, { archive: group }, join(fx.dir, 'cold-group'));
    expect(both.streams).toEqual(one.streams);
    expect(one.streams.orders?.late).toBeGreaterThan(0);
    for (const p of fx.plans) {
      const read = (dir: string): ResultRow[] => readFileSync(join(fx.dir, dir, `${p.name}.ndjson`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ResultRow);
      // Same rows; doubles within reconciliation's tolerance (DuckDB sums floats in scan order).
      const r = reconcileMetric(p, read('cold-group'), read('cold-one'), []).summary;
      expect(r.rows, p.name).toBe(read('cold-one').length);
      expect(r.matches, p.name).toBe(r.rows);
    }
  });

  it('counts each record once in the report, in pitwall sql and in the late lane', async () => {
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      expect(await streamCounts(conn, group, readArchiveManifest(group))).toEqual(await streamCounts(conn, fx.archive, readArchiveManifest(fx.archive)));
    } finally {
      conn.closeSync();
    }
    const sql = 'SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM orders_quarantine), (SELECT count(*) FROM orders_late)';
    expect((await runArchiveSql(group, sql)).js).toEqual((await runArchiveSql(fx.archive, sql)).js);
    expect((await lateLane(group, ['orders'])).length).toBe((await lateLane(fx.archive, ['orders'])).length);
  });
});
