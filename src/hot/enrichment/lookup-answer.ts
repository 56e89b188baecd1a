/**
 * What one lookup gave an event: the service's row (or null when the service has no row for
 * the key: HTTP 404), or a fallback with its reason (the event proceeds with the lookup's
 * columns NULL). Answers are validated against the lookup's declared fields before use.
 */
import type { FieldDef, StreamDef } from '../../catalog/index.js';
import { MAX_EXACT_INT, unpairedSurrogate } from '../../catalog/index.js';
import { parseTimestampMs } from '../../util/timestamp.js';

/** Why a lookup fell back to NULL columns (a label of `pitwall_enrichment_fallback_total`). */
export const FALLBACK_REASONS = ['breaker_open', 'timeout', 'http_status', 'network', 'bad_response'] as const;
export type FallbackReason = (typeof FALLBACK_REASONS)[number];

export type LookupRow = Readonly<Record<string, unknown>>;

export type LookupAnswer =
  | { readonly kind: 'row'; readonly row: LookupRow | null }
  | { readonly kind: 'fallback'; readonly reason: FallbackReason; readonly detail: string };

/** An answer the service gave that does not match the declared fields (a `bad_response` fallback). */
export class BadResponseError extends Error {}

function valueProblem(f: FieldDef, v: unknown): string | undefined {
  switch (f.type) {
    case 'string': return typeof v === 'string' && unpairedSurrogate(v) === undefined ? undefined : 'a well-formed string';
    case 'int': return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= MAX_EXACT_INT ? undefined : 'an integer within ±(2^53 − 1)';
    case 'double': return typeof v === 'number' && Number.isFinite(v) ? undefined : 'a finite number';
    case 'boolean': return typeof v === 'boolean' ? undefined : 'true or false';
    case 'timestamp': return (typeof v === 'string' || typeof v === 'number') && parseTimestampMs(v) !== undefined ? undefined : 'an ISO-8601 timestamp or epoch milliseconds in 0001…9999';
  }
}

/**
 * The row of a service's answer: the declared fields only (by dot path), each checked as
 * payloads are (catalog types and the value domain); the key field, when the answer lacks it,
 * is the key asked for. Throws {@link BadResponseError} naming the first bad field.
 */
export function rowOfAnswer(lookup: StreamDef, key: string | number, body: unknown): LookupRow {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadResponseError('the answer is not a JSON object');
  const row: Record<string, unknown> = {};
  for (const f of lookup.fields.values()) {
    let v: unknown = body;
    for (const s of f.segments) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[s] : undefined;
    if ((v === undefined || v === null) && f.path === lookup.lookup?.key) v = key;
    if (v === undefined || v === null) {
      if (f.required) throw new BadResponseError(`required field '${f.path}' is missing`);
      continue;
    }
    const problem = valueProblem(f, v);
    if (problem) throw new BadResponseError(`field '${f.path}' must be ${problem} (${f.type})`);
    let at = row;
    for (const s of f.segments.slice(0, -1)) at = (at[s] ??= {}) as Record<string, unknown>;
    at[f.segments[f.segments.length - 1] as string] = v;
  }
  return row;
}
