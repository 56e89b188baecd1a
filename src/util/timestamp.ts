/**
 * Event-time parsing, shared by validation (hot path) and the cold path's loaders, so both
 * read the same instant from the same value. Accepts an ISO-8601 string (a value without an
 * offset is read as UTC) or integer epoch milliseconds.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Epoch milliseconds of a timestamp value, or undefined when it is not one. */
export function parseTimestampMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = ISO.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  let offsetMin = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!z) return undefined;
    offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? '0'));
  }
  const month = Number(mo);
  const day = Number(d);
  const t = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s), ms);
  // Reject calendar overflow (2024-02-30) that Date.UTC would roll into the next month.
  const check = new Date(t);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  return t - offsetMin * 60_000;
}

/** ISO-8601 UTC with milliseconds (`2024-03-15T19:30:00.000Z`), the form results use. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}
