/**
 * Versioned payloads at run time (catalog `versions`, parse-versions.ts). A valid event is
 * rewritten once, right after validation, so that every declared field sits at its declared
 * path ({@link toDeclaredPaths}); the hot operators, the archive's typed columns and DuckDB
 * then read declared paths only, and hot and cold agree by construction. The raw payload (the
 * archive's `_pw_payload`) keeps the producer's own layout.
 */
import { getPath } from './get-path.js';
import type { FieldLocation, StreamDef, StreamVersions, VersionDef } from './types.js';

/** Where version `v` carries the declared field `path` (the declared place itself without a version). */
export function locationIn(v: VersionDef | undefined, path: string): FieldLocation {
  const moved = v?.moved;
  if (moved?.has(path)) return moved.get(path) ?? null;
  return { path, segments: path.split('.') };
}

/** The payload's version definition, or what the version field holds when the catalog does not list it. */
export function payloadVersion(versions: StreamVersions, payload: Record<string, unknown>): { ok: true; version: VersionDef } | { ok: false; seen: unknown } {
  const seen = getPath(payload, versions.segments);
  const version = typeof seen === 'number' ? versions.byNumber.get(seen) : seen === undefined || seen === null ? versions.missing : undefined;
  return version ? { ok: true, version } : { ok: false, seen };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * `payload` with each field version `v` moves read from where `v` carries it and written at its
 * declared path (removed when `v` lacks it or the value is missing). Every value is read before
 * any is written, so mappings that swap two fields read the producer's values. Objects on the
 * way are copied, never changed: the input stays as received. Fields `v` does not move, and
 * undeclared fields, are kept as they are. Returns `payload` itself when `v` moves nothing.
 */
export function toDeclaredPaths(v: VersionDef, payload: Record<string, unknown>): Record<string, unknown> {
  if (v.moved.size === 0) return payload;
  const values: [string[], unknown][] = [];
  for (const [declared, to] of v.moved) values.push([declared.split('.'), to ? getPath(payload, to.segments) : undefined]);
  const out: Record<string, unknown> = { ...payload };
  const copies = new Set<object>([out]);
  for (const [segments, value] of values) {
    let node: Record<string, unknown> | undefined = out;
    for (const seg of segments.slice(0, -1)) {
      const child: unknown = node[seg];
      if (isObject(child) && copies.has(child)) {
        node = child;
      } else if (isObject(child) || value !== undefined) {
        // A missing or non-object parent is replaced only to hold a value, never just to remove one.
        const copy: Record<string, unknown> = isObject(child) ? { ...child } : {};
        node[seg] = copy;
        copies.add(copy);
        node = copy;
      } else {
        node = undefined;
        break;
      }
    }
    if (!node) continue;
    const leaf = segments[segments.length - 1] as string;
    if (value === undefined) delete node[leaf];
    else node[leaf] = value;
  }
  return out;
}

/**
 * `payload` (an event of `stream` that passed validation) with its fields at their declared
 * paths; itself when the stream declares no versions or the version is not listed (validation
 * refuses those, so the archive never sees one).
 */
export function declaredLayout(stream: StreamDef, payload: Record<string, unknown>): Record<string, unknown> {
  if (!stream.versions) return payload;
  const found = payloadVersion(stream.versions, payload);
  return found.ok ? toDeclaredPaths(found.version, payload) : payload;
}
