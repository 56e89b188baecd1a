/**
 * An empty view with the archive's column layout of a stream (its Arrow schema plus the Hive
 * partition columns), for catalog streams that have nothing archived yet: queries over them
 * return no rows instead of failing on a missing table.
 */
import { DataType, type Field } from 'apache-arrow';
import { archiveSchema } from '../archive/arrow-schema.js';
import type { StreamDef } from '../catalog/index.js';
import { quoteIdent } from '../cold/duckdb-dialect.js';

/** The DuckDB type of an archive column's Arrow type. */
export function duckTypeOfArrow(type: DataType): string {
  if (DataType.isStruct(type)) return `STRUCT(${type.children.map((f: Field) => `${quoteIdent(f.name)} ${duckTypeOfArrow(f.type)}`).join(', ')})`;
  if (DataType.isInt(type)) return type.bitWidth === 64 ? 'BIGINT' : 'INTEGER';
  if (DataType.isFloat(type)) return 'DOUBLE';
  if (DataType.isBool(type)) return 'BOOLEAN';
  if (DataType.isTimestamp(type)) return 'TIMESTAMP';
  return 'VARCHAR';
}

/** `CREATE VIEW <view>` with the archive's columns of `stream` and no rows. */
export function emptyStreamViewSql(stream: StreamDef, view: string): string {
  const cols = archiveSchema(stream).fields.map((f) => `CAST(NULL AS ${duckTypeOfArrow(f.type)}) AS ${quoteIdent(f.name)}`);
  return `CREATE VIEW ${quoteIdent(view)} AS SELECT ${cols.join(', ')}, CAST(NULL AS DATE) AS "date", CAST(NULL AS BIGINT) AS "hour" WHERE false`;
}
