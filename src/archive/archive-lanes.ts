/**
 * Where an archive's lanes live and which streams it holds, read from its manifest (the
 * manifest lists exactly the complete segments, see src/archive/manifest.ts).
 *
 * Every reader of the archive (recompute, report, `pitwall sql`, reconciliation) also accepts an
 * **archive group**: a directory whose subdirectories are archives, as the processes of one
 * consumer group write them (each process its own `--archive`, e.g. `archive/<host>-<n>`). Read
 * together, the group's archives are one archive: a record archived by two processes (one
 * redid work its predecessor had archived before a rebalance) counts once, by its input
 * partition and offset (and, in the late lane, its metric and window).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ExecutionError } from '../errors.js';
import { Manifest, type Lane, type SegmentEntry } from './manifest.js';

/** A manifest entry with the archive it belongs to. */
export interface ArchivedSegment extends SegmentEntry {
  /** The archive directory holding it (one of {@link archiveRoots}). */
  readonly root: string;
}

const isArchive = (dir: string): boolean => existsSync(join(dir, '_manifest.ndjson'));

/**
 * The archives at `dir`: `[dir]` when it is an archive, else its subdirectories that are
 * (sorted by name).
 *
 * @throws ExecutionError PW_ARCHIVE_MISSING when it is neither.
 */
export function archiveRoots(dir: string): string[] {
  if (isArchive(dir)) return [dir];
  const subdirs = existsSync(dir) && statSync(dir).isDirectory()
    ? readdirSync(dir).sort().map((name) => join(dir, name)).filter((p) => statSync(p).isDirectory() && isArchive(p))
    : [];
  if (subdirs.length === 0) {
    throw new ExecutionError('PW_ARCHIVE_MISSING', `'${dir}' is not a pitwall archive (no _manifest.ndjson, nor subdirectories with one); pass the directory given to --archive when the events were processed, or the parent of the --archive directories of a group's processes`);
  }
  return subdirs;
}

/**
 * Reads the manifests of the archive (or archive group) at `dir`, read-only.
 *
 * @throws ExecutionError PW_ARCHIVE_MISSING when `dir` holds no archive.
 */
export function readArchiveManifest(dir: string): ArchivedSegment[] {
  return archiveRoots(dir).flatMap((root) => Manifest.read(root).map((e) => ({ ...e, root })));
}

/** Streams with at least one segment in any lane, sorted by name. */
export function archivedStreams(entries: readonly SegmentEntry[]): string[] {
  return [...new Set(entries.map((e) => e.stream))].sort();
}

/** True when the manifest lists a segment of `lane` for `stream`. */
export function hasLane(entries: readonly SegmentEntry[], lane: Lane, stream: string): boolean {
  return entries.some((e) => e.lane === lane && e.stream === stream);
}

/** True when `entries` (of {@link readArchiveManifest}`(dir)`) come from an archive group, not from `dir` itself. */
function inGroup(dir: string, entries: readonly ArchivedSegment[]): boolean {
  return entries.some((e) => e.root !== dir);
}

/** Rows the manifest lists for (`lane`, `stream`) (in an archive group, copies in two archives count twice: see {@link laneRowCount}). */
export function laneRows(entries: readonly SegmentEntry[], lane: Lane, stream: string): number {
  return entries.filter((e) => e.lane === lane && e.stream === stream).reduce((n, e) => n + e.rows, 0);
}

/** The columns that identify one record of a lane (a late pair is one event in one window of one metric). */
const IDENTITY: Record<Lane, string> = { events: '_pw_partition, _pw_offset', quarantine: '_pw_partition, _pw_offset', late: '_pw_partition, _pw_offset, metric, window_start' };

/**
 * A relation (SQL, paths quoted) over every segment of a lane of the archive or archive group
 * at `dir`, given its `entries` ({@link readArchiveManifest}): `read_parquet(...)` of one
 * archive, or of the segments the group's manifests list, with each record once. The lane must
 * exist somewhere ({@link hasLane}).
 */
export function laneReadSql(dir: string, entries: readonly ArchivedSegment[], lane: Lane, stream: string): string {
  const quote = (path: string): string => `'${path.replace(/'/g, "''")}'`;
  if (!inGroup(dir, entries)) {
    return `read_parquet(${quote(join(lane === 'events' ? join(dir, stream) : join(dir, `_${lane}`, stream), '**', '*.parquet'))}, hive_partitioning = true, union_by_name = true)`;
  }
  // The segments each manifest lists: a process killed mid-write leaves files its manifest does
  // not (their records were archived again by the process that redid the work).
  const files = entries.filter((e) => e.lane === lane && e.stream === stream).map((e) => quote(join(e.root, e.file)));
  return `(SELECT * EXCLUDE (_pw_copy) FROM (SELECT *, row_number() OVER (PARTITION BY ${IDENTITY[lane]}) AS _pw_copy FROM read_parquet([${files.join(', ')}], hive_partitioning = true, union_by_name = true)) WHERE _pw_copy = 1)`;
}

/**
 * Records of (`lane`, `stream`): from the manifest for one archive; counted in DuckDB (each
 * record once) for an archive group.
 */
export async function laneRowCount(conn: DuckDBConnection, dir: string, entries: readonly ArchivedSegment[], lane: Lane, stream: string): Promise<number> {
  if (!hasLane(entries, lane, stream)) return 0;
  if (!inGroup(dir, entries)) return laneRows(entries, lane, stream);
  const rows = (await conn.runAndReadAll(`SELECT count(*) FROM ${laneReadSql(dir, entries, lane, stream)}`)).getRows();
  return Number(rows[0]?.[0] ?? 0);
}
