/** Catalog model: what a stream or reference table declares. Loaded by {@link loadCatalog}. */
import type { SourcePosition } from '../errors.js';

/** Field types a catalog may declare. */
export const FIELD_TYPES = ['string', 'int', 'double', 'boolean', 'timestamp'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** PII treatment applied when archiving: `hash` (keyed hash) or `drop`. */
export const PII_MODES = ['hash', 'drop'] as const;
export type PiiMode = (typeof PII_MODES)[number];

export interface FieldDef {
  /** Dot path inside the payload (`data.restaurantId`). */
  readonly path: string;
  readonly segments: readonly string[];
  readonly type: FieldType;
  /** A required field must be present and non-null; any other field may be missing or null. */
  readonly required: boolean;
  readonly pii: PiiMode | undefined;
  readonly position: SourcePosition;
}

/** Where a version carries a declared field: a dot path, or null when that version does not carry it (it reads NULL). */
export type FieldLocation = { readonly path: string; readonly segments: readonly string[] } | null;

/** One payload version of a stream (catalog `versions: { <n>: { declared: location } }`). */
export interface VersionDef {
  /** A non-negative integer. */
  readonly version: number;
  /** Declared fields this version carries elsewhere or not at all, by declared path; every other field is where declared. */
  readonly moved: ReadonlyMap<string, FieldLocation>;
  /** The version's key in the catalog file. */
  readonly position: SourcePosition;
}

/**
 * Per-version field mappings of a stream. Events are validated where their version carries
 * each field, then rewritten to the declared paths (catalog/versions.ts): every later stage
 * reads declared paths only. An event whose version is missing or not listed is quarantined.
 */
export interface StreamVersions {
  /** The declared `int` field holding the version (catalog `versions.field`, default `eventVersion`). */
  readonly field: string;
  readonly segments: readonly string[];
  /** The versions the catalog knows, ascending. */
  readonly byNumber: ReadonlyMap<number, VersionDef>;
  /**
   * The version of an event that does not carry the version field (absent or null): catalog
   * `versions.default`, for topics whose first producers wrote no version. Unset: such events
   * are quarantined.
   */
  readonly missing?: VersionDef | undefined;
}

/**
 * What a reference table (`kind: table`) declares for event-time versioned lookups (Flink's
 * temporal table join): its rows arrive as changes (upserts by `key`, or deletes when the
 * `deleted` field is true), each valid from the time in `validFrom`.
 */
export interface TableSpec {
  /** Field path of the lookup key (required; string or int). */
  readonly key: string;
  /** Field path of the validity time (required timestamp): a change holds from that time on. */
  readonly validFrom: string;
  /** Field path of the tombstone flag (boolean); true deletes the key from `validFrom` on. */
  readonly deleted: string | undefined;
  /** Cap on versions kept per join (catalog `max_versions`, default 100,000); changes past it are counted and not applied. */
  readonly maxVersions: number;
}

/**
 * What an external HTTP lookup (`kind: lookup`) declares: a service answering one key with one
 * JSON object of the declared `fields`, called per event behind a circuit breaker, with a
 * cache. The responses used are archived per event, so the cold path replays them exactly.
 */
export interface LookupSpec {
  /** URL template with one `{<key>}` placeholder, replaced by the URL-encoded key. */
  readonly url: string;
  /** Name of the key field (declared under `fields`, string or int): what the join's ON compares with. */
  readonly key: string;
  /** Per-call timeout (ms): a call past it is a `timeout` fallback. */
  readonly timeoutMs: number;
  /** Calls in flight at most (distinct keys; one key is called once at a time). */
  readonly concurrency: number;
  /** How long (ms) and how many answers the cache keeps (LRU). */
  readonly cacheTtlMs: number;
  readonly cacheSize: number;
  /** Events waiting for their enrichment at most, and their payload characters at most (backpressure beyond). */
  readonly maxInFlight: number;
  readonly maxInFlightBytes: number;
  /** Breaker: failure percentage over the rolling window that opens it, calls in the window before it may open, ms before it half-opens, and the window (ms). */
  readonly errorThresholdPercent: number;
  readonly volumeThreshold: number;
  readonly resetTimeoutMs: number;
  readonly windowMs: number;
}

export interface StreamDef {
  /** `stream` (an unbounded topic), `table` (reference data for lookups) or `lookup` (an external HTTP service). */
  readonly kind: 'stream' | 'table' | 'lookup';
  readonly name: string;
  readonly topic: string;
  readonly format: 'json';
  /** Field path of the unique event id used for dedup. */
  readonly eventId: string;
  /** Field path of the event time (ISO-8601 string or epoch milliseconds). */
  readonly eventTime: string;
  readonly watermarkDelayMs: number;
  readonly allowedLatenessMs: number;
  readonly idleTimeoutMs: number;
  readonly dedupTtlMs: number;
  /**
   * How far ahead an event time may be (ms, catalog `max_future`, default 1 day): of processing
   * time under `run` and the demo, of the latest valid event time before it on the same
   * partition in replay and recompute. Later events are quarantined (PW_PAYLOAD_BAD_TIMESTAMP)
   * instead of dragging the watermark forward.
   */
  readonly maxFutureMs: number;
  readonly partitionKey: string | undefined;
  /** Archive retention; undefined keeps everything. */
  readonly retentionMs: number | undefined;
  /** Partitions pitwall creates the topic with when it is missing. */
  readonly partitions: number;
  /** Declared fields by dot path, in file order. */
  readonly fields: ReadonlyMap<string, FieldDef>;
  /** Per-version field mappings; absent when the catalog declares no `versions` (payloads are read as declared). */
  readonly versions?: StreamVersions | undefined;
  /** The catalog file this came from. */
  readonly file: string;
  /** Reference tables only: key, validity time and tombstone flag. */
  readonly table?: TableSpec;
  /** External lookups only (`kind: lookup`): URL, key, timeout, cache and breaker settings. */
  readonly lookup?: LookupSpec;
  /** Where the stream is declared: the value of its `name` key. */
  readonly position: SourcePosition;
}

export interface Catalog {
  readonly dir: string;
  readonly streams: ReadonlyMap<string, StreamDef>;
}
