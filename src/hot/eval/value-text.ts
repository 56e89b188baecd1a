/**
 * Values to and from text on the hot path: the readers behind `CAST(text AS …)` (the grammars of
 * text-forms.ts), the text form of each type (`CAST(… AS VARCHAR)` and `||`), and the order of
 * text. Each function has a DuckDB twin in cold/compile-expr.ts; the property test
 * test/hot/eval/scalar-parity.test.ts holds them equal.
 */
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, parseTimestampMs } from '../../util/timestamp.js';
import { finiteOrNull, intOrNull } from './arithmetic.js';
import { DOUBLE_TEXT, FALSE_TEXT, INT_TEXT, TRUE_TEXT } from './text-forms.js';

const INT_RE = new RegExp(INT_TEXT);
const DOUBLE_RE = new RegExp(DOUBLE_TEXT);
const TRUE_RE = new RegExp(TRUE_TEXT);
const FALSE_RE = new RegExp(FALSE_TEXT);
/** PostgreSQL's whitespace (text-forms.ts) at either end of a text. */
const SURROUNDING_WS = /^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g;

/**
 * Text to BIGINT: {@link INT_TEXT}, and the value inside ±(2^53 − 1); otherwise NULL.
 * `Number` reads a digit string correctly rounded, so a value past the range reads past it.
 */
export function textToInt(s: string): number | null {
  const m = INT_RE.exec(s);
  return m ? intOrNull(Number(m[1])) : null;
}

/**
 * Text to DOUBLE: {@link DOUBLE_TEXT}, rounded to the nearest double (ties to even, as
 * `strtod` and DuckDB's reader); a magnitude too large for a finite double is NULL, one too
 * small reads as ±0 or a subnormal.
 */
export function textToDouble(s: string): number | null {
  const m = DOUBLE_RE.exec(s);
  return m ? finiteOrNull(Number(m[1])) : null;
}

/** Text to BOOLEAN: {@link TRUE_TEXT} is true, {@link FALSE_TEXT} false, anything else NULL. */
export function textToBoolean(s: string): boolean | null {
  return TRUE_RE.test(s) ? true : FALSE_RE.test(s) ? false : null;
}

/**
 * Text to TIMESTAMP (epoch ms): `TIMESTAMP_TEXT` of text-forms.ts with a real calendar date (years
 * 0001–9999, proleptic Gregorian), hours ≤ 23, minutes and seconds ≤ 59, offset hours ≤ 23 and
 * minutes ≤ 59; the offset is applied (`10:00+02` is 08:00 UTC) and the instant must lie in the
 * catalog's timestamp range (0001-01-01T00:00:00.000Z … 9999-12-31T23:59:59.999Z). Otherwise
 * NULL.
 */
export function textToTimestamp(s: string): number | null {
  // The catalog's reader (util/timestamp.ts) reads the same grammar; CAST also allows the
  // surrounding whitespace of every text form.
  return parseTimestampMs(s.replace(SURROUNDING_WS, '')) ?? null;
}

/**
 * TIMESTAMP to text: ISO-8601 UTC with milliseconds, `2024-03-15T19:30:00.000Z`, the form result
 * rows use; NULL outside the catalog's timestamp range (no five-digit or negative years).
 */
export function timestampToText(ms: number): string | null {
  return ms >= MIN_TIMESTAMP_MS && ms <= MAX_TIMESTAMP_MS ? new Date(ms).toISOString() : null;
}

/**
 * DOUBLE to text, as DuckDB's `CAST(DOUBLE AS VARCHAR)` and Python's `repr`: the shortest
 * digits that read back as the same double; plain notation with at least one fraction digit
 * when the decimal exponent is in [−4, 16) (`1.0`, `0.0001`, `1000000000000000.0`), otherwise
 * `d.ddde±XX` with at least two exponent digits (`1e+16`, `1.5e-05`); `-0.0` keeps its sign.
 */
export function doubleToText(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without digits gives the shortest round-tripping digits (ECMA-262 Number::toString).
  const [mant = '', expText = '0'] = x.toExponential().split('e');
  const exp = Number(expText);
  const sign = x < 0 ? '-' : '';
  const digits = mant.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0] ?? ''}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${whole}.${frac === '' ? '0' : frac}`;
}

/**
 * Orders text by Unicode code point, which is DuckDB's order (UTF-8 bytes compare in code point
 * order). JavaScript's `<` compares UTF-16 code units, which differs when a surrogate pair
 * (U+10000 and above) meets a character in U+E000–U+FFFF: such units are remapped so that
 * surrogates sort last. Negative, zero or positive, as `a` sorts before, with or after `b`.
 */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x += x >= 0xe000 ? -0x800 : 0x2000;
      y += y >= 0xe000 ? -0x800 : 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}
