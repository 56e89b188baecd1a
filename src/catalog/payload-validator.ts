/**
 * Payload validation compiled from a stream's `fields` (ajv for shapes and types, then the
 * timestamp fields parsed). A payload that is not a JSON object, lacks a required field, or
 * holds a value of the wrong type is rejected with a code and a reason; it then goes to the
 * quarantine lane, never silently away. Fields not in the catalog are kept, not validated.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { parseTimestampMs } from '../util/timestamp.js';
import type { FieldDef, FieldType, StreamDef } from './types.js';

/** Why a payload was quarantined (stable codes, listed in docs/errors.md). */
export type QuarantineCode =
  | 'PW_PAYLOAD_NOT_JSON'
  | 'PW_PAYLOAD_NOT_OBJECT'
  | 'PW_PAYLOAD_MISSING_FIELD'
  | 'PW_PAYLOAD_WRONG_TYPE'
  | 'PW_PAYLOAD_BAD_TIMESTAMP';

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
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function getPath(obj: unknown, segments: readonly string[]): unknown {
  let cur = obj;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

/** A compiled validator for one stream. */
export type PayloadValidator = (payload: unknown) => ValidationResult;

/** Compiles the validator for `stream` (once per stream; the result is reused per event). */
export function compilePayloadValidator(stream: StreamDef): PayloadValidator {
  const ajv = new Ajv({ allErrors: false, strict: false });
  // An array, not the map's iterator: schemaFor walks the fields twice.
  const check = ajv.compile(schemaFor([...stream.fields.values()]));
  const byPath = new Map([...stream.fields.values()].map((f) => [f.path, f]));
  const timestamps = [...stream.fields.values()].filter((f) => f.type === 'timestamp');
  const idSegs = stream.eventId.split('.');
  const timeSegs = stream.eventTime.split('.');

  const reject = (err: ErrorObject, payload: unknown): RejectedPayload => {
    const parts = err.instancePath.split('/').slice(1);
    if (err.keyword === 'required') {
      const path = [...parts, (err.params as { missingProperty: string }).missingProperty].join('.');
      return { ok: false, code: 'PW_PAYLOAD_MISSING_FIELD', reason: `required field '${path}' is missing` };
    }
    const path = parts.join('.');
    const f = byPath.get(path);
    const got = typeName(getPath(payload, parts));
    if (got === 'null' && f?.required) {
      return { ok: false, code: 'PW_PAYLOAD_MISSING_FIELD', reason: `required field '${path}' is null` };
    }
    const want = f ? f.type : 'an object';
    return { ok: false, code: 'PW_PAYLOAD_WRONG_TYPE', reason: `field '${path}' must be ${want}, got ${got}` };
  };

  return (payload) => {
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      return { ok: false, code: 'PW_PAYLOAD_NOT_OBJECT', reason: `payload must be a JSON object, got ${typeName(payload)}` };
    }
    if (!check(payload)) return reject((check.errors as ErrorObject[])[0] as ErrorObject, payload);
    for (const f of timestamps) {
      const v = getPath(payload, f.segments);
      if (v !== undefined && v !== null && parseTimestampMs(v) === undefined) {
        return { ok: false, code: 'PW_PAYLOAD_BAD_TIMESTAMP', reason: `field '${f.path}' holds ${JSON.stringify(v)}, which is not an ISO-8601 timestamp or integer epoch milliseconds` };
      }
    }
    return {
      ok: true,
      eventId: String(getPath(payload, idSegs)),
      eventTimeMs: parseTimestampMs(getPath(payload, timeSegs)) as number,
      payload: payload as Record<string, unknown>,
    };
  };
}

/** Decodes one raw message (bytes or text) and validates it. */
export function decodeAndValidate(raw: string, validate: PayloadValidator): ValidationResult {
  let payload: unknown;
  try {
    payload = JSON.parse(raw);
  } catch (err) {
    return { ok: false, code: 'PW_PAYLOAD_NOT_JSON', reason: `payload is not JSON: ${(err as Error).message}` };
  }
  return validate(payload);
}

export { getPath };
