/**
 * Ad-hoc SQL over an archive (`pitwall sql`): an in-memory DuckDB where every archived stream is
 * a view named after the stream with the archive's raw columns (nested structs, `_pw_payload`,
 * `_pw_time`, Hive partition columns `date` and `hour`), plus `<stream>_quarantine` and
 * `<stream>_late` over the lanes that exist. Catalog streams with nothing archived get an
 * empty view of the same shape. A failing query is a `PW_SQL_QUERY` error with DuckDB's message.
 */
import { DuckDBInstance, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import type { Lane } from '../archive/manifest.js';
import type { Catalog } from '../catalog/index.js';
import { quoteIdent } from '../cold/duckdb-dialect.js';
import { ExecutionError } from '../errors.js';
import { archivedStreams, hasLane, laneReadSql, readArchiveManifest, type ArchivedSegment } from '../archive/archive-lanes.js';
import { emptyStreamViewSql } from './empty-stream-view.js';

export interface ArchiveView {
  readonly name: string;
  readonly stream: string;
  readonly lane: Lane;
  /** False for an empty view of a catalog stream with nothing archived. */
  readonly archived: boolean;
}

export interface SqlResult {
  readonly columns: readonly string[];
  readonly types: readonly DuckDBType[];
  /** DuckDB's own values (for display as DuckDB prints them). */
  readonly values: readonly (readonly DuckDBValue[])[];
  /** The same rows as plain JavaScript values (bigint, Date, nested objects and arrays). */
  readonly js: readonly (readonly unknown[])[];
  readonly views: readonly ArchiveView[];
}

const VIEW_SUFFIX: Record<Lane, string> = { events: '', quarantine: '_quarantine', late: '_late' };

/** The views `pitwall sql` creates for an archive's manifest `entries` (and, optionally, a catalog). */
export function archiveViews(entries: readonly ArchivedSegment[], catalog?: Catalog): ArchiveView[] {
  const views: ArchiveView[] = [];
  for (const stream of archivedStreams(entries)) {
    for (const lane of ['events', 'quarantine', 'late'] as const) {
      if (hasLane(entries, lane, stream)) views.push({ name: `${stream}${VIEW_SUFFIX[lane]}`, stream, lane, archived: true });
    }
  }
  for (const s of catalog?.streams.values() ?? []) {
    if (s.kind === 'stream' && !views.some((v) => v.stream === s.name && v.lane === 'events')) views.push({ name: s.name, stream: s.name, lane: 'events', archived: false });
  }
  return views;
}

/** Runs `sql` over the archive at `root` and returns every row. */
export async function runArchiveSql(root: string, sql: string, catalog?: Catalog): Promise<SqlResult> {
  const entries = readArchiveManifest(root);
  const views = archiveViews(entries, catalog);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    for (const v of views) {
      const def = catalog?.streams.get(v.stream);
      try {
        await conn.run(v.archived || !def
          ? `CREATE VIEW ${quoteIdent(v.name)} AS SELECT * FROM ${laneReadSql(root, entries, v.lane, v.stream)}`
          : emptyStreamViewSql(def, v.name));
      } catch (err) {
        throw new ExecutionError('PW_SQL_QUERY', `could not open view '${v.name}' over the archive '${root}': ${(err as Error).message.trim()}`, { cause: err });
      }
    }
    let reader;
    try {
      reader = await conn.runAndReadAll(sql);
    } catch (err) {
      const names = views.map((v) => (v.archived ? v.name : `${v.name} (nothing archived)`)).join(', ') || 'none';
      throw new ExecutionError('PW_SQL_QUERY', `DuckDB rejected the query: ${(err as Error).message.trim()}\n(views over the archive: ${names})`, { cause: err });
    }
    return { columns: reader.columnNames(), types: reader.columnTypes(), values: reader.getRows(), js: reader.getRowsJS(), views };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
