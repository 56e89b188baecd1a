/**
 * Loads and validates catalog/ (one YAML file per stream or reference table). Structure is
 * checked with ajv against {@link catalogFileSchema}; then names, durations and field
 * references are checked. Every error names the file, the key and what is allowed, at the
 * key's line and column. All errors of all files are collected before throwing.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { AggregateUserError, CatalogError, type SourcePosition } from '../errors.js';
import { CATALOG_DURATION_HELP, formatDuration, parseCatalogDuration } from '../util/duration.js';
import { stripBom } from '../util/utf8.js';
import { FIELD_KEYS, LOOKUP_ONLY_KEYS, STREAM_KEYS, STREAM_ONLY_KEYS, TABLE_ONLY_KEYS, catalogFileSchema } from './catalog-schema.js';
import { parseVersions } from './parse-versions.js';
import type { Catalog, FieldDef, FieldType, LookupSpec, PiiMode, StreamDef, TableSpec } from './types.js';

const ajv = new Ajv({ allErrors: true, strict: true });
const validateFile = ajv.compile(catalogFileSchema);

const DEFAULTS = { watermark_delay: '0s', allowed_lateness: '0s', idle_timeout: '30s', dedup_ttl: '1h', max_future: '1d' } as const;

interface RawField { type: FieldType; required?: boolean; pii?: PiiMode }
interface RawStream {
  name: string; kind?: 'stream' | 'table' | 'lookup'; topic?: string; format?: 'json'; event_id?: string; event_time?: string;
  watermark_delay?: string; allowed_lateness?: string; idle_timeout?: string; dedup_ttl?: string; max_future?: string;
  partition_key?: string; retention?: string; partitions?: number; fields: Record<string, RawField>; versions?: Record<string, unknown>;
  key?: string; valid_from?: string; deleted?: string; max_versions?: number;
  url?: string; timeout?: string; concurrency?: number; max_in_flight?: number; max_in_flight_bytes?: number;
  cache?: { ttl?: string; size?: number }; breaker?: { error_threshold?: number; volume_threshold?: number; reset_timeout?: string; window?: string };
}

/**
 * Defaults of an external lookup (`kind: lookup`). `maxInFlight` holds one default timeout (1 s)
 * of events at 50,000 events/s: a dead service then delays events by a timeout without holding
 * the source back (README "External lookups", sizing); `maxInFlightBytes` bounds their memory
 * whatever the count.
 */
export const LOOKUP_DEFAULTS = {
  timeout: '1s', concurrency: 16, cacheTtl: '5m', cacheSize: 10_000, maxInFlight: 50_000, maxInFlightBytes: 16 * 1024 * 1024,
  errorThresholdPercent: 50, volumeThreshold: 10, resetTimeout: '10s', window: '10s',
} as const;

/** Versions a lookup join keeps per table by default (catalog `max_versions`). */
export const DEFAULT_MAX_VERSIONS = 100_000;

/** Positions of keys and values inside one YAML document. */
class YamlLocator {
  readonly #doc: Document;
  readonly #lines: LineCounter;
  readonly #file: string;
  constructor(doc: Document, lines: LineCounter, file: string) {
    this.#doc = doc;
    this.#lines = lines;
    this.#file = file;
  }

  /** Position of the key at `path` (or of its value with `value: true`); falls back to the parent. */
  at(path: readonly string[], value = false): SourcePosition {
    let node: unknown = this.#doc.contents;
    // The document's first key (not offset 0, which may be a leading comment).
    let offset = (node as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
    for (const key of path) {
      if (!isMap(node)) break;
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      if (!pair) break;
      const target = value && key === path[path.length - 1] ? pair.value : pair.key;
      const range = (target as { range?: [number, number, number] } | null)?.range;
      if (range) offset = range[0];
      node = pair.value;
    }
    const { line, col } = this.#lines.linePos(offset);
    return { file: this.#file, line, col };
  }
}

function ajvMessage(err: ErrorObject, path: readonly string[]): { message: string; keyPath: readonly string[]; onValue: boolean } {
  const where = path.length ? `'${path.join('.')}'` : 'the top level';
  switch (err.keyword) {
    case 'additionalProperties': {
      const extra = String((err.params as { additionalProperty: string }).additionalProperty);
      const allowed = path.length === 0 ? STREAM_KEYS : path[0] === 'cache' ? ['ttl', 'size'] : path[0] === 'breaker' ? ['error_threshold', 'volume_threshold', 'reset_timeout', 'window'] : FIELD_KEYS;
      return { message: `unknown key '${extra}' in ${where}; allowed keys: ${allowed.join(', ')}`, keyPath: [...path, extra], onValue: false };
    }
    case 'required': {
      const missing = String((err.params as { missingProperty: string }).missingProperty);
      return { message: `missing key '${missing}' in ${where}`, keyPath: path, onValue: false };
    }
    case 'enum': {
      const allowed = (err.params as { allowedValues: unknown[] }).allowedValues.map(String).join(', ');
      return { message: `key ${where} must be one of: ${allowed}`, keyPath: path, onValue: true };
    }
    case 'propertyNames': {
      const bad = String((err.params as { propertyName: string }).propertyName);
      return { message: `field name '${bad}' in ${where} must be a dot path of identifiers of at most 63 characters each (e.g. data.orderTotal)`, keyPath: [...path, bad], onValue: false };
    }
    case 'pattern':
      if (path[0] === 'topic') return { message: "key 'topic' must be a Kafka topic name: letters, digits, '.', '_' and '-'", keyPath: path, onValue: true };
      return { message: `key ${where} must be an identifier (letters, digits, _; not starting with a digit)`, keyPath: path, onValue: true };
    case 'maxLength': {
      const limit = (err.params as { limit: number }).limit;
      return { message: `key ${where} is longer than ${limit} characters${path[0] === 'name' ? ' (it must be nameable in SQL)' : ' (Kafka allows 249, and the DLQ topic adds .dlq)'}`, keyPath: path, onValue: true };
    }
    default:
      return { message: `${path.length ? `key ${where}` : 'the top level'} ${err.message ?? 'is invalid'}`, keyPath: path, onValue: true };
  }
}

function pointerPath(instancePath: string): string[] {
  return instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Alias expansions one catalog file may make (the yaml library's `maxAliasCount`): a few
 * anchors reused is fine; a "billion laughs" file that expands exponentially is refused.
 */
const MAX_YAML_ALIASES = 100;

/**
 * Longest catalog duration: 36,500 days (100 years), the same bound as window sizes
 * (plan/window-limits.ts), so that times offset by it (window end + allowed_lateness, event
 * time + dedup_ttl) stay exact integers near the supported timestamp range.
 */
const MAX_CATALOG_DURATION_MS = 36_500 * 86_400_000;

/**
 * The document as plain data, or a PW_CATALOG_YAML error: too many alias expansions (at the
 * first alias), or nesting too deep to convert.
 */
function toPlainData(doc: Document, lines: LineCounter, file: string): { value: unknown } | { error: CatalogError } {
  try {
    return { value: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) };
  } catch (err) {
    let offset = 0;
    visit(doc, { Alias: (_key, node) => { offset = node.range?.[0] ?? 0; return visit.BREAK; } });
    const { line, col } = lines.linePos(offset);
    const detail = err instanceof ReferenceError && /alias/i.test(err.message)
      ? `too many YAML aliases (the file expands more than ${MAX_YAML_ALIASES} alias references); write the values out instead of nesting anchors`
      : `cannot read the YAML: ${err instanceof Error ? err.message : String(err)}`;
    return { error: new CatalogError('PW_CATALOG_YAML', detail, { position: { file, line, col }, cause: err }) };
  }
}

/** Parses and validates one catalog file. Returns the stream or pushes errors. A UTF-8 byte-order mark at the start is ignored. */
export function parseCatalogFile(file: string, fileText: string, errors: CatalogError[]): StreamDef | undefined {
  const text = stripBom(fileText);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const loc = new YamlLocator(doc, lines, file);
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const { line, col } = lines.linePos(e.pos[0]);
      // The yaml library reports its own stack overflow (absurdly deep nesting) as a parse error.
      const message = /call stack/i.test(e.message) ? 'nested too deeply' : e.message.split('\n')[0];
      errors.push(new CatalogError('PW_CATALOG_YAML', `not valid YAML: ${message}`, { position: { file, line, col } }));
    }
    return undefined;
  }
  const data = toPlainData(doc, lines, file);
  if ('error' in data) {
    errors.push(data.error);
    return undefined;
  }
  const raw = data.value;
  if (!validateFile(raw)) {
    // Report each problem once, the most specific first (ajv lists parents after children).
    const seen = new Set<string>();
    for (const err of validateFile.errors ?? []) {
      // A bad field name comes twice: as the pattern error of the name (skipped) and as propertyNames.
      if (err.keyword === 'if' || err.propertyName !== undefined) continue;
      const { message, keyPath, onValue } = ajvMessage(err, pointerPath(err.instancePath));
      if (seen.has(message)) continue;
      seen.add(message);
      errors.push(new CatalogError('PW_CATALOG_INVALID', message, { position: loc.at(keyPath, onValue) }));
    }
    return undefined;
  }
  const s = raw as RawStream;
  const before = errors.length;
  const duration = (key: keyof typeof DEFAULTS | 'retention'): number => {
    const text = s[key] ?? (key === 'retention' ? undefined : DEFAULTS[key]);
    if (text === undefined) return -1;
    const ms = parseCatalogDuration(text);
    if (ms === undefined) {
      errors.push(new CatalogError('PW_CATALOG_DURATION', `key '${key}' has '${text}'; a duration is ${CATALOG_DURATION_HELP}`, { position: loc.at([key], true) }));
      return 0;
    }
    if (ms > MAX_CATALOG_DURATION_MS) {
      errors.push(new CatalogError('PW_CATALOG_DURATION', `key '${key}' has '${text}'; durations are at most ${formatDuration(MAX_CATALOG_DURATION_MS)} (100 years)`, { position: loc.at([key], true) }));
      return 0;
    }
    return ms;
  };
  const fields = new Map<string, FieldDef>();
  for (const [path, f] of Object.entries(s.fields)) {
    fields.set(path, {
      path, segments: path.split('.'), type: f.type, required: f.required ?? false, pii: f.pii, position: loc.at(['fields', path]),
    });
  }
  for (const f of fields.values()) {
    if (f.pii === 'hash' && f.type !== 'string') {
      errors.push(new CatalogError('PW_CATALOG_PII_TYPE', `field '${f.path}' is ${f.type}; pii: hash applies to string fields (use pii: drop for others)`, { position: loc.at(['fields', f.path]) }));
    }
  }
  // A path cannot be both a value and an object holding other fields.
  for (const path of fields.keys()) {
    for (const other of fields.keys()) {
      if (other.startsWith(`${path}.`)) {
        errors.push(new CatalogError('PW_CATALOG_FIELD_CONFLICT', `field '${path}' is a ${fields.get(path)?.type} but '${other}' declares a field inside it; a path is either a value or an object`, { position: loc.at(['fields', other]) }));
      }
    }
  }
  const kind = s.kind ?? 'stream';
  // A key that belongs to the other kind would be silently ignored: refuse it.
  const misplaced: readonly (keyof RawStream)[] = kind === 'table' ? [...STREAM_ONLY_KEYS, ...LOOKUP_ONLY_KEYS]
    : kind === 'lookup' ? [...STREAM_ONLY_KEYS, 'valid_from', 'deleted', 'max_versions'] : [...TABLE_ONLY_KEYS, ...LOOKUP_ONLY_KEYS];
  for (const key of misplaced) {
    if (s[key] === undefined) continue;
    const message = kind === 'table'
      ? `key '${key}' applies to ${(LOOKUP_ONLY_KEYS as readonly string[]).includes(key) ? 'external lookups (kind: lookup)' : 'streams'}; a reference table (kind: table) declares key, valid_from and optionally deleted and max_versions`
      : kind === 'lookup'
        ? `key '${key}' does not apply to an external lookup (kind: lookup), which declares url, key and fields, and optionally timeout, concurrency, cache, breaker, max_in_flight and max_in_flight_bytes`
        : `key '${key}' applies to ${(LOOKUP_ONLY_KEYS as readonly string[]).includes(key) ? 'external lookups (kind: lookup)' : 'reference tables (kind: table)'}; a stream declares event_id and event_time`;
    errors.push(new CatalogError('PW_CATALOG_KIND_KEY', message, { position: loc.at([key]) }));
  }
  const refField = (key: 'event_id' | 'event_time' | 'partition_key' | 'key' | 'valid_from' | 'deleted', allowed: readonly FieldType[], mustBeRequired: boolean): string => {
    const path = s[key];
    if (path === undefined) {
      if (kind === 'stream' && (key === 'event_id' || key === 'event_time')) {
        errors.push(new CatalogError('PW_CATALOG_INVALID', `missing key '${key}': a stream needs the field path of its ${key === 'event_id' ? 'unique event id' : 'event time'}`, { position: loc.at([]) }));
      }
      if (kind === 'lookup' && key === 'key') {
        errors.push(new CatalogError('PW_CATALOG_INVALID', "missing key 'key': an external lookup needs the field its URL is called with (declared under 'fields', string or int)", { position: loc.at([]) }));
      }
      if (kind === 'table' && (key === 'key' || key === 'valid_from')) {
        errors.push(new CatalogError('PW_CATALOG_INVALID', `missing key '${key}': a reference table needs the field path of its ${key === 'key' ? 'lookup key' : 'validity time (the time from which a change holds)'}`, { position: loc.at([]) }));
      }
      return '';
    }
    const f = fields.get(path);
    if (!f) {
      errors.push(new CatalogError('PW_CATALOG_UNKNOWN_FIELD', `key '${key}' names '${path}', which is not declared under 'fields'; declared: ${[...fields.keys()].join(', ')}`, { position: loc.at([key], true) }));
    } else if (!allowed.includes(f.type)) {
      errors.push(new CatalogError('PW_CATALOG_FIELD_TYPE', `key '${key}' names '${path}' of type ${f.type}; it must be of type ${allowed.join(' or ')}`, { position: loc.at([key], true) }));
    } else if (mustBeRequired && !f.required) {
      errors.push(new CatalogError('PW_CATALOG_FIELD_REQUIRED', `key '${key}' names '${path}', which must be declared with 'required: true'`, { position: loc.at(['fields', path]) }));
    }
    return path;
  };
  const eventId = kind === 'stream' ? refField('event_id', ['string', 'int'], true) : '';
  const eventTime = kind === 'stream' ? refField('event_time', ['timestamp'], true) : '';
  const partitionKey = kind === 'stream' ? refField('partition_key', ['string', 'int', 'double', 'boolean', 'timestamp'], false) || undefined : undefined;
  let table: TableSpec | undefined;
  if (kind === 'table') {
    table = {
      key: refField('key', ['string', 'int'], true),
      validFrom: refField('valid_from', ['timestamp'], true),
      deleted: refField('deleted', ['boolean'], false) || undefined,
      maxVersions: s.max_versions ?? DEFAULT_MAX_VERSIONS,
    };
  }
  const lookup = kind === 'lookup' ? parseLookup(s, refField('key', ['string', 'int'], false), loc, errors) : undefined;
  const versions = s.versions === undefined || kind !== 'stream' ? undefined : parseVersions(s.versions, fields, { eventId, eventTime, partitionKey }, loc, errors);
  const stream: StreamDef = {
    kind, name: s.name, topic: s.topic ?? s.name, format: s.format ?? 'json', eventId, eventTime,
    watermarkDelayMs: duration('watermark_delay'), allowedLatenessMs: duration('allowed_lateness'),
    idleTimeoutMs: duration('idle_timeout'), dedupTtlMs: duration('dedup_ttl'), maxFutureMs: duration('max_future'),
    partitionKey, retentionMs: s.retention === undefined ? undefined : duration('retention'),
    partitions: s.partitions ?? 3, fields, ...(versions ? { versions } : {}), file, position: loc.at(['name'], true), ...(table ? { table } : {}), ...(lookup ? { lookup } : {}),
  };
  if (stream.maxFutureMs === 0 && s.max_future !== undefined) {
    errors.push(new CatalogError('PW_CATALOG_DURATION', "key 'max_future' must be greater than 0 (it bounds how far ahead of processing time an event time may be)", { position: loc.at(['max_future'], true) }));
  }
  if (stream.idleTimeoutMs === 0 && s.idle_timeout !== undefined) {
    errors.push(new CatalogError('PW_CATALOG_DURATION', "key 'idle_timeout' must be greater than 0", { position: loc.at(['idle_timeout'], true) }));
  }
  return errors.length === before ? stream : undefined;
}

/** A catalog duration of an external lookup (`timeout`, `cache.ttl`, `breaker.reset_timeout`), positive; pushes PW_CATALOG_DURATION. */
function lookupDuration(text: string, path: readonly string[], loc: YamlLocator, errors: CatalogError[], allowZero = false): number {
  const ms = parseCatalogDuration(text);
  if (ms === undefined || ms > MAX_CATALOG_DURATION_MS || (ms === 0 && !allowZero)) {
    const what = ms === undefined ? `a duration is ${CATALOG_DURATION_HELP}` : ms === 0 ? 'it must be greater than 0' : `durations are at most ${formatDuration(MAX_CATALOG_DURATION_MS)}`;
    errors.push(new CatalogError('PW_CATALOG_DURATION', `key '${path.join('.')}' has '${text}'; ${what}`, { position: loc.at(path, true) }));
    return 1;
  }
  return ms;
}

/**
 * The settings of an external lookup: `url` must be an http(s) URL with exactly one `{<key>}`
 * placeholder (PW_CATALOG_LOOKUP_URL); durations as the catalog's others.
 */
function parseLookup(s: RawStream, key: string, loc: YamlLocator, errors: CatalogError[]): LookupSpec {
  const url = s.url ?? '';
  if (s.url === undefined) {
    errors.push(new CatalogError('PW_CATALOG_INVALID', "missing key 'url': an external lookup needs the URL template it calls, e.g. url: \"http://127.0.0.1:8080/rooms/{roomId}\"", { position: loc.at([]) }));
  } else if (key) {
    const holes = url.match(/\{[^}]*\}/g) ?? [];
    let parsed: URL | undefined;
    try { parsed = new URL(url.replace(`{${key}}`, 'k')); } catch { parsed = undefined; }
    if (holes.length !== 1 || holes[0] !== `{${key}}` || !parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      errors.push(new CatalogError('PW_CATALOG_LOOKUP_URL', `key 'url' has '${url}'; it must be an http:// or https:// URL with exactly one placeholder, {${key}} (the lookup's key), e.g. http://127.0.0.1:8080/rooms/{${key}}`, { position: loc.at(['url'], true) }));
    }
  }
  const d = LOOKUP_DEFAULTS;
  return {
    url, key,
    timeoutMs: lookupDuration(s.timeout ?? d.timeout, ['timeout'], loc, errors),
    concurrency: s.concurrency ?? d.concurrency,
    cacheTtlMs: lookupDuration(s.cache?.ttl ?? d.cacheTtl, ['cache', 'ttl'], loc, errors, true),
    cacheSize: s.cache?.size ?? d.cacheSize,
    maxInFlight: s.max_in_flight ?? d.maxInFlight,
    maxInFlightBytes: s.max_in_flight_bytes ?? d.maxInFlightBytes,
    errorThresholdPercent: s.breaker?.error_threshold ?? d.errorThresholdPercent,
    volumeThreshold: s.breaker?.volume_threshold ?? d.volumeThreshold,
    resetTimeoutMs: lookupDuration(s.breaker?.reset_timeout ?? d.resetTimeout, ['breaker', 'reset_timeout'], loc, errors),
    windowMs: lookupDuration(s.breaker?.window ?? d.window, ['breaker', 'window'], loc, errors),
  };
}

/** Lists the catalog files (`*.yaml`, `*.yml`) of a directory, sorted. */
export function catalogFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(dir, f));
}

/**
 * Loads every catalog file of `dir`. Throws an {@link AggregateUserError} listing every
 * problem of every file; stream names must be unique across files.
 */
export function loadCatalog(dir: string): Catalog {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new CatalogError('PW_CATALOG_DIR', `catalog directory '${dir}' does not exist; pass --catalog DIR with one YAML file per stream`);
  }
  const errors: CatalogError[] = [];
  const streams = new Map<string, StreamDef>();
  for (const path of catalogFiles(dir)) {
    const file = relative(process.cwd(), path) || path;
    const stream = parseCatalogFile(file, readFileSync(path, 'utf8'), errors);
    if (!stream) continue;
    const prior = streams.get(stream.name);
    if (prior) {
      errors.push(new CatalogError('PW_CATALOG_DUPLICATE', `stream '${stream.name}' is already declared in ${prior.file}; names must be unique`, { position: stream.position }));
      continue;
    }
    streams.set(stream.name, stream);
  }
  if (errors.length === 1) throw errors[0] as CatalogError;
  if (errors.length > 1) throw new AggregateUserError(errors);
  return { dir, streams };
}
