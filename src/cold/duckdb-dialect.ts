/**
 * How pitwall's plan reads in DuckDB SQL: identifier quoting, types, and the canonical event
 * relation every compiled metric reads from.
 *
 * The canonical relation of a stream has one row per accepted (validated) arrival:
 * `_pw_arrival` (BIGINT, arrival order: first arrival of an event id wins), `_pw_event_id`
 * (VARCHAR), `_pw_time` (TIMESTAMP, the event time at millisecond precision), then one column
 * per catalog field named by its dot path (`"data.orderTotal"`), typed from the catalog, then
 * `_pw_payload` (VARCHAR, the whole payload as JSON text, which json_extract_string reads).
 * Loaders (NDJSON through pitwall's validator, the Parquet archive) produce this shape, so one
 * compiled statement serves every source.
 */
import type { FieldType, StreamDef } from '../catalog/index.js';
import type { SqlType } from '../plan/index.js';

export const DUCK_TYPES: Record<FieldType, string> = {
  string: 'VARCHAR', int: 'BIGINT', double: 'DOUBLE', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP',
};

export function duckType(t: SqlType): string {
  return t === 'null' ? 'VARCHAR' : DUCK_TYPES[t];
}

/** Quotes an identifier for DuckDB (`data.x` → `"data.x"`). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export interface RelationColumn { readonly name: string; readonly type: string }

/** The canonical relation's columns for a stream. */
export function canonicalColumns(stream: StreamDef): RelationColumn[] {
  return [
    { name: '_pw_arrival', type: 'BIGINT' },
    { name: '_pw_event_id', type: 'VARCHAR' },
    { name: '_pw_time', type: 'TIMESTAMP' },
    ...[...stream.fields.values()].map((f) => ({ name: f.path, type: DUCK_TYPES[f.type] })),
    { name: '_pw_payload', type: 'VARCHAR' },
  ];
}

/** The default relation name of a stream's canonical events. */
export function relationName(stream: StreamDef): string {
  return `pw_events_${stream.name}`;
}
