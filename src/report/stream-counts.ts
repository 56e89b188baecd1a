/**
 * Per-stream counts for the report, from the archive: events and accepted events from the
 * manifest, quarantined payloads by reason code from the quarantine lane, late (event, window)
 * pairs per metric from the late lane. Duplicates are dropped before anything is archived, so
 * their count can only come from a hot run's `_summary.json`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { archivedStreams, hasLane, laneReadSql, laneRowCount, type ArchivedSegment } from '../archive/archive-lanes.js';

export interface StreamReport {
  readonly stream: string;
  /** Archived arrivals: accepted + quarantined (duplicates are not archived). */
  readonly events: number;
  readonly accepted: number;
  readonly quarantined: number;
  /** Quarantined payloads per reason code, most frequent first. */
  readonly quarantineByCode: readonly { code: string; count: number }[];
  /** From the hot run's `_summary.json`; undefined without one. */
  readonly duplicates: number | undefined;
  /** Distinct late events (an event late for several metrics counts once). */
  readonly lateEvents: number;
  /** Late (event, window) pairs per metric, by metric name. */
  readonly latePairsByMetric: readonly { metric: string; pairs: number }[];
}

async function rowsOf(conn: DuckDBConnection, sql: string): Promise<unknown[][]> {
  return (await conn.runAndReadAll(sql)).getRows() as unknown[][];
}

function hotDuplicates(hotDir: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  const path = hotDir ? join(hotDir, '_summary.json') : undefined;
  if (!path || !existsSync(path)) return out;
  const summary = JSON.parse(readFileSync(path, 'utf8')) as { streams?: Record<string, { duplicates?: number }> };
  for (const [name, s] of Object.entries(summary.streams ?? {})) if (typeof s.duplicates === 'number') out.set(name, s.duplicates);
  return out;
}

/** Counts for every stream the archive holds (sorted by stream name). */
export async function streamCounts(conn: DuckDBConnection, root: string, entries: readonly ArchivedSegment[], hotDir?: string): Promise<StreamReport[]> {
  const duplicates = hotDuplicates(hotDir);
  const out: StreamReport[] = [];
  for (const stream of archivedStreams(entries)) {
    const accepted = await laneRowCount(conn, root, entries, 'events', stream);
    const quarantined = await laneRowCount(conn, root, entries, 'quarantine', stream);
    const quarantineByCode = hasLane(entries, 'quarantine', stream)
      ? (await rowsOf(conn, `SELECT code, count(*) FROM ${laneReadSql(root, entries, 'quarantine', stream)} GROUP BY code ORDER BY count(*) DESC, code`))
        .map(([code, n]) => ({ code: String(code), count: Number(n) }))
      : [];
    let lateEvents = 0;
    let latePairsByMetric: { metric: string; pairs: number }[] = [];
    if (hasLane(entries, 'late', stream)) {
      const late = laneReadSql(root, entries, 'late', stream);
      lateEvents = Number((await rowsOf(conn, `SELECT count(DISTINCT event_id) FROM ${late}`))[0]?.[0] ?? 0);
      latePairsByMetric = (await rowsOf(conn, `SELECT metric, count(*) FROM ${late} GROUP BY metric ORDER BY metric`))
        .map(([metric, n]) => ({ metric: String(metric), pairs: Number(n) }));
    }
    out.push({ stream, events: accepted + quarantined, accepted, quarantined, quarantineByCode, duplicates: duplicates.get(stream), lateEvents, latePairsByMetric });
  }
  return out;
}
