/**
 * The `versions` key of a stream's catalog file: which envelope field holds the payload version,
 * and per version where each declared field moved to (or that the version lacks it):
 *
 * ```yaml
 * versions:
 *   field: eventVersion                     # default; a declared int field
 *   default: 1                              # events without the field are version 1 (optional)
 *   1: {}                                   # fields where declared
 *   2:
 *     data.prepSeconds: data.prep.seconds   # declared field: where version 2 carries it
 *     data.courierId: null                  # version 2 lacks it: reads NULL
 * ```
 *
 * Errors (each at the key or value it concerns): PW_CATALOG_VERSION (a version that is not a
 * non-negative integer, an entry that is not a mapping, no version listed, a bad `field`, a
 * `default` that is not a listed version),
 * PW_CATALOG_UNKNOWN_FIELD / PW_CATALOG_FIELD_TYPE (`field` or a mapped field not declared, or
 * `field` not an int), PW_CATALOG_VERSION_PATH (a location that is not a dot path, or two
 * locations of one version that collide), PW_CATALOG_VERSION_FIXED (moving the event id, the
 * event time, the partition key or the version field, or a required field mapped to null).
 */
import { CatalogError, type SourcePosition } from '../errors.js';
import type { FieldDef, FieldLocation, StreamVersions, VersionDef } from './types.js';

/** Finds positions in the catalog file (load-catalog.ts's YamlLocator). */
export interface KeyLocator { at(path: readonly string[], value?: boolean): SourcePosition }

/** The fields whose place must not change between versions, with the catalog key naming each. */
export interface FixedFields { readonly eventId: string; readonly eventTime: string; readonly partitionKey: string | undefined }

const DEFAULT_VERSION_FIELD = 'eventVersion';
/** The same shape as declared field names (catalog-schema.ts). */
const LOCATION = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})*$/;
const VERSION_KEY = /^(0|[1-9][0-9]{0,14})$/;

function versionField(raw: Record<string, unknown>, fields: ReadonlyMap<string, FieldDef>, loc: KeyLocator, errors: CatalogError[]): string {
  const given = raw.field;
  if (given !== undefined && typeof given !== 'string') {
    errors.push(new CatalogError('PW_CATALOG_VERSION', "key 'versions.field' must be the path of the declared int field holding the version (e.g. eventVersion)", { position: loc.at(['versions', 'field'], true) }));
    return '';
  }
  const path = given ?? DEFAULT_VERSION_FIELD;
  const position = given === undefined ? loc.at(['versions']) : loc.at(['versions', 'field'], true);
  const f = fields.get(path);
  if (!f) {
    const why = given === undefined ? `'versions.field' is not set and its default '${path}'` : `key 'versions.field' names '${path}', which`;
    errors.push(new CatalogError('PW_CATALOG_UNKNOWN_FIELD', `${why} is not declared under 'fields'; declare the version field as { type: int } or name it with versions.field`, { position }));
  } else if (f.type !== 'int') {
    errors.push(new CatalogError('PW_CATALOG_FIELD_TYPE', `the version field '${path}' is declared ${f.type}; it must be of type int`, { position }));
  }
  return path;
}

function fixedRole(path: string, fixed: FixedFields, versionPath: string): string | undefined {
  if (path === fixed.eventId) return 'event_id';
  if (path === fixed.eventTime) return 'event_time';
  if (path === fixed.partitionKey) return 'partition_key';
  if (path === versionPath) return 'versions.field';
  return undefined;
}

/** Locations of one version that collide: two fields at one path, or one path inside another. */
function checkCollisions(v: VersionDef, fields: ReadonlyMap<string, FieldDef>, loc: KeyLocator, errors: CatalogError[]): void {
  const where = new Map<string, string>();
  for (const f of fields.values()) {
    const to = v.moved.has(f.path) ? v.moved.get(f.path) : { path: f.path };
    if (to) where.set(f.path, to.path);
  }
  for (const [declared, path] of where) {
    if (!v.moved.has(declared)) continue;
    for (const [other, otherPath] of where) {
      if (other === declared) continue;
      const clash = otherPath === path ? 'the same path as' : otherPath.startsWith(`${path}.`) || path.startsWith(`${otherPath}.`) ? 'a path nested with that of' : undefined;
      if (!clash) continue;
      errors.push(new CatalogError('PW_CATALOG_VERSION_PATH', `version ${v.version} carries '${declared}' at '${path}', ${clash} '${other}' ('${otherPath}'); each field of a version needs its own value path`, { position: loc.at(['versions', String(v.version), declared], true) }));
      break;
    }
  }
}

function parseVersion(
  key: string, entry: unknown, fields: ReadonlyMap<string, FieldDef>, fixed: FixedFields, versionPath: string, loc: KeyLocator, errors: CatalogError[],
): VersionDef | undefined {
  if (!VERSION_KEY.test(key)) {
    errors.push(new CatalogError('PW_CATALOG_VERSION', `version '${key}' under 'versions' must be a non-negative integer (as the producer writes it in '${versionPath}'), or the key 'field' or 'default'`, { position: loc.at(['versions', key]) }));
    return undefined;
  }
  if (entry !== null && (typeof entry !== 'object' || Array.isArray(entry))) {
    errors.push(new CatalogError('PW_CATALOG_VERSION', `version ${key} must be a mapping of declared field to where that version carries it ({} when every field is where declared)`, { position: loc.at(['versions', key], true) }));
    return undefined;
  }
  const version = Number(key);
  const moved = new Map<string, FieldLocation>();
  for (const [declared, to] of Object.entries((entry ?? {}) as Record<string, unknown>)) {
    const position = loc.at(['versions', key, declared]);
    const f = fields.get(declared);
    const role = fixedRole(declared, fixed, versionPath);
    if (!f) {
      errors.push(new CatalogError('PW_CATALOG_UNKNOWN_FIELD', `version ${key} maps '${declared}', which is not declared under 'fields'; map declared fields only (declared: ${[...fields.keys()].join(', ')})`, { position }));
    } else if (role) {
      errors.push(new CatalogError('PW_CATALOG_VERSION_FIXED', `version ${key} moves '${declared}', the stream's ${role}; it must stay at its declared path in every version (producers route and deduplicate by it); publish a version that moves it to a new stream`, { position }));
    } else if (to === null) {
      if (f.required) errors.push(new CatalogError('PW_CATALOG_VERSION_FIXED', `version ${key} lacks '${declared}', which is declared required: true; a required field must be carried by every version (drop required: true to let it read NULL)`, { position }));
      else moved.set(declared, null);
    } else if (typeof to !== 'string' || !LOCATION.test(to)) {
      errors.push(new CatalogError('PW_CATALOG_VERSION_PATH', `version ${key} maps '${declared}' to ${JSON.stringify(to)}; write the dot path where version ${key} carries it (e.g. data.prep.seconds), or null when it lacks it`, { position: loc.at(['versions', key, declared], true) }));
    } else if (to !== declared) {
      moved.set(declared, { path: to, segments: to.split('.') });
    }
  }
  return { version, moved, position: loc.at(['versions', key]) };
}

/** Parses `versions` (an object, ajv has checked); pushes every problem to `errors`. */
export function parseVersions(
  raw: Record<string, unknown>, fields: ReadonlyMap<string, FieldDef>, fixed: FixedFields, loc: KeyLocator, errors: CatalogError[],
): StreamVersions | undefined {
  const found: CatalogError[] = [];
  const field = versionField(raw, fields, loc, found);
  const parsed: VersionDef[] = [];
  for (const [key, entry] of Object.entries(raw)) {
    if (key === 'field' || key === 'default') continue;
    const v = parseVersion(key, entry, fields, fixed, field, loc, found);
    if (v) parsed.push(v);
  }
  const fallback = raw.default;
  if (fallback !== undefined && !parsed.some((v) => v.version === fallback)) {
    found.push(new CatalogError('PW_CATALOG_VERSION', `key 'versions.default' must be one of the versions listed (${parsed.map((v) => v.version).join(', ') || 'none'}), got ${JSON.stringify(fallback)}: events without '${field}' are read as that version`, { position: loc.at(['versions', 'default'], true) }));
  }
  if (Object.keys(raw).every((k) => k === 'field' || k === 'default')) {
    found.push(new CatalogError('PW_CATALOG_VERSION', "'versions' lists no version; list each version the topic carries (e.g. 1: {} for fields where declared)", { position: loc.at(['versions']) }));
  }
  for (const v of parsed) checkCollisions(v, fields, loc, found);
  if (found.length > 0) {
    // In file order (JavaScript lists integer keys such as versions first).
    const at = (e: CatalogError): number => (e.position?.line ?? 0) * 1e6 + (e.position?.col ?? 0);
    found.sort((a, b) => at(a) - at(b));
    for (const e of found) errors.push(e);
    return undefined;
  }
  parsed.sort((a, b) => a.version - b.version);
  const byNumber = new Map(parsed.map((v) => [v.version, v]));
  return { field, segments: field.split('.'), byNumber, ...(typeof fallback === 'number' ? { missing: byNumber.get(fallback) } : {}) };
}
