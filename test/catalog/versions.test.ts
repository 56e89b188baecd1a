/**
 * Catalog `versions`: the per-version field mappings (each error with its code and position),
 * and payload validation where each version carries a field, rewritten to the declared paths.
 */
import { describe, expect, it } from 'vitest';
import { compilePayloadValidator, decodeAndValidate, type StreamDef, type ValidationResult } from '../../src/catalog/index.js';
import { definitionHash } from '../../src/plan/index.js';
import { BASE, parse } from './catalog-fixture.js';

/** A stream with an envelope version and nested fields, as orders.yaml has them. */
const HEAD = `name: clicks
event_id: id
event_time: ts
partition_key: data.shop
fields:
  id: { type: string, required: true }
  ts: { type: timestamp, required: true }
  eventVersion: { type: int }
  data.shop: { type: string }
  data.prepSeconds: { type: double, required: true }
  data.courierId: { type: string }
  data.note: { type: string }
`;

function errorsOf(versions: string): string[] {
  const { stream, errors } = parse(HEAD + versions);
  expect(stream).toBeUndefined();
  return errors.map((e) => `${e.code} ${e.position?.file}:${e.position?.line}:${e.position?.col} ${e.detail}`);
}

function streamOf(versions: string): StreamDef {
  const { stream, errors } = parse(HEAD + versions);
  expect(errors.map((e) => e.message)).toEqual([]);
  if (!stream) throw new Error('no stream');
  return stream;
}

const V2 = `versions:
  1: {}
  2:
    data.prepSeconds: data.prep.seconds
    data.courierId: null
`;

describe('catalog versions', () => {
  it('reads the version field (default eventVersion) and each version, ascending, with what it moves', () => {
    const s = streamOf(`versions:\n  2:\n    data.prepSeconds: data.prep.seconds\n    data.courierId: null\n    data.note: data.note\n  1:\n`);
    expect(s.versions?.field).toBe('eventVersion');
    expect([...(s.versions?.byNumber.keys() ?? [])]).toEqual([1, 2]);
    const v2 = s.versions?.byNumber.get(2);
    // A field mapped to its own path is not a move.
    expect([...(v2?.moved ?? [])]).toEqual([['data.prepSeconds', { path: 'data.prep.seconds', segments: ['data', 'prep', 'seconds'] }], ['data.courierId', null]]);
    expect(v2?.position).toEqual({ file: 'clicks.yaml', line: 14, col: 3 });
    expect(s.versions?.byNumber.get(1)?.moved.size).toBe(0);
    expect(parse(HEAD).stream?.versions).toBeUndefined();
  });

  it('versions that are not non-negative integers, an entry that is not a mapping, and no version at all', () => {
    expect(errorsOf('versions:\n  v2: {}\n  -1: {}\n  1.5: {}\n  3: [a]\n')).toEqual([
      "PW_CATALOG_VERSION clicks.yaml:14:3 version 'v2' under 'versions' must be a non-negative integer (as the producer writes it in 'eventVersion'), or the key 'field' or 'default'",
      "PW_CATALOG_VERSION clicks.yaml:15:3 version '-1' under 'versions' must be a non-negative integer (as the producer writes it in 'eventVersion'), or the key 'field' or 'default'",
      "PW_CATALOG_VERSION clicks.yaml:16:3 version '1.5' under 'versions' must be a non-negative integer (as the producer writes it in 'eventVersion'), or the key 'field' or 'default'",
      'PW_CATALOG_VERSION clicks.yaml:17:6 version 3 must be a mapping of declared field to where that version carries it ({} when every field is where declared)',
    ]);
    expect(errorsOf('versions:\n  field: eventVersion\n')).toEqual([
      "PW_CATALOG_VERSION clicks.yaml:13:1 'versions' lists no version; list each version the topic carries (e.g. 1: {} for fields where declared)",
    ]);
    expect(errorsOf('versions: 2\n')).toEqual(["PW_CATALOG_INVALID clicks.yaml:13:11 key 'versions' must be object"]);
  });

  it('a version field that is not declared, not an int, or not a path', () => {
    expect(errorsOf('versions:\n  field: v\n  1: {}\n')).toEqual([
      "PW_CATALOG_UNKNOWN_FIELD clicks.yaml:14:10 key 'versions.field' names 'v', which is not declared under 'fields'; declare the version field as { type: int } or name it with versions.field",
    ]);
    expect(errorsOf('versions:\n  field: data.note\n  1: {}\n')).toEqual([
      "PW_CATALOG_FIELD_TYPE clicks.yaml:14:10 the version field 'data.note' is declared string; it must be of type int",
    ]);
    expect(errorsOf('versions:\n  field: [a]\n  1: {}\n')).toEqual([
      "PW_CATALOG_VERSION clicks.yaml:14:10 key 'versions.field' must be the path of the declared int field holding the version (e.g. eventVersion)",
    ]);
    const noDefault = parse(HEAD.replace('  eventVersion: { type: int }\n', '') + V2).errors.map((e) => `${e.code} ${e.position?.line}:${e.position?.col}`);
    expect(noDefault).toEqual(['PW_CATALOG_UNKNOWN_FIELD 12:1']);
  });

  it('mapping an undeclared field, or to a bad path', () => {
    expect(errorsOf('versions:\n  2:\n    data.prep: data.prep.seconds\n    data.note: 7\n    data.courierId: "data..courier"\n')).toEqual([
      "PW_CATALOG_UNKNOWN_FIELD clicks.yaml:15:5 version 2 maps 'data.prep', which is not declared under 'fields'; map declared fields only (declared: id, ts, eventVersion, data.shop, data.prepSeconds, data.courierId, data.note)",
      'PW_CATALOG_VERSION_PATH clicks.yaml:16:16 version 2 maps \'data.note\' to 7; write the dot path where version 2 carries it (e.g. data.prep.seconds), or null when it lacks it',
      'PW_CATALOG_VERSION_PATH clicks.yaml:17:21 version 2 maps \'data.courierId\' to "data..courier"; write the dot path where version 2 carries it (e.g. data.prep.seconds), or null when it lacks it',
    ]);
  });

  it('two fields of one version at one place, or one inside the other', () => {
    expect(errorsOf('versions:\n  2:\n    data.note: data.courierId\n    data.prepSeconds: data.shop.prep\n')).toEqual([
      "PW_CATALOG_VERSION_PATH clicks.yaml:15:16 version 2 carries 'data.note' at 'data.courierId', the same path as 'data.courierId' ('data.courierId'); each field of a version needs its own value path",
      "PW_CATALOG_VERSION_PATH clicks.yaml:16:23 version 2 carries 'data.prepSeconds' at 'data.shop.prep', a path nested with that of 'data.shop' ('data.shop'); each field of a version needs its own value path",
    ]);
    // A swap is fine: each field has its own place.
    expect(streamOf('versions:\n  2:\n    data.note: data.courierId\n    data.courierId: data.note\n').versions?.byNumber.get(2)?.moved.size).toBe(2);
  });

  it('the event id, event time, partition key and version field stay put; a required field cannot read NULL', () => {
    expect(errorsOf('versions:\n  2:\n    id: envelope.id\n    ts: envelope.ts\n    data.shop: data.restaurant\n    eventVersion: v\n    data.prepSeconds: null\n')).toEqual([
      "PW_CATALOG_VERSION_FIXED clicks.yaml:15:5 version 2 moves 'id', the stream's event_id; it must stay at its declared path in every version (producers route and deduplicate by it); publish a version that moves it to a new stream",
      "PW_CATALOG_VERSION_FIXED clicks.yaml:16:5 version 2 moves 'ts', the stream's event_time; it must stay at its declared path in every version (producers route and deduplicate by it); publish a version that moves it to a new stream",
      "PW_CATALOG_VERSION_FIXED clicks.yaml:17:5 version 2 moves 'data.shop', the stream's partition_key; it must stay at its declared path in every version (producers route and deduplicate by it); publish a version that moves it to a new stream",
      "PW_CATALOG_VERSION_FIXED clicks.yaml:18:5 version 2 moves 'eventVersion', the stream's versions.field; it must stay at its declared path in every version (producers route and deduplicate by it); publish a version that moves it to a new stream",
      "PW_CATALOG_VERSION_FIXED clicks.yaml:19:5 version 2 lacks 'data.prepSeconds', which is declared required: true; a required field must be carried by every version (drop required: true to let it read NULL)",
    ]);
  });
});

describe('versions and result lineage', () => {
  it('the definition hash covers the mappings, and is unchanged for streams without versions', () => {
    const sql = 'CREATE VIEW m AS SELECT 1';
    const plain = parse(HEAD).stream as StreamDef;
    const v2 = definitionHash(sql, streamOf(V2));
    expect(v2).not.toBe(definitionHash(sql, plain));
    expect(definitionHash(sql, streamOf(V2.replace('data.prep.seconds', 'data.prep.secs')))).not.toBe(v2);
    expect(definitionHash(sql, streamOf(V2))).toBe(v2);
    // The hash a stream without versions had before versions existed.
    expect(definitionHash(sql, parse(BASE).stream as StreamDef)).toBe('f2e0136ad2244156');
  });
});

describe('versioned payload validation', () => {
  const stream = streamOf(V2);
  const validate = compilePayloadValidator(stream);
  const check = (p: unknown): ValidationResult => decodeAndValidate(JSON.stringify(p), validate);
  const base = { id: 'e1', ts: '2024-01-01T00:00:00Z' };

  it('a version-1 event is read where declared, unchanged', () => {
    const p = { ...base, eventVersion: 1, data: { shop: 's', prepSeconds: 12.5, courierId: 'c1', prep: { seconds: 99 } } };
    expect(check(p)).toEqual({ ok: true, eventId: 'e1', eventTimeMs: 1704067200000, payload: p });
  });

  it('a version-2 event is validated where version 2 carries each field and rewritten to the declared paths', () => {
    const raw = { ...base, eventVersion: 2, data: { shop: 's', prep: { seconds: 7 }, courierId: 'not-a-courier', extra: [1] } };
    const text = JSON.stringify(raw);
    const r = decodeAndValidate(text, validate);
    expect(r).toEqual({
      ok: true, eventId: 'e1', eventTimeMs: 1704067200000,
      // Moved fields at their declared paths, a field version 2 lacks removed, everything else kept.
      payload: { ...base, eventVersion: 2, data: { shop: 's', prep: { seconds: 7 }, prepSeconds: 7, extra: [1] } },
    });
    // A version-2 event without a data object gets one to hold the moved value.
    expect(check({ ...base, eventVersion: 2, data: { prep: { seconds: 1 } } }).ok).toBe(true);
  });

  it('types and required-ness apply where the version carries the field', () => {
    expect(check({ ...base, eventVersion: 2, data: { prepSeconds: 5 } })).toEqual({
      ok: false, code: 'PW_PAYLOAD_MISSING_FIELD', reason: "required field 'data.prep' is missing",
    });
    expect(check({ ...base, eventVersion: 2, data: { prep: { seconds: null } } })).toEqual({
      ok: false, code: 'PW_PAYLOAD_MISSING_FIELD', reason: "required field 'data.prep.seconds' (where version 2 carries 'data.prepSeconds') is null",
    });
    expect(check({ ...base, eventVersion: 2, data: { prep: { seconds: 'slow' } } })).toEqual({
      ok: false, code: 'PW_PAYLOAD_WRONG_TYPE', reason: "field 'data.prep.seconds' (where version 2 carries 'data.prepSeconds') must be double, got string",
    });
    // Version 1 still needs it where declared, and does not look at version 2's place.
    expect(check({ ...base, eventVersion: 1, data: { prep: { seconds: 5 } } })).toMatchObject({ ok: false, code: 'PW_PAYLOAD_MISSING_FIELD', reason: "required field 'data.prepSeconds' is missing" });
    // Version 2 lacks courierId: whatever sits at the declared path is not validated.
    expect(check({ ...base, eventVersion: 2, data: { prep: { seconds: 5 }, courierId: 42 } }).ok).toBe(true);
    expect(check({ ...base, eventVersion: 1, data: { prepSeconds: 5, courierId: 42 } })).toMatchObject({ ok: false, code: 'PW_PAYLOAD_WRONG_TYPE' });
  });

  it('a missing or unlisted version is quarantined with the version seen and the versions known', () => {
    const known = "stream 'clicks' knows versions 1, 2 (clicks.yaml); send a listed version, or declare this one under 'versions' with its field mappings and replay the DLQ";
    const knownMissing = "stream 'clicks' knows versions 1, 2 (clicks.yaml); send a listed version, or declare this one under 'versions' with its field mappings (or set versions.default to the version of events without one) and replay the DLQ";
    const data = { prepSeconds: 1 };
    expect(check({ ...base, data })).toEqual({ ok: false, code: 'PW_PAYLOAD_UNKNOWN_VERSION', reason: `payload has no version ('eventVersion' is missing); ${knownMissing}` });
    expect(check({ ...base, eventVersion: null, data })).toEqual({ ok: false, code: 'PW_PAYLOAD_UNKNOWN_VERSION', reason: `payload has no version ('eventVersion' is null); ${knownMissing}` });
    expect(check({ ...base, eventVersion: 3, data })).toEqual({ ok: false, code: 'PW_PAYLOAD_UNKNOWN_VERSION', reason: `payload has version 3 in 'eventVersion', which the catalog does not list; ${known}` });
    expect(check({ ...base, eventVersion: '2', data })).toEqual({ ok: false, code: 'PW_PAYLOAD_UNKNOWN_VERSION', reason: `payload has version "2" in 'eventVersion', which the catalog does not list; ${known}` });
  });

  it('versions.default reads events without a version as that version; an unlisted version is still quarantined', () => {
    const withDefault = compilePayloadValidator(streamOf(`versions:\n  default: 2\n  1: {}\n  2:\n    data.prepSeconds: data.prep.seconds\n`));
    expect(withDefault({ ...base, data: { prep: { seconds: 4 } } })).toMatchObject({ ok: true, payload: { data: { prepSeconds: 4, prep: { seconds: 4 } } } });
    expect(withDefault({ ...base, eventVersion: null, data: { prep: { seconds: 4 } } })).toMatchObject({ ok: true, payload: { data: { prepSeconds: 4 } } });
    // Validated as version 2: the declared place is not where version 2 carries it.
    expect(withDefault({ ...base, data: { prepSeconds: 4 } })).toMatchObject({ ok: false, code: 'PW_PAYLOAD_MISSING_FIELD' });
    expect(withDefault({ ...base, eventVersion: 1, data: { prepSeconds: 4 } })).toMatchObject({ ok: true });
    expect(withDefault({ ...base, eventVersion: 3, data: { prepSeconds: 4 } })).toMatchObject({ ok: false, code: 'PW_PAYLOAD_UNKNOWN_VERSION' });
    expect(errorsOf('versions:\n  default: 3\n  1: {}\n')).toEqual([
      "PW_CATALOG_VERSION clicks.yaml:14:12 key 'versions.default' must be one of the versions listed (1), got 3: events without 'eventVersion' are read as that version",
    ]);
  });

  it('swapped fields read the producer values, each from the other place', () => {
    const swap = compilePayloadValidator(streamOf('versions:\n  field: eventVersion\n  1: {}\n  2:\n    data.note: data.courierId\n    data.courierId: data.note\n'));
    const r = swap({ ...base, eventVersion: 2, data: { prepSeconds: 1, note: 'courier-9', courierId: 'hello' } });
    expect(r).toMatchObject({ ok: true, payload: { data: { prepSeconds: 1, note: 'hello', courierId: 'courier-9' } } });
  });
});
