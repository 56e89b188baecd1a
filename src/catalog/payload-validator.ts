/**
 * Payload validation compiled from a stream's `fields` (ajv for shapes and types, then the
 * timestamp fields parsed, then the value domain of value-domain.ts). A payload that is not a
 * JSON object, lacks a required field, or holds a value of the wrong type or outside the value
 * domain is rejected with a code and a reason; it then goes to the quarantine lane, never
 * silently away. Fields not in the catalog are kept, not validated (but count for the depth).
 * With catalog `versions`, each field is validated where the payload's version carries it and
 * the valid event's payload is rewritten to the declared paths (versions.ts).
 */
import { Ajv, type ErrorObject } from 'ajv';
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, formatTimestamp, parseTimestampMs } from '../util/timestamp.js';
import { getPath } from './get-path.js';
import type { FieldDef, FieldType, StreamDef, StreamVersions, VersionDef } from './types.js';
import { locationIn, payloadVersion, toDeclaredPaths } from './versions.js';
import { MAX_EXACT_INT, MAX_PAYLOAD_DEPTH, nestsDeeperThan, unpairedSurrogate } from './value-domain.js';

/** Why a payload was quarantined (stable codes, listed in docs/errors.md). */
export type QuarantineCode =
  | 'PW_PAYLOAD_NOT_JSON'
  | 'PW_PAYLOAD_NOT_OBJECT'
  | 'PW_PAYLOAD_MISSING_FIELD'
  | 'PW_PAYLOAD_WRONG_TYPE'
  | 'PW_PAYLOAD_BAD_TIMESTAMP'
  | 'PW_PAYLOAD_TOO_DEEP'
  | 'PW_PAYLOAD_UNKNOWN_VERSION';

export interface ValidEvent {
  readonly ok: true;
  /** The dedup key: the event id as a string. */
  readonly eventId: string;
  readonly eventTimeMs: number;
  readonly payload: Record<string, unknown>;
}

export interface RejectedPayload {
  readonly ok: false;
  readonly code: QuarantineCode;
  readonly reason: string;
}

export type ValidationResult = ValidEvent | RejectedPayload;

type JsonSchema = Record<string, unknown>;

const JSON_TYPE: Record<FieldType, string | string[]> = {
  string: 'string', int: 'integer', double: 'number', boolean: 'boolean', timestamp: ['string', 'integer'],
};

/** Builds the nested JSON schema for dot-path fields. */
function schemaFor(fields: readonly FieldDef[]): JsonSchema {
  const root: JsonSchema = { type: 'object', properties: {}, required: [] };
  for (const f of fields) {
    let node = root;
    f.segments.forEach((seg, i) => {
      const props = node.properties as Record<string, JsonSchema>;
      const last = i === f.segments.length - 1;
      if (last) {
        const t = JSON_TYPE[f.type];
        props[seg] = { type: f.required ? t : [...(Array.isArray(t) ? t : [t]), 'null'] };
        // ints: exactly representable on every path (JSON.parse reads larger ones rounded).
        if (f.type === 'int') Object.assign(props[seg] as JsonSchema, { minimum: -MAX_EXACT_INT, maximum: MAX_EXACT_INT });
      } else {
        props[seg] ??= { type: ['object', 'null'], properties: {}, required: [] };
        node = props[seg] as JsonSchema;
      }
    });
  }
  // Required propagates upward: a required leaf makes every enclosing object required and non-null.
  for (const f of fields) {
    if (!f.required) continue;
    let node = root;
    for (const seg of f.segments) {
      const req = node.required as string[];
      if (!req.includes(seg)) req.push(seg);
      const child = (node.properties as Record<string, JsonSchema>)[seg] as JsonSchema;
      if (Array.isArray(child.type) && child.type.includes('object')) child.type = 'object';
      node = child;
    }
  }
  return root;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'a number too large for a double (it reads as ±Infinity)';
    return Number.isInteger(value) ? 'integer' : 'number';
  }
  return typeof value;
}

/** A compiled validator for one stream. */
export type PayloadValidator = (payload: unknown) => ValidationResult;

/** A declared field where one version carries it: `path`/`segments` are that place, `declared` the catalog's path. */
type LocatedField = FieldDef & { readonly declared: string };

/** The checks of one payload shape (ajv, then timestamps and strings); undefined when the payload passes. */
type ShapeCheck = (payload: Record<string, unknown>) => RejectedPayload | undefined;

function compileShapeCheck(fields: readonly LocatedField[], version: number | undefined): ShapeCheck {
  // strictNumbers: `strict: false` would let JSON.parse's ±Infinity (from 1e400) pass as a number.
  const ajv = new Ajv({ allErrors: false, strict: false, strictNumbers: true });
  const check = ajv.compile(schemaFor(fields));
  const byPath = new Map(fields.map((f) => [f.path, f]));
  const timestamps = fields.filter((f) => f.type === 'timestamp');
  const strings = fields.filter((f) => f.type === 'string');
  // A moved field's reason names the declared field too, so the producer sees both names.
  const name = (path: string): string => {
    const f = byPath.get(path);
    return f && f.declared !== path ? `'${path}' (where version ${String(version)} carries '${f.declared}')` : `'${path}'`;
  };

  const reject = (err: ErrorObject, payload: unknown): RejectedPayload => {
    const parts = err.instancePath.split('/').slice(1);
    if (err.keyword === 'required') {
      const path = [...parts, (err.params as { missingProperty: string }).missingProperty].join('.');
      return { ok: false, code: 'PW_PAYLOAD_MISSING_FIELD', reason: `required field ${name(path)} is missing` };
    }
    const path = parts.join('.');
    const f = byPath.get(path);
    if (err.keyword === 'minimum' || err.keyword === 'maximum') {
      return { ok: false, code: 'PW_PAYLOAD_WRONG_TYPE', reason: `field ${name(path)} must be int within ±${MAX_EXACT_INT} (2^53−1, exact on every path), got ${String(getPath(payload, parts))}; send larger ids or counters as strings` };
    }
    const got = typeName(getPath(payload, parts));
    if (got === 'null' && f?.required) {
      return { ok: false, code: 'PW_PAYLOAD_MISSING_FIELD', reason: `required field ${name(path)} is null` };
    }
    const want = f ? f.type : 'an object';
    return { ok: false, code: 'PW_PAYLOAD_WRONG_TYPE', reason: `field ${name(path)} must be ${want}, got ${got}` };
  };

  return (payload) => {
    if (!check(payload)) return reject((check.errors as ErrorObject[])[0] as ErrorObject, payload);
    for (const f of timestamps) {
      const v = getPath(payload, f.segments);
      if (v !== undefined && v !== null && parseTimestampMs(v) === undefined) return badTimestamp(name(f.path), v);
    }
    for (const f of strings) {
      const v = getPath(payload, f.segments);
      const at = typeof v === 'string' ? unpairedSurrogate(v) : undefined;
      if (at !== undefined) {
        return { ok: false, code: 'PW_PAYLOAD_WRONG_TYPE', reason: `field ${name(f.path)} holds an unpaired UTF-16 surrogate (\\u${(v as string).charCodeAt(at).toString(16)}) at character ${at}; text must be well-formed Unicode to be stored as UTF-8` };
      }
    }
    return undefined;
  };
}

/** The stream's fields where version `v` carries them (fields it lacks are left out). */
function locatedFields(stream: StreamDef, v: VersionDef | undefined): LocatedField[] {
  const out: LocatedField[] = [];
  for (const f of stream.fields.values()) {
    const to = locationIn(v, f.path);
    if (to) out.push({ ...f, path: to.path, segments: to.segments, declared: f.path });
  }
  return out;
}

/**
 * Compiles the validator for `stream` (once per stream; the result is reused per event). With
 * `versions`, the payload's version picks where each field is validated, and the valid event's
 * payload is rewritten to the declared paths (versions.ts); a missing or unknown version is
 * rejected (PW_PAYLOAD_UNKNOWN_VERSION).
 */
export function compilePayloadValidator(stream: StreamDef): PayloadValidator {
  const versions = stream.versions;
  const checks = new Map<number | undefined, ShapeCheck>();
  if (versions) for (const v of versions.byNumber.values()) checks.set(v.version, compileShapeCheck(locatedFields(stream, v), v.version));
  else checks.set(undefined, compileShapeCheck(locatedFields(stream, undefined), undefined));
  const idSegs = stream.eventId.split('.');
  const timeSegs = stream.eventTime.split('.');

  return (payload) => {
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      return { ok: false, code: 'PW_PAYLOAD_NOT_OBJECT', reason: `payload must be a JSON object, got ${typeName(payload)}` };
    }
    const obj = payload as Record<string, unknown>;
    let version: VersionDef | undefined;
    if (versions) {
      const found = payloadVersion(versions, obj);
      if (!found.ok) return unknownVersion(stream, versions, found.seen);
      version = found.version;
    }
    const rejected = (checks.get(version?.version) as ShapeCheck)(obj);
    if (rejected) return rejected;
    const canonical = version ? toDeclaredPaths(version, obj) : obj;
    return {
      ok: true,
      eventId: String(getPath(canonical, idSegs)),
      eventTimeMs: parseTimestampMs(getPath(canonical, timeSegs)) as number,
      payload: canonical,
    };
  };
}

/** The rejection of a payload whose version is missing or not one the catalog lists. */
function unknownVersion(stream: StreamDef, versions: StreamVersions, seen: unknown): RejectedPayload {
  const known = [...versions.byNumber.keys()].join(', ');
  const what = seen === undefined || seen === null
    ? `has no version ('${versions.field}' is ${seen === null ? 'null' : 'missing'})`
    : `has version ${JSON.stringify(seen)} in '${versions.field}', which the catalog does not list`;
  return {
    ok: false, code: 'PW_PAYLOAD_UNKNOWN_VERSION',
    reason: `payload ${what}; stream '${stream.name}' knows versions ${known} (${stream.file}); send a listed version, or declare this one under 'versions' with its field mappings${seen === undefined || seen === null ? " (or set versions.default to the version of events without one)" : ''} and replay the DLQ`,
  };
}

/** The rejection of a payload whose bytes are not valid UTF-8 (`at`: byte offset of the first invalid sequence). */
export function notUtf8(at: number): RejectedPayload {
  return { ok: false, code: 'PW_PAYLOAD_NOT_JSON', reason: `payload is not valid UTF-8 (invalid byte sequence at byte ${at}); JSON must be UTF-8 (RFC 8259 §8.1)` };
}

/** The reason a timestamp value is refused: not a timestamp at all, or outside the supported range. */
function badTimestamp(name: string, v: unknown): RejectedPayload {
  const shown = typeof v === 'number' && !Number.isFinite(v) ? 'a number too large for a double' : JSON.stringify(v);
  const range = `${formatTimestamp(MIN_TIMESTAMP_MS)} … ${formatTimestamp(MAX_TIMESTAMP_MS)}`;
  const outside = typeof v === 'number' && Number.isInteger(v)
    ? `, which is outside the supported range ${range} (${MIN_TIMESTAMP_MS} … ${MAX_TIMESTAMP_MS} epoch ms; microsecond or nanosecond epochs must be sent as milliseconds)`
    : typeof v === 'string' && /^\s*[+-]?\d{5,}-/.test(v) ? `, which is outside the supported range ${range}` : ', which is not an ISO-8601 timestamp or integer epoch milliseconds';
  return { ok: false, code: 'PW_PAYLOAD_BAD_TIMESTAMP', reason: `field ${name} holds ${shown}${outside}` };
}

/**
 * Decodes one raw message and validates it. A text nested deeper than {@link MAX_PAYLOAD_DEPTH}
 * is refused before parsing (PW_PAYLOAD_TOO_DEEP): later stages (archive, sinks) re-serialize
 * payloads, and no single record may make one of them fail.
 */
export function decodeAndValidate(raw: string, validate: PayloadValidator): ValidationResult {
  if (nestsDeeperThan(raw)) {
    return { ok: false, code: 'PW_PAYLOAD_TOO_DEEP', reason: `payload nests objects or arrays more than ${MAX_PAYLOAD_DEPTH} levels deep; flatten it or drop the deep part` };
  }
  let payload: unknown;
  try {
    payload = JSON.parse(raw);
  } catch (err) {
    return { ok: false, code: 'PW_PAYLOAD_NOT_JSON', reason: `payload is not JSON: ${(err as Error).message}` };
  }
  return validate(payload);
}

export { getPath } from './get-path.js';
