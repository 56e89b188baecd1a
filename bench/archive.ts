/**
 * Archive figures: write rate (events/s through the archive writer alone), bytes per archived
 * event, and recompute of the bench metric over the archive vs a plain DuckDB GROUP BY over
 * the same Parquet files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ArchiveWriter } from '../src/archive/archive-writer.js';
import type { ValidEvent } from '../src/catalog/index.js';
import { attachArchive } from '../src/cold/archive-relation.js';
import { compileDuckDb } from '../src/cold/compile-plan.js';
import { benchCatalog, benchPayload, timeIt, type Figure } from './common.js';

export async function archiveFigures(n = Number(process.env.PITWALL_BENCH_ARCHIVE_EVENTS ?? 10_000_000)): Promise<Figure[]> {
  const { catalog, stream, plan } = benchCatalog();
  const dir = mkdtempSync(join(tmpdir(), 'pw-bench-archive-'));
  const writer = new ArchiveWriter(dir, catalog, { segmentRows: 100_000 });
  writer.open();
  const writeSecs = await timeIt(async () => {
    for (let i = 0; i < n; i++) {
      const payload = benchPayload(i);
      const ev: ValidEvent = { ok: true, eventId: payload.eventId as string, eventTimeMs: payload.eventTime as number, payload };
      writer.accepted(stream, ev, { partition: i % 3, offset: Math.floor(i / 3) }, JSON.stringify(payload));
      if (i % 1000 === 0) await writer.relieve();
    }
    await writer.close();
  });
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  await attachArchive(conn, stream, dir);
  const compiled = compileDuckDb(plan, { dedup: false }); // as recompute --archive runs it
  let metricRows = 0;
  const recomputeSecs = await timeIt(async () => { metricRows = (await conn.runAndReadAll(compiled.sql, [...compiled.parameters])).currentRowCount; });
  const glob = join(dir, 'orders', '**', '*.parquet');
  const plainSecs = await timeIt(async () => {
    await conn.runAndReadAll(`SELECT time_bucket(INTERVAL 1 minute, _pw_time) AS ws, data.restaurantId, count(*), sum(data.orderTotal), avg(data.orderTotal) FROM read_parquet('${glob}') GROUP BY ALL`);
  });
  conn.closeSync();
  rmSync(dir, { recursive: true, force: true });
  const rate = n / writeSecs;
  return [
    { id: 'e1', what: `archive write rate: ${n.toLocaleString('en-US')} events → Arrow batches → Parquet (zstd) segments of 100k rows, written by the archive's worker thread (the caller hands over raw JSON and waits on backpressure)`, value: `${Math.round(rate).toLocaleString('en-US')} events/s`, target: '(figure)', met: undefined },
    { id: 'e2', what: 'archive bytes per event (5 catalog fields + payload JSON column, zstd)', value: `${(writer.stats.bytes / n).toFixed(1)} bytes`, target: '(figure)', met: undefined },
    { id: 'e3', what: `recompute of the bench metric over the archive (compiled SQL, 1-min TUMBLE, ${metricRows.toLocaleString('en-US')} rows) vs a plain DuckDB GROUP BY over the same Parquet`, value: `${recomputeSecs.toFixed(2)} s vs ${plainSecs.toFixed(2)} s`, ratio: (recomputeSecs / plainSecs).toFixed(2), target: '(figure: time ratio)', met: undefined },
  ];
}
