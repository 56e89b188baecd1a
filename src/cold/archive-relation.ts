/**
 * The canonical events relation of a stream over its Parquet archive: a DuckDB view that reads
 * every segment of `archive/<stream>/` (Hive partitions date/hour; of every archive of an
 * archive group, each record once: src/archive/archive-lanes.ts) and flattens the nested
 * struct columns to the dot-path columns compiled metrics read. Arrival order is the input
 * order within a partition (partition × 2^40 + offset; a redelivery lands on its original
 * partition). PII-dropped fields read as NULL; `_pw_payload` is the event's JSON text (after PII
 * treatment), which json_extract_string reads.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { hasLane, laneReadSql, readArchiveManifest, type ArchivedSegment } from '../archive/archive-lanes.js';
import type { StreamDef } from '../catalog/index.js';
import { ExecutionError } from '../errors.js';
import { DUCK_TYPES, quoteIdent, relationName } from './duckdb-dialect.js';

/** SQL of the canonical view of `stream` over the archive (or archive group) at `root`, whose manifests hold `entries`. */
export function archiveViewSql(stream: StreamDef, root: string, entries: readonly ArchivedSegment[], view = relationName(stream)): string {
  const cols = [...stream.fields.values()].map((f) => {
    const expr = f.pii === 'drop' ? 'NULL' : f.segments.map(quoteIdent).join('.');
    return `CAST(${expr} AS ${DUCK_TYPES[f.type]}) AS ${quoteIdent(f.path)}`;
  });
  return `CREATE OR REPLACE VIEW ${quoteIdent(view)} AS SELECT CAST(_pw_partition AS BIGINT) * 1099511627776 + _pw_offset AS _pw_arrival, _pw_event_id, CAST(_pw_time AS TIMESTAMP) AS _pw_time, ${cols.join(', ')}, _pw_payload FROM ${laneReadSql(root, entries, 'events', stream.name)}`;
}

/**
 * Creates the canonical view of `stream` over the archive or archive group at `root`.
 *
 * @throws ExecutionError PW_ARCHIVE_MISSING when `root` holds no archive, or no events of `stream`.
 */
export async function attachArchive(conn: DuckDBConnection, stream: StreamDef, root: string, entries: readonly ArchivedSegment[] = readArchiveManifest(root)): Promise<string> {
  if (!hasLane(entries, 'events', stream.name)) {
    throw new ExecutionError('PW_ARCHIVE_MISSING', `the archive '${root}' holds no events of stream '${stream.name}'`);
  }
  await conn.run(archiveViewSql(stream, root, entries));
  return relationName(stream);
}
