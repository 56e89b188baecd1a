import type { Catalog, FieldDef, StreamDef } from './types.js';

/**
 * The archive lane of what an external lookup gave one stream's events, seen as a stream so it
 * archives and loads into DuckDB as events do: one record per accepted event, with the event's
 * id (`lane.event_id`, its dedup key) and time, the key asked (`lane.key`, as text; NULL when
 * the probe was NULL), the fallback reason (`lane.fallback`, NULL for an answer) and the
 * answer's row under `row.<field>` (absent for a 404 or a fallback). The cold path LEFT JOINs
 * it by event id, so it uses exactly the answers the hot path used. Named
 * `<lookup>.enrichment.<stream>` (not an identifier: it cannot clash with a catalog name).
 */
export function enrichmentLaneStream(lookup: StreamDef, stream: string): StreamDef {
  const pos = lookup.position;
  const meta = (path: string, type: FieldDef['type'], required: boolean): [string, FieldDef] => [path, { path, segments: path.split('.'), type, required, pii: undefined, position: pos }];
  const fields = new Map<string, FieldDef>([
    meta('lane.event_id', 'string', true), meta('lane.event_time', 'timestamp', true), meta('lane.key', 'string', false), meta('lane.fallback', 'string', false),
    ...[...lookup.fields.values()].map((f): [string, FieldDef] => [`row.${f.path}`, { ...f, path: `row.${f.path}`, segments: ['row', ...f.segments], required: false }]),
  ]);
  return {
    kind: 'stream', name: `${lookup.name}.enrichment.${stream}`, topic: lookup.topic, format: 'json', eventId: 'lane.event_id', eventTime: 'lane.event_time',
    watermarkDelayMs: 0, allowedLatenessMs: 0, idleTimeoutMs: 1, dedupTtlMs: 0, maxFutureMs: Number.MAX_SAFE_INTEGER, partitionKey: undefined,
    retentionMs: lookup.retentionMs, partitions: 1, fields, file: lookup.file, position: pos,
  };
}

/** The JSON record of {@link enrichmentLaneStream} for one event. */
export function enrichmentLaneRecord(eventId: string, eventTimeMs: number, key: string | number | null, row: Readonly<Record<string, unknown>> | null, fallback: string | null): Record<string, unknown> {
  return { lane: { event_id: eventId, event_time: eventTimeMs, key: key === null ? null : String(key), fallback }, ...(row ? { row } : {}) };
}

/** The enrichment lanes a catalog may archive: one per external lookup and stream. */
export function enrichmentLanes(catalog: Catalog): StreamDef[] {
  const all = [...catalog.streams.values()];
  return all.filter((l) => l.kind === 'lookup').flatMap((l) => all.filter((s) => s.kind === 'stream').map((s) => enrichmentLaneStream(l, s.name)));
}
