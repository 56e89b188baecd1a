/**
 * Event-time parsing, shared by validation (hot path) and the cold path's loaders, so both
 * read the same instant from the same value. Accepts an ISO-8601 string (a value without an
 * offset is read as UTC) or integer epoch milliseconds, inside one supported range on every
 * path: 0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z (JavaScript Dates, Arrow/Parquet
 * timestamp[ms] and DuckDB TIMESTAMP all hold it, and four-digit years print the same
 * everywhere). Microsecond or nanosecond epochs, a common producer mistake, fall outside it.
 */

/** First supported instant, 0001-01-01T00:00:00.000Z, in epoch ms. */
export const MIN_TIMESTAMP_MS = -62_135_596_800_000;
/** Last supported instant, 9999-12-31T23:59:59.999Z, in epoch ms. */
export const MAX_TIMESTAMP_MS = 253_402_300_799_999;

/** Whether `ms` is an integer inside the supported range. */
export function inTimestampRange(ms: number): boolean {
  return Number.isInteger(ms) && ms >= MIN_TIMESTAMP_MS && ms <= MAX_TIMESTAMP_MS;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?[ \t\n\v\f\r]*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Epoch milliseconds of a timestamp value, or undefined when it is not one or is outside the supported range. */
export function parseTimestampMs(value: unknown): number | undefined {
  let t: number | undefined;
  if (typeof value === 'string') {
    t = parseIsoFast(value);
    if (t !== t) t = parseIsoSlow(value); // NaN: not a shape the fast path vouches for
  } else if (typeof value === 'number') {
    t = value;
  }
  return t !== undefined && inTimestampRange(t) ? t : undefined;
}

/** Value of the decimal digit at `i`, or -1 (callers keep `i` inside the string). */
function dig(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

/** Value of the two digits at `i`, or a negative number when either is not a digit. */
function dig2(s: string, i: number): number {
  const a = dig(s, i);
  const b = dig(s, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

/**
 * Fast path for the common, well-formed shapes, by character arithmetic (no regex, no
 * allocation): `YYYY-MM-DD`, optionally followed by `[T ]HH:MM[:SS[.f{1,6}]]` and by `Z`, `z`,
 * `±HH`, `±HHMM` or `±HH:MM`, with years 0100–9999. Returns the epoch milliseconds only for a
 * valid instant, and NaN for anything else (invalid, unusual or malformed), which the
 * caller hands to the regex path — so the fast path can only agree with it, never overrule it.
 *
 * Equivalence notes: 1–6 fraction digits truncate to the same milliseconds as
 * `Math.floor(Number('0.f') * 1000)` (checked exhaustively for every 1–6 digit string); years
 * below 100 are left to the slow path because `Date.UTC` maps them to 1900–1999.
 */
function parseIsoFast(s: string): number {
  const n = s.length;
  if (n < 10 || n > 35 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return NaN;
  const y1 = dig2(s, 0);
  const y2 = dig2(s, 2);
  const mo = dig2(s, 5);
  const d = dig2(s, 8);
  if (y1 < 1 || y2 < 0 || mo < 1 || mo > 12 || d < 1) return NaN;
  const y = y1 * 100 + y2;
  if (d > 28 && d > daysInMonth(y, mo)) return NaN;
  let h = 0;
  let mi = 0;
  let sec = 0;
  let ms = 0;
  let i = 10;
  if (n > 10) {
    const sep = s.charCodeAt(10);
    if (sep === 84 /* T */ || sep === 32 /* space */) {
      if (n < 16 || s.charCodeAt(13) !== 58) return NaN;
      h = dig2(s, 11);
      mi = dig2(s, 14);
      if (h < 0 || h > 23 || mi < 0 || mi > 59) return NaN;
      i = 16;
      if (n > 16 && s.charCodeAt(16) === 58 /* : */) {
        if (n < 19) return NaN;
        sec = dig2(s, 17);
        if (sec < 0 || sec > 59) return NaN;
        i = 19;
        if (n > 19 && s.charCodeAt(19) === 46 /* . */) {
          let k = 20;
          for (; k < n; k++) {
            const c = dig(s, k);
            if (c < 0) break;
            if (k < 23) ms = ms * 10 + c; // digits past the third truncate away
          }
          const digits = k - 20;
          if (digits < 1 || digits > 6) return NaN;
          if (digits < 3) ms *= digits === 1 ? 100 : 10;
          i = k;
        }
      }
    }
  }
  let t = epochDays(y, mo, d) * 86_400_000 + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms;
  if (i === n) return t;
  const z = s.charCodeAt(i);
  if (z === 90 /* Z */ || z === 122 /* z */) return i + 1 === n ? t : NaN;
  if (z !== 43 /* + */ && z !== 45 /* - */) return NaN;
  const rest = n - i;
  if (rest !== 3 && rest !== 5 && rest !== 6) return NaN;
  const oh = dig2(s, i + 1);
  if (oh < 0 || oh > 23) return NaN;
  let om = 0;
  if (rest > 3) {
    const at = rest === 6 ? i + 4 : i + 3;
    if (rest === 6 && s.charCodeAt(i + 3) !== 58) return NaN;
    om = dig2(s, at);
    if (om < 0 || om > 59) return NaN;
  }
  const off = (oh * 60 + om) * 60_000;
  t = z === 45 ? t + off : t - off;
  return t;
}

/** Days of month `mo` (1…12) of year `y`, proleptic Gregorian. */
export function daysInMonth(y: number, mo: number): number {
  if (mo === 2) return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28;
  return mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to the proleptic Gregorian date (Hinnant's days_from_civil, y ≥ 1). */
export function epochDays(y: number, mo: number, d: number): number {
  const yy = mo <= 2 ? y - 1 : y;
  const era = (yy / 400) | 0;
  const yoe = yy - era * 400;
  const doy = (((153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5) | 0) + d - 1;
  const doe = yoe * 365 + ((yoe / 4) | 0) - ((yoe / 100) | 0) + doy;
  return era * 146_097 + doe - 719_468;
}

/**
 * The general path: the ISO regex, calendar checked field by field. Days are counted with
 * {@link epochDays}, not `Date.UTC`, which maps years 0–99 to 1900–1999; year 0000 does not exist.
 */
function parseIsoSlow(value: string): number | undefined {
  const m = ISO.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const ms = frac ? Number(`${frac.slice(1, 4)}00`.slice(0, 3)) : 0; // digits past the third truncate away, never rounding up a second
  let offsetMin = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    // Offsets as CAST reads them: hours ≤ 23, minutes ≤ 59 (hot/eval/value-text.ts).
    if (!z || Number(z[2]) > 23 || Number(z[3] ?? '0') > 59) return undefined;
    offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? '0'));
  }
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  const t = epochDays(year, month, day) * 86_400_000 + Number(h) * 3_600_000 + Number(mi) * 60_000 + Number(s) * 1000 + ms;
  return t - offsetMin * 60_000;
}

/** ISO-8601 UTC with milliseconds (`2024-03-15T19:30:00.000Z`), the form results use. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}
