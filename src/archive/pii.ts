/** The keyed hash `pii: hash` fields are archived as (HMAC-SHA256, hex, first 32 characters). */
import { createHmac } from 'node:crypto';

export function piiHash(key: string, value: unknown): string {
  return createHmac('sha256', key).update(String(value)).digest('hex').slice(0, 32);
}
