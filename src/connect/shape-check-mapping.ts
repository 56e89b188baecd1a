/**
 * The light shape check Redpanda Connect runs on every message before it reaches a topic,
 * as one Bloblang `mapping` per stream. It mirrors the first checks of pitwall's own payload
 * validator (src/catalog/payload-validator.ts) with the same quarantine codes, so a producer
 * learns about a broken payload at the edge, while pitwall still validates types downstream.
 *
 * The payload bytes are kept exactly as sent (`root = content()`), valid or not. The mapping
 * only sets metadata:
 * - `pitwall_topic`: the stream's topic, or `<topic>.dlq` when the check fails;
 * - `pitwall_key`: the partition key's value (as text) of a valid event; absent when the stream
 *   has no partition key, the value is missing or null, or the event goes to the DLQ — the
 *   output then writes a null Kafka key;
 * - `pitwall-error-code` and `pitwall-error` (DLQ only): the quarantine code and the reason,
 *   written as Kafka headers.
 * Blank lines (e.g. the trailing newline of an NDJSON body) are dropped. With catalog
 * `versions`, required fields a version moves and the version rule itself are left to pitwall
 * (the event id, event time and partition key never move).
 */
import type { StreamDef } from '../catalog/index.js';

/** The ISO-8601 shapes pitwall's timestamp parser reads (src/util/timestamp.ts), as RE2. */
const ISO_8601 = String.raw`^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*(?:Z|z|[+-]\d{2}(?::?\d{2})?)?$`;

/** A Bloblang string literal (its escapes are Go's, which JSON's are a subset of). */
const lit = (s: string): string => JSON.stringify(s);

/** Metadata keys the generated config reads; headers are the `pitwall-` ones only. */
export const META_TOPIC = 'pitwall_topic';
export const META_KEY = 'pitwall_key';
export const HEADER_PREFIX = 'pitwall-';

/** The Bloblang mapping that checks one stream's payloads and routes them (see module doc). */
export function shapeCheckMapping(stream: StreamDef): string {
  // A required field some catalog version moves is checked by pitwall, which knows the versions.
  const moves = (path: string): boolean => [...(stream.versions?.byNumber.values() ?? [])].some((v) => v.moved.has(path));
  const required = [...stream.fields.values()].filter((f) => f.required && !moves(f.path)).map((f) => f.path);
  const time = stream.eventTime;
  const key = stream.partitionKey;
  return [
    'root = if content().string().trim() == "" { deleted() } else { content() }',
    'let kind = content().parse_json().type().catch("unparseable")',
    'let doc = if $kind == "object" { content().parse_json() } else { {} }',
    `let missing = [${required.map(lit).join(', ')}].filter(p -> $doc.get(p) == null)`,
    `let t = $doc.get(${lit(time)})`,
    'let time_ok = match {',
    `  $t.type() == "string" => $t.re_match(${lit(ISO_8601)}),`,
    '  $t.type() == "number" => $t == $t.round(),',
    '  _ => false,',
    '}',
    'let code = match {',
    '  $kind == "unparseable" => "PW_PAYLOAD_NOT_JSON",',
    '  $kind != "object" => "PW_PAYLOAD_NOT_OBJECT",',
    '  $missing.length() > 0 => "PW_PAYLOAD_MISSING_FIELD",',
    '  !$time_ok => "PW_PAYLOAD_BAD_TIMESTAMP",',
    '  _ => null,',
    '}',
    'let reason = match $code {',
    '  "PW_PAYLOAD_NOT_JSON" => "payload is not JSON",',
    '  "PW_PAYLOAD_NOT_OBJECT" => "payload must be a JSON object, got " + $kind,',
    '  "PW_PAYLOAD_MISSING_FIELD" => "required field(s) missing or null: " + $missing.map_each(p -> "\'" + p + "\'").join(", "),',
    `  "PW_PAYLOAD_BAD_TIMESTAMP" => ${lit(`field '${time}' holds `)} + $t.format_json(no_indent: true).string() + ", which is not an ISO-8601 timestamp or integer epoch milliseconds",`,
    '  _ => null,',
    '}',
    `meta ${META_TOPIC} = if $code == null { ${lit(stream.topic)} } else { ${lit(`${stream.topic}.dlq`)} }`,
    'if $code != null {',
    `  meta "${HEADER_PREFIX}error-code" = $code`,
    `  meta "${HEADER_PREFIX}error" = $reason`,
    '}',
    ...(key
      ? [
        `let key = if $code == null { $doc.get(${lit(key)}) } else { null }`,
        `if $key != null { meta ${META_KEY} = $key.string() }`,
      ]
      : []),
  ].join('\n');
}
