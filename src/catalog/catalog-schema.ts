/** JSON Schema of one catalog file, checked with ajv before the semantic checks. */

export const STREAM_KEYS = [
  'name', 'kind', 'topic', 'format', 'event_id', 'event_time', 'watermark_delay', 'allowed_lateness',
  'idle_timeout', 'dedup_ttl', 'max_future', 'partition_key', 'retention', 'partitions', 'fields', 'description',
] as const;

export const FIELD_KEYS = ['type', 'required', 'pii', 'description'] as const;

export const catalogFileSchema = {
  type: 'object',
  required: ['name', 'fields'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    kind: { enum: ['stream', 'table'] },
    topic: { type: 'string', minLength: 1 },
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
    fields: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$' },
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
