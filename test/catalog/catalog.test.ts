/**
 * Catalog files: structure and semantic errors (each at its file, line and column), defaults,
 * loading a directory, and payload validation compiled from a stream's fields.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compilePayloadValidator, decodeAndValidate, loadCatalog } from '../../src/catalog/index.js';
import type { StreamDef, ValidationResult } from '../../src/catalog/index.js';
import { AggregateUserError, CatalogError } from '../../src/errors.js';
import { BASE, parse } from './catalog-fixture.js';

const here = dirname(fileURLToPath(import.meta.url));


function stream(text: string): StreamDef {
  const { stream: s, errors } = parse(text);
  expect(errors.map((e) => e.message)).toEqual([]);
  if (!s) throw new Error('no stream');
  return s;
}

/** The errors of a file as `code line:col detail`, the form a test reads best. */
function errorsOf(text: string): string[] {
  const { stream: s, errors } = parse(text);
  expect(s).toBeUndefined();
  for (const e of errors) {
    expect(e).toBeInstanceOf(CatalogError);
    expect(e.position?.file).toBe('clicks.yaml');
  }
  return errors.map((e) => `${e.code} ${e.position?.line}:${e.position?.col} ${e.detail}`);
}

describe('catalog file errors', () => {
  it('unknown top-level key, with the allowed keys, at the key', () => {
    expect(errorsOf(BASE.replace('event_time: ts\n', 'event_time: ts\ncolour: red\n'))).toEqual([
      "PW_CATALOG_INVALID 4:1 unknown key 'colour' in the top level; allowed keys: name, kind, topic, format, event_id, event_time, " +
      'watermark_delay, allowed_lateness, idle_timeout, dedup_ttl, max_future, partition_key, retention, partitions, fields, versions, description, ' +
      'key, valid_from, deleted, max_versions, url, timeout, concurrency, cache, breaker, max_in_flight, max_in_flight_bytes',
    ]);
  });

  it('unknown key of a field, with the allowed keys, at the key', () => {
    expect(errorsOf(BASE.replace('{ type: timestamp, required: true }', '{ type: timestamp, required: true, nullable: false }'))).toEqual([
      "PW_CATALOG_INVALID 6:42 unknown key 'nullable' in 'fields.ts'; allowed keys: type, required, pii, description",
    ]);
  });

  it('bad type enum, at the value', () => {
    expect(errorsOf(`${BASE}  amount: { type: float }\n`)).toEqual([
      "PW_CATALOG_INVALID 7:19 key 'fields.amount.type' must be one of: string, int, double, boolean, timestamp",
    ]);
  });

  it('bad kind, pii and partitions, all reported together', () => {
    expect(errorsOf(BASE.replace('event_id: id\n', 'kind: view\npartitions: 0\nevent_id: id\n').concat('  email: { type: string, pii: mask }\n'))).toEqual([
      "PW_CATALOG_INVALID 2:7 key 'kind' must be one of: stream, table, lookup",
      "PW_CATALOG_INVALID 3:13 key 'partitions' must be >= 1",
      "PW_CATALOG_INVALID 9:31 key 'fields.email.pii' must be one of: hash, drop",
    ]);
  });

  it('bad durations, at the value, with the accepted forms', () => {
    expect(errorsOf(BASE.replace('event_time: ts\n', 'event_time: ts\nwatermark_delay: 5 minutes\ndedup_ttl: 1.5ms\n'))).toEqual([
      "PW_CATALOG_DURATION 4:18 key 'watermark_delay' has '5 minutes'; a duration is a number followed by ms, s, m, h or d (e.g. 500ms, 5s, 2h)",
      "PW_CATALOG_DURATION 5:12 key 'dedup_ttl' has '1.5ms'; a duration is a number followed by ms, s, m, h or d (e.g. 500ms, 5s, 2h)",
    ]);
  });

  it('idle_timeout of 0', () => {
    expect(errorsOf(BASE.replace('event_time: ts\n', 'event_time: ts\nidle_timeout: 0s\n'))).toEqual([
      "PW_CATALOG_DURATION 4:15 key 'idle_timeout' must be greater than 0",
    ]);
  });

  it('event_time that is not a timestamp, at the value', () => {
    expect(errorsOf(BASE.replace('ts: { type: timestamp', 'ts: { type: string'))).toEqual([
      "PW_CATALOG_FIELD_TYPE 3:13 key 'event_time' names 'ts' of type string; it must be of type timestamp",
    ]);
  });

  it('event_id of a type that cannot be an id', () => {
    expect(errorsOf(BASE.replace('id: { type: string', 'id: { type: double'))).toEqual([
      "PW_CATALOG_FIELD_TYPE 2:11 key 'event_id' names 'id' of type double; it must be of type string or int",
    ]);
  });

  it('event_id that is not declared, at the value, with the declared fields', () => {
    expect(errorsOf(BASE.replace('event_id: id', 'event_id: eventId'))).toEqual([
      "PW_CATALOG_UNKNOWN_FIELD 2:11 key 'event_id' names 'eventId', which is not declared under 'fields'; declared: id, ts",
    ]);
  });

  it('event_time that is not required, at the field', () => {
    expect(errorsOf(BASE.replace('{ type: timestamp, required: true }', '{ type: timestamp }'))).toEqual([
      "PW_CATALOG_FIELD_REQUIRED 6:3 key 'event_time' names 'ts', which must be declared with 'required: true'",
    ]);
  });

  it('a stream without event_id, at the first key (after leading comments)', () => {
    expect(errorsOf(`# clicks\n\n${BASE.replace('event_id: id\n', '')}`)).toEqual([
      "PW_CATALOG_INVALID 3:1 missing key 'event_id': a stream needs the field path of its unique event id",
    ]);
  });

  it('missing fields', () => {
    expect(errorsOf('name: clicks\nevent_id: id\nevent_time: ts\n')).toEqual([
      "PW_CATALOG_INVALID 1:1 missing key 'fields' in the top level",
    ]);
  });

  it('field names that are not dot paths, at the name', () => {
    expect(errorsOf(`${BASE}  "bad-name": { type: int }\n  data.1x: { type: int }\n`)).toEqual([
      "PW_CATALOG_INVALID 7:3 field name 'bad-name' in 'fields' must be a dot path of identifiers of at most 63 characters each (e.g. data.orderTotal)",
      "PW_CATALOG_INVALID 8:3 field name 'data.1x' in 'fields' must be a dot path of identifiers of at most 63 characters each (e.g. data.orderTotal)",
    ]);
  });

  it('a stream name that is not an identifier', () => {
    expect(errorsOf(BASE.replace('name: clicks', 'name: 9lives'))).toEqual([
      "PW_CATALOG_INVALID 1:7 key 'name' must be an identifier (letters, digits, _; not starting with a digit)",
    ]);
  });

  it('a field that is both a value and an object', () => {
    expect(errorsOf(`${BASE}  data: { type: string }\n  data.page: { type: string }\n`)).toEqual([
      "PW_CATALOG_FIELD_CONFLICT 8:3 field 'data' is a string but 'data.page' declares a field inside it; a path is either a value or an object",
    ]);
  });

  it('YAML syntax errors, at the line and column the YAML parser names', () => {
    expect(errorsOf(BASE.replace('event_time: ts\n', 'event_time: ts\nevent_id: id2\n'))).toEqual([
      'PW_CATALOG_YAML 4:1 not valid YAML: Map keys must be unique',
    ]);
    expect(errorsOf(`${BASE} bad: 1\n`)).toEqual([
      'PW_CATALOG_YAML 7:1 not valid YAML: All mapping items must start at the same column',
    ]);
  });

  it('an empty file', () => {
    expect(errorsOf('# nothing here\n')).toEqual(['PW_CATALOG_INVALID 1:1 the top level must be object']);
  });
});

describe('catalog defaults and settings', () => {
  it('defaults: idle_timeout 30s, dedup_ttl 1h, allowed_lateness 0, watermark_delay 0, topic = name', () => {
    const s = stream(BASE);
    expect({
      kind: s.kind, topic: s.topic, format: s.format, idleTimeoutMs: s.idleTimeoutMs, dedupTtlMs: s.dedupTtlMs,
      allowedLatenessMs: s.allowedLatenessMs, watermarkDelayMs: s.watermarkDelayMs, retentionMs: s.retentionMs,
      partitionKey: s.partitionKey, partitions: s.partitions,
    }).toEqual({
      kind: 'stream', topic: 'clicks', format: 'json', idleTimeoutMs: 30_000, dedupTtlMs: 3_600_000,
      allowedLatenessMs: 0, watermarkDelayMs: 0, retentionMs: undefined, partitionKey: undefined, partitions: 3,
    });
    expect(s.position).toEqual({ file: 'clicks.yaml', line: 1, col: 7 });
  });

  it('explicit settings, in every duration unit', () => {
    const s = stream(BASE.replace('event_time: ts\n', [
      'event_time: ts', 'topic: web-clicks', 'watermark_delay: 500ms', 'allowed_lateness: 30s', 'idle_timeout: 2m',
      'dedup_ttl: 2h', 'retention: 7d', 'partitions: 12', 'partition_key: id', '',
    ].join('\n')));
    expect([s.topic, s.watermarkDelayMs, s.allowedLatenessMs, s.idleTimeoutMs, s.dedupTtlMs, s.retentionMs, s.partitions, s.partitionKey])
      .toEqual(['web-clicks', 500, 30_000, 120_000, 7_200_000, 7 * 86_400_000, 12, 'id']);
  });

  it('fields keep file order, dot paths, required (default false), pii and their positions', () => {
    const s = stream(`${BASE}  data.customerId: { type: string, pii: hash }\n  data.total: { type: double }\n`);
    expect([...s.fields.values()].map((f) => [f.path, f.segments, f.type, f.required, f.pii, `${f.position.line}:${f.position.col}`])).toEqual([
      ['id', ['id'], 'string', true, undefined, '5:3'],
      ['ts', ['ts'], 'timestamp', true, undefined, '6:3'],
      ['data.customerId', ['data', 'customerId'], 'string', false, 'hash', '7:3'],
      ['data.total', ['data', 'total'], 'double', false, undefined, '8:3'],
    ]);
  });

  const TABLE = 'name: rooms\nkind: table\nkey: roomId\nvalid_from: vf\nfields:\n  roomId: { type: string, required: true }\n  vf: { type: timestamp, required: true }\n';

  it('a reference table declares its key and validity time, not an event id or event time', () => {
    const s = stream(`${TABLE}  gone: { type: boolean }\n`.replace('valid_from: vf\n', 'valid_from: vf\ndeleted: gone\nmax_versions: 50\n'));
    expect([s.kind, s.eventId, s.eventTime, s.table]).toEqual(['table', '', '', { key: 'roomId', validFrom: 'vf', deleted: 'gone', maxVersions: 50 }]);
    expect(stream(TABLE).table).toEqual({ key: 'roomId', validFrom: 'vf', deleted: undefined, maxVersions: 100_000 });
  });

  it('a reference table without key or valid_from, or with keys of the other kind, is refused at the key', () => {
    const errs = (text: string): string[] => parse(text).errors.map((e) => `${e.code} ${e.position?.line}:${e.position?.col} ${e.detail}`);
    expect(errs(TABLE.replace('key: roomId\nvalid_from: vf\n', ''))).toEqual([
      "PW_CATALOG_INVALID 1:1 missing key 'key': a reference table needs the field path of its lookup key",
      "PW_CATALOG_INVALID 1:1 missing key 'valid_from': a reference table needs the field path of its validity time (the time from which a change holds)",
    ]);
    expect(errs(TABLE.replace('kind: table\n', 'kind: table\nevent_time: vf\n'))).toEqual([
      "PW_CATALOG_KIND_KEY 3:1 key 'event_time' applies to streams; a reference table (kind: table) declares key, valid_from and optionally deleted and max_versions",
    ]);
    expect(errs(BASE.replace('event_time: ts\n', 'event_time: ts\nvalid_from: ts\n'))).toEqual([
      "PW_CATALOG_KIND_KEY 4:1 key 'valid_from' applies to reference tables (kind: table); a stream declares event_id and event_time",
    ]);
  });

  it('a table key must be a required string or int, valid_from a required timestamp, deleted a boolean', () => {
    const errs = (text: string): string[] => parse(text).errors.map((e) => `${e.code} ${e.position?.line}:${e.position?.col} ${e.detail}`);
    expect(errs(TABLE.replace('roomId: { type: string, required: true }', 'roomId: { type: double, required: true }').replace('vf: { type: timestamp, required: true }', 'vf: { type: timestamp }').replace('valid_from: vf\n', 'valid_from: vf\ndeleted: roomId\n'))).toEqual([
      "PW_CATALOG_FIELD_TYPE 3:6 key 'key' names 'roomId' of type double; it must be of type string or int",
      "PW_CATALOG_FIELD_REQUIRED 8:3 key 'valid_from' names 'vf', which must be declared with 'required: true'",
      "PW_CATALOG_FIELD_TYPE 5:10 key 'deleted' names 'roomId' of type double; it must be of type boolean",
    ]);
  });
});

describe('loadCatalog', () => {
  const dirs: string[] = [];
  const tempDir = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'pitwall-catalog-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };
  const shown = (dir: string, name: string): string => relative(process.cwd(), join(dir, name));
  afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

  it('loads the sample catalog/', () => {
    const cat = loadCatalog(resolve(here, '..', '..', 'catalog'));
    expect([...cat.streams.values()].map((s) => [s.name, s.kind, s.topic])).toEqual([
      ['badge_scans', 'stream', 'badge-scans'], ['match_events', 'stream', 'match-events'], ['nexmark', 'stream', 'nexmark'], ['orders', 'stream', 'orders'], ['rooms', 'table', 'rooms'],
    ]);
  });

  it('reads *.yaml and *.yml only, sorted by file name', () => {
    const dir = tempDir({ 'b.yml': BASE.replace('name: clicks', 'name: b'), 'a.yaml': BASE.replace('name: clicks', 'name: a'), 'c.txt': 'not yaml: [' });
    const cat = loadCatalog(dir);
    expect([...cat.streams.keys()]).toEqual(['a', 'b']);
    expect(cat.streams.get('b')?.file).toBe(shown(dir, 'b.yml'));
  });

  it('duplicate stream names across files, at the second name, naming the first file', () => {
    const dir = tempDir({ 'a.yaml': BASE, 'b.yaml': `# the same stream again\n${BASE}` });
    let err: unknown;
    try { loadCatalog(dir); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CatalogError);
    const e = err as CatalogError;
    expect(e.code).toBe('PW_CATALOG_DUPLICATE');
    expect(e.position).toEqual({ file: shown(dir, 'b.yaml'), line: 2, col: 7 });
    expect(e.detail).toBe(`stream 'clicks' is already declared in ${shown(dir, 'a.yaml')}; names must be unique`);
  });

  it('collects every error of every file into one AggregateUserError', () => {
    const dir = tempDir({
      'a.yaml': BASE.replace('event_id: id', 'event_id: nope'),
      'b.yaml': 'name: [',
      'c.yaml': BASE.replace('name: clicks', 'name: fine'),
    });
    let err: unknown;
    try { loadCatalog(dir); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(AggregateUserError);
    const errors = (err as AggregateUserError).errors;
    expect(errors.map((e) => [e.code, e.position?.file])).toEqual([
      ['PW_CATALOG_UNKNOWN_FIELD', shown(dir, 'a.yaml')],
      ['PW_CATALOG_YAML', shown(dir, 'b.yaml')],
    ]);
  });

  it('a missing directory', () => {
    expect(() => loadCatalog(join(tmpdir(), 'pitwall-no-such-catalog'))).toThrow(expect.objectContaining({ code: 'PW_CATALOG_DIR' }));
  });
});

describe('payload validation', () => {
  const s = stream(`${BASE}  kind: { type: string, required: true }
  qty: { type: int }
  amount: { type: double, required: true }
  flag: { type: boolean }
  seenAt: { type: timestamp }
  data.page: { type: string }
  data.geo.country: { type: string }
  meta.source: { type: string, required: true }
`);
  const validate = compilePayloadValidator(s);
  const valid = { id: 'e1', ts: '2024-03-15T19:30:00Z', kind: 'view', amount: 1.5, meta: { source: 'web' } };
  const check = (payload: unknown): ValidationResult => decodeAndValidate(JSON.stringify(payload), validate);
  const T = Date.UTC(2024, 2, 15, 19, 30);

  it('accepts a valid event: id, event time in ms, payload as given', () => {
    expect(check(valid)).toEqual({ ok: true, eventId: 'e1', eventTimeMs: T, payload: valid });
  });

  it('not JSON', () => {
    const r = decodeAndValidate('{"id": "e1", ', validate);
    expect(r.ok).toBe(false);
    expect(r.ok ? undefined : r.code).toBe('PW_PAYLOAD_NOT_JSON');
    expect(r.ok ? undefined : r.reason).toMatch(/^payload is not JSON: /);
    expect(decodeAndValidate('', validate)).toMatchObject({ ok: false, code: 'PW_PAYLOAD_NOT_JSON' });
  });

  it('JSON that is not an object', () => {
    expect(decodeAndValidate('[1, 2]', validate)).toEqual({ ok: false, code: 'PW_PAYLOAD_NOT_OBJECT', reason: 'payload must be a JSON object, got array' });
    expect(decodeAndValidate('"text"', validate)).toEqual({ ok: false, code: 'PW_PAYLOAD_NOT_OBJECT', reason: 'payload must be a JSON object, got string' });
    expect(decodeAndValidate('null', validate)).toEqual({ ok: false, code: 'PW_PAYLOAD_NOT_OBJECT', reason: 'payload must be a JSON object, got null' });
    expect(decodeAndValidate('42', validate)).toEqual({ ok: false, code: 'PW_PAYLOAD_NOT_OBJECT', reason: 'payload must be a JSON object, got integer' });
  });

  it('a missing required field', () => {
    expect(check({ ...valid, id: undefined })).toEqual({ ok: false, code: 'PW_PAYLOAD_MISSING_FIELD', reason: "required field 'id' is missing" });
    expect(check({ ...valid, amount: undefined })).toEqual({ ok: false, code: 'PW_PAYLOAD_MISSING_FIELD', reason: "required field 'amount' is missing" });
  });

  it('a missing required nested field, and its missing enclosing object', () => {
    expect(check({ ...valid, meta: {} })).toEqual({ ok: false, code: 'PW_PAYLOAD_MISSING_FIELD', reason: "required field 'meta.source' is missing" });
    expect(check({ ...valid, meta: undefined })).toEqual({ ok: false, code: 'PW_PAYLOAD_MISSING_FIELD', reason: "required field 'meta' is missing" });
  });

  it('a null required field', () => {
    expect(check({ ...valid, kind: null })).toEqual({ ok: false, code: 'PW_PAYLOAD_MISSING_FIELD', reason: "required field 'kind' is null" });
    expect(check({ ...valid, ts: null })).toEqual({ ok: false, code: 'PW_PAYLOAD_MISSING_FIELD', reason: "required field 'ts' is null" });
  });

  it('wrong types', () => {
    expect(check({ ...valid, amount: '1.5' })).toEqual({ ok: false, code: 'PW_PAYLOAD_WRONG_TYPE', reason: "field 'amount' must be double, got string" });
    expect(check({ ...valid, qty: 1.5 })).toEqual({ ok: false, code: 'PW_PAYLOAD_WRONG_TYPE', reason: "field 'qty' must be int, got number" });
    expect(check({ ...valid, flag: 'true' })).toEqual({ ok: false, code: 'PW_PAYLOAD_WRONG_TYPE', reason: "field 'flag' must be boolean, got string" });
    expect(check({ ...valid, id: 7 })).toEqual({ ok: false, code: 'PW_PAYLOAD_WRONG_TYPE', reason: "field 'id' must be string, got integer" });
    expect(check({ ...valid, data: { geo: { country: 3 } } })).toEqual({ ok: false, code: 'PW_PAYLOAD_WRONG_TYPE', reason: "field 'data.geo.country' must be string, got integer" });
    expect(check({ ...valid, data: 'flat' })).toEqual({ ok: false, code: 'PW_PAYLOAD_WRONG_TYPE', reason: "field 'data' must be an object, got string" });
  });

  it('numbers: an int for a double is fine, and so is 2.0 for an int (JSON has one number type)', () => {
    expect(check({ ...valid, amount: 2 }).ok).toBe(true);
    expect(decodeAndValidate(JSON.stringify(valid).replace('}}', '}, "qty": 2.0}'), validate).ok).toBe(true);
  });

  it('unparseable timestamps, in the event time and in another timestamp field', () => {
    expect(check({ ...valid, ts: 'yesterday' })).toEqual({
      ok: false, code: 'PW_PAYLOAD_BAD_TIMESTAMP', reason: "field 'ts' holds \"yesterday\", which is not an ISO-8601 timestamp or integer epoch milliseconds",
    });
    expect(check({ ...valid, seenAt: '2024-02-30T00:00:00Z' })).toMatchObject({ ok: false, code: 'PW_PAYLOAD_BAD_TIMESTAMP' });
    expect(check({ ...valid, ts: 1_710_531_000_000.5 })).toEqual({ ok: false, code: 'PW_PAYLOAD_WRONG_TYPE', reason: "field 'ts' must be timestamp, got number" });
    expect(check({ ...valid, ts: true })).toMatchObject({ ok: false, code: 'PW_PAYLOAD_WRONG_TYPE' });
  });

  it('ISO-8601 with an offset, without one (UTC), and epoch milliseconds all give the same instant', () => {
    for (const ts of ['2024-03-15T21:30:00+02:00', '2024-03-15T14:30:00-0500', '2024-03-15T19:30:00Z', '2024-03-15 19:30:00', '2024-03-15T19:30:00.000Z', T]) {
      expect(check({ ...valid, ts })).toMatchObject({ ok: true, eventTimeMs: T });
    }
    expect(check({ ...valid, ts: '2024-03-15T19:30:00.250Z' })).toMatchObject({ ok: true, eventTimeMs: T + 250 });
  });

  it('optional fields may be missing or null', () => {
    expect(check({ ...valid, qty: null, flag: null, seenAt: null, data: { page: null } }).ok).toBe(true);
    expect(check(valid).ok).toBe(true);
  });

  it('a nested object whose fields are all optional may be missing, null or partial', () => {
    expect(check({ ...valid, data: undefined }).ok).toBe(true);
    expect(check({ ...valid, data: null }).ok).toBe(true);
    expect(check({ ...valid, data: { geo: {} } }).ok).toBe(true);
    expect(check({ ...valid, data: { geo: null } }).ok).toBe(true);
  });

  it('fields not in the catalog are kept, unvalidated, at any depth', () => {
    const extra = { ...valid, extra: { deep: [1, 'two'] }, data: { page: '/a', referrer: 42 }, meta: { source: 'web', v: 2 } };
    expect(check(extra)).toEqual({ ok: true, eventId: 'e1', eventTimeMs: T, payload: extra });
  });

  it('an int event id is the dedup key as a string', () => {
    const ints = stream(BASE.replace('id: { type: string', 'id: { type: int'));
    expect(decodeAndValidate('{"id": 42, "ts": 0}', compilePayloadValidator(ints))).toEqual({ ok: true, eventId: '42', eventTimeMs: 0, payload: { id: 42, ts: 0 } });
  });
});
