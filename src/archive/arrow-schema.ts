/**
 * The archive's Arrow schema of a stream: pitwall's metadata columns, then the catalog fields
 * with nested payload objects kept as structs (so `data.field` reads naturally in DuckDB), then
 * the whole payload as JSON text so fields outside the catalog are never lost.
 *
 * | column          | type                    | meaning                                      |
 * |-----------------|-------------------------|----------------------------------------------|
 * | `_pw_partition` | Int32                   | input partition                              |
 * | `_pw_offset`    | Int64                   | input offset (with the partition: arrival)   |
 * | `_pw_event_id`  | Utf8                    | the event id (dedup key)                     |
 * | `_pw_time`      | Timestamp(ms, UTC)      | event time                                   |
 * | catalog fields  | Utf8/Int64/Float64/Bool/Timestamp, nested as Struct |                  |
 * | `_pw_payload`   | Utf8                    | the payload as JSON (after PII treatment)    |
 */
import { Bool, Field, Float64, Int32, Int64, Schema, Struct, TimestampMillisecond, Utf8, type DataType } from 'apache-arrow';
import type { FieldDef, FieldType, StreamDef } from '../catalog/index.js';

const ARROW: Record<FieldType, () => DataType> = {
  string: () => new Utf8(), int: () => new Int64(), double: () => new Float64(), boolean: () => new Bool(), timestamp: () => new TimestampMillisecond(),
};

/** Catalog fields by dot path as a tree: nested objects are inner nodes, fields are leaves (schema order). */
export interface FieldTree { leaf?: FieldDef; children: Map<string, FieldTree> }

export function fieldTree(fields: Iterable<FieldDef>): FieldTree {
  const root: FieldTree = { children: new Map() };
  for (const f of fields) {
    let node = root;
    for (const seg of f.segments) {
      let next = node.children.get(seg);
      if (!next) { next = { children: new Map() }; node.children.set(seg, next); }
      node = next;
    }
    node.leaf = f;
  }
  return root;
}

function arrowFields(t: FieldTree): Field[] {
  return [...t.children].map(([name, node]) => (node.leaf
    ? new Field(name, ARROW[node.leaf.type](), !node.leaf.required)
    : new Field(name, new Struct(arrowFields(node)), true)));
}

export const META_COLUMNS = ['_pw_partition', '_pw_offset', '_pw_event_id', '_pw_time'] as const;

/** The Arrow schema of a stream's archived events (PII `drop` fields are left out). */
export function archiveSchema(stream: StreamDef): Schema {
  const kept = [...stream.fields.values()].filter((f) => f.pii !== 'drop');
  return new Schema([
    new Field('_pw_partition', new Int32(), false),
    new Field('_pw_offset', new Int64(), false),
    new Field('_pw_event_id', new Utf8(), false),
    new Field('_pw_time', new TimestampMillisecond(), false),
    ...arrowFields(fieldTree(kept)),
    new Field('_pw_payload', new Utf8(), false),
  ]);
}
