/** JSON Schema of one catalog file, checked with ajv before the semantic checks. */

export const STREAM_KEYS = [
  'name', 'kind', 'topic', 'format', 'event_id', 'event_time', 'watermark_delay', 'allowed_lateness',
  'idle_timeout', 'dedup_ttl', 'max_future', 'partition_key', 'retention', 'partitions', 'fields', 'versions', 'description',
  'key', 'valid_from', 'deleted', 'max_versions',
  'url', 'timeout', 'concurrency', 'cache', 'breaker', 'max_in_flight', 'max_in_flight_bytes',
] as const;

/** Keys only an external lookup (`kind: lookup`) may set (besides `key`). */
export const LOOKUP_ONLY_KEYS = ['url', 'timeout', 'concurrency', 'cache', 'breaker', 'max_in_flight', 'max_in_flight_bytes'] as const;

/** Keys only a reference table (`kind: table`) may set. */
export const TABLE_ONLY_KEYS = ['key', 'valid_from', 'deleted', 'max_versions'] as const;

/** Keys only a stream may set (a table's changes are not deduplicated, windowed or watermarked). */
export const STREAM_ONLY_KEYS = ['event_id', 'event_time', 'watermark_delay', 'allowed_lateness', 'idle_timeout', 'dedup_ttl', 'partition_key', 'versions'] as const;

export const FIELD_KEYS = ['type', 'required', 'pii', 'description'] as const;

export const catalogFileSchema = {
  type: 'object',
  required: ['name', 'fields'],
  additionalProperties: false,
  properties: {
    // A stream name becomes a directory of the archive, a DuckDB view and a /metrics label; 63
    // characters like SQL identifiers (sql/sql-limits.ts), so every stream can be named in SQL.
    name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 63 },
    kind: { enum: ['stream', 'table', 'lookup'] },
    // Kafka's own rule for topic names: at most 249 of [a-zA-Z0-9._-] (the DLQ adds '.dlq').
    topic: { type: 'string', pattern: '^[A-Za-z0-9._-]+$', maxLength: 245 },
    format: { enum: ['json'] },
    event_id: { type: 'string', minLength: 1 },
    event_time: { type: 'string', minLength: 1 },
    watermark_delay: { type: 'string' },
    allowed_lateness: { type: 'string' },
    idle_timeout: { type: 'string' },
    dedup_ttl: { type: 'string' },
    max_future: { type: 'string' },
    partition_key: { type: 'string', minLength: 1 },
    retention: { type: 'string' },
    partitions: { type: 'integer', minimum: 1, maximum: 10000 },
    description: { type: 'string' },
    // Checked key by key in parse-versions.ts, where each problem gets its own code and position.
    versions: { type: 'object' },
    key: { type: 'string', minLength: 1 },
    valid_from: { type: 'string', minLength: 1 },
    deleted: { type: 'string', minLength: 1 },
    max_versions: { type: 'integer', minimum: 1, maximum: 100000000 },
    url: { type: 'string', minLength: 1, maxLength: 2000 },
    timeout: { type: 'string' },
    concurrency: { type: 'integer', minimum: 1, maximum: 1024 },
    max_in_flight: { type: 'integer', minimum: 1, maximum: 1000000 },
    max_in_flight_bytes: { type: 'integer', minimum: 1024, maximum: 4294967296 },
    cache: {
      type: 'object', additionalProperties: false,
      properties: { ttl: { type: 'string' }, size: { type: 'integer', minimum: 0, maximum: 10000000 } },
    },
    breaker: {
      type: 'object', additionalProperties: false,
      properties: {
        error_threshold: { type: 'integer', minimum: 1, maximum: 100 },
        volume_threshold: { type: 'integer', minimum: 1, maximum: 100000 },
        reset_timeout: { type: 'string' },
        window: { type: 'string' },
      },
    },
    fields: {
      type: 'object',
      minProperties: 1,
      // Each segment at most 63 characters, as SQL identifiers (data.orderTotal is two).
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})*$' },
      additionalProperties: {
        type: 'object',
        required: ['type'],
        additionalProperties: false,
        properties: {
          type: { enum: ['string', 'int', 'double', 'boolean', 'timestamp'] },
          required: { type: 'boolean' },
          pii: { enum: ['hash', 'drop'] },
          description: { type: 'string' },
        },
      },
    },
  },
} as const;
