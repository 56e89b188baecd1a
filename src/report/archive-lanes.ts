/**
 * Where an archive's lanes live and which streams it holds, read from its manifest (the
 * manifest lists exactly the complete segments, see src/archive/manifest.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Manifest, type Lane, type SegmentEntry } from '../archive/manifest.js';
import { ExecutionError } from '../errors.js';

/** Reads the manifest of the archive at `root`; a directory without one is an error. */
export function readArchiveManifest(root: string): SegmentEntry[] {
  if (!existsSync(join(root, '_manifest.ndjson'))) {
    throw new ExecutionError('PW_ARCHIVE_MISSING', `'${root}' is not a pitwall archive (no _manifest.ndjson); pass the directory given to --archive when the events were processed`);
  }
  return Manifest.read(root);
}

/** Streams with at least one segment in any lane, sorted by name. */
export function archivedStreams(entries: readonly SegmentEntry[]): string[] {
  return [...new Set(entries.map((e) => e.stream))].sort();
}

/** True when the manifest lists a segment of `lane` for `stream`. */
export function hasLane(entries: readonly SegmentEntry[], lane: Lane, stream: string): boolean {
  return entries.some((e) => e.lane === lane && e.stream === stream);
}

/** Rows the manifest lists for (`lane`, `stream`). */
export function laneRows(entries: readonly SegmentEntry[], lane: Lane, stream: string): number {
  return entries.filter((e) => e.lane === lane && e.stream === stream).reduce((n, e) => n + e.rows, 0);
}

/** A `read_parquet(...)` expression over every segment of a lane (paths quoted for SQL). */
export function laneReadSql(root: string, lane: Lane, stream: string): string {
  const dir = lane === 'events' ? join(root, stream) : join(root, `_${lane}`, stream);
  const glob = join(dir, '**', '*.parquet').replace(/'/g, "''");
  return `read_parquet('${glob}', hive_partitioning = true, union_by_name = true)`;
}
