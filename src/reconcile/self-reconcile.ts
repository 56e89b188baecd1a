/**
 * A running engine reconciling itself: on a schedule, the archive is recomputed in DuckDB and
 * compared with the final rows the serving store holds (the windows it keeps), explained by the
 * archive's late lane. The counts per class go to /metrics (`pitwall_reconcile_rows`).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Catalog } from '../catalog/index.js';
import { hasLane, laneReadSql, readArchiveManifest } from '../archive/archive-lanes.js';
import { recompute } from '../cold/recompute.js';
import type { MetricPlan } from '../plan/index.js';
import type { ServingStore } from '../serve/serving-store.js';
import type { ResultRow } from '../util/result-row.js';
import { hashPii, reconcileMetric, rowIdOf, type LateLine, type MetricReconciliation } from './reconcile.js';

/** The archive's late lane as the late lines reconciliation reads. */
export async function lateLane(archive: string, streams: Iterable<string>): Promise<LateLine[]> {
  const out: LateLine[] = [];
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    const entries = readArchiveManifest(archive);
    for (const s of streams) {
      if (!hasLane(entries, 'late', s)) continue;
      const iso = (c: string): string => `strftime(${c}, '%Y-%m-%dT%H:%M:%S.%g') || 'Z'`;
      const source = laneReadSql(archive, entries, 'late', s);
      // Segments written before the partition evidence existed lack its columns (read as null when others have them).
      const columns = new Set((await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjectsJson().map((c) => String(c.column_name)));
      const evidence = columns.has('partition_idle') ? `, ${iso('partition_watermark')} AS partition_watermark, partition_idle` : '';
      const r = await conn.runAndReadAll(`SELECT metric, ${iso('window_start')} AS window_start, ${iso('window_end')} AS window_end, ${iso('event_time')} AS event_time${columns.has('_pw_partition') ? ', _pw_partition AS partition' : ''}${evidence} FROM ${source}`);
      // One push per row: spreading a lane of any size into call arguments overflows the stack.
      for (const row of r.getRowObjectsJson() as unknown as LateLine[]) out.push(row);
    }
  } finally {
    conn.closeSync();
  }
  return out;
}

/**
 * The store's final rows, with the archive's buffers handed over in the same tick and written
 * before this resolves: every event those rows counted is then in the archive.
 */
export async function captureFinals(plans: readonly MetricPlan[], store: ServingStore, flushArchive: () => Promise<void>): Promise<Map<string, ResultRow[]>> {
  const out = new Map(plans.map((p) => [p.name, store.query(p.name, { limit: Number.MAX_SAFE_INTEGER, offset: 0 }).rows.filter((r) => r.final).map((r) => (r.backfilled ? { ...r.row, backfilled: true } : r.row))]));
  await flushArchive();
  return out;
}

/**
 * Reconciles captured final rows against a recomputation of the archive (or archive group) at
 * `archive`. `keysOnly`: compare only the (window, key) rows the finals hold (a member of a
 * group that spans other processes holds the rows of the keys it merged, not every key of a
 * window); otherwise every row of the windows they hold.
 */
export async function selfReconcile(catalog: Catalog, plans: readonly MetricPlan[], finals: ReadonlyMap<string, ResultRow[]>, archive: string, piiKey: string | undefined, keysOnly = false): Promise<MetricReconciliation[]> {
  const dir = mkdtempSync(join(tmpdir(), 'pitwall-self-reconcile-'));
  try {
    await recompute(catalog, plans, { archive }, dir);
    const late = await lateLane(archive, new Set(plans.map((p) => p.stream.name)));
    return plans.map((p) => {
      const hot = hashPii(p, finals.get(p.name) ?? [], piiKey);
      const windows = new Set(hot.map((r) => String(r.window_start)));
      const idOf = rowIdOf(p);
      const ids = new Set(hot.map(idOf));
      // Only windows the store holds as final are compared (open or evicted ones are not).
      const path = join(dir, `${p.name}.ndjson`);
      const cold = existsSync(path)
        ? readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ResultRow).filter((r) => (keysOnly ? ids.has(idOf(r)) : windows.has(String(r.window_start))))
        : [];
      return reconcileMetric(p, hot, cold, late).summary;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
