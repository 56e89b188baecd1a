/** PII treatment of archived payloads: `pii: hash` fields become a keyed hash, `pii: drop` fields are removed. */
import { createHmac } from 'node:crypto';
import { locationIn, payloadVersion, type StreamDef } from '../catalog/index.js';

/** The keyed hash `pii: hash` fields are archived as (HMAC-SHA256, hex, first 32 characters). */
export function piiHash(key: string, value: unknown): string {
  return createHmac('sha256', key).update(String(value)).digest('hex').slice(0, 32);
}

/** Whether any field of the stream is tagged `pii`. */
export function hasPii(stream: StreamDef): boolean {
  for (const f of stream.fields.values()) if (f.pii) return true;
  return false;
}

/**
 * The payload after PII treatment (a copy when anything changes; the input is never modified).
 * With catalog `versions`, each field is treated where the payload's version carries it.
 */
export function treatPii(stream: StreamDef, payload: Record<string, unknown>, key: string | undefined): Record<string, unknown> {
  let out = payload;
  const found = stream.versions ? payloadVersion(stream.versions, payload) : undefined;
  const version = found?.ok ? found.version : undefined;
  for (const f of stream.fields.values()) {
    if (!f.pii) continue;
    const segments = locationIn(version, f.path)?.segments;
    if (!segments) continue;
    if (out === payload) out = structuredClone(payload);
    let parent: Record<string, unknown> | undefined = out;
    for (const seg of segments.slice(0, -1)) {
      const next: unknown = parent?.[seg];
      parent = next !== null && typeof next === 'object' ? next as Record<string, unknown> : undefined;
    }
    const leaf = segments[segments.length - 1] as string;
    if (!parent || !(leaf in parent)) continue;
    if (f.pii === 'drop') delete parent[leaf];
    else if (parent[leaf] !== null) {
      if (key === undefined) throw new Error(`no key for the pii: hash field ${stream.name}.${f.path}`);
      parent[leaf] = piiHash(key, parent[leaf]);
    }
  }
  return out;
}
