import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, formatTimestamp, parseTimestampMs } from '../../src/util/timestamp.js';

/**
 * The implementation before the charCodeAt fast path, with the documented range applied: the
 * reference for every input. Years 1–99 are those years (setUTCFullYear, not Date.UTC's
 * 1900 + y), year 0 does not exist, and results outside 0001-01-01 … 9999-12-31T23:59:59.999Z
 * are refused.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?[ \t\n\v\f\r]*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
function referenceParse(value: unknown): number | undefined {
  const inRange = (t: number): number | undefined => (t >= MIN_TIMESTAMP_MS && t <= MAX_TIMESTAMP_MS ? t : undefined);
  if (typeof value === 'number') return Number.isSafeInteger(value) ? inRange(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const m = ISO.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const ms = frac ? Number(`${frac.slice(1, 4)}00`.slice(0, 3)) : 0; // digits past the third truncate away, never rounding up a second
  let offsetMin = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!z || Number(z[2]) > 23 || Number(z[3] ?? '0') > 59) return undefined;
    offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? '0'));
  }
  const month = Number(mo);
  const day = Number(d);
  if (Number(y) < 1) return undefined;
  const check = new Date(0);
  check.setUTCFullYear(Number(y), month - 1, day);
  check.setUTCHours(Number(h), Number(mi), Number(s), ms);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  return inRange(check.getTime() - offsetMin * 60_000);
}

/** Same result as the reference, -0 vs 0 and undefined vs NaN included (toBe is Object.is). */
function same(value: unknown): void {
  expect(parseTimestampMs(value), typeof value === 'string' ? JSON.stringify(value) : String(value)).toBe(referenceParse(value));
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
const isLeap = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const monthDays = (y: number, m: number): number => [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;

const digits = (min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((a) => a.join(''));

/** A valid calendar date 1970–2100 (every month length, Feb 29 only in leap years). */
const validDate = fc
  .record({ y: fc.integer({ min: 1970, max: 2100 }), m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 31 }) })
  .map(({ y, m, d }) => ({ y, m, d: Math.min(d, monthDays(y, m)) }));

const zone = fc.oneof(
  fc.constantFrom('', 'Z', 'z', 'Z', 'Z'),
  fc
    .record({
      sign: fc.constantFrom('+', '-'),
      h: fc.integer({ min: 0, max: 23 }),
      m: fc.constantFrom(0, 15, 30, 45, 59),
      form: fc.constantFrom('hh:mm', 'hhmm', 'hh'),
    })
    .map(({ sign, h, m, form }) => (form === 'hh' ? `${sign}${pad(h)}` : `${sign}${pad(h)}${form === 'hh:mm' ? ':' : ''}${pad(m)}`)),
);

/** Well-formed timestamps in every shape the grammar admits (mostly canonical ones). */
const validTimestamp = fc
  .record({
    date: validDate,
    sep: fc.constantFrom('T', 'T', 'T', ' '),
    h: fc.integer({ min: 0, max: 23 }),
    mi: fc.integer({ min: 0, max: 59 }),
    s: fc.integer({ min: 0, max: 59 }),
    time: fc.constantFrom('hh:mm:ss.sss', 'hh:mm:ss.sss', 'hh:mm:ss', 'hh:mm:ss.f', 'hh:mm', 'none'),
    frac: fc.oneof(digits(3, 3), digits(1, 9)),
    zone,
  })
  .map(({ date, sep, h, mi, s, time, frac, zone: z }) => {
    const day = `${pad(date.y, 4)}-${pad(date.m)}-${pad(date.d)}`;
    if (time === 'none') return `${day}${z}`;
    const hm = `${sep}${pad(h)}:${pad(mi)}`;
    if (time === 'hh:mm') return `${day}${hm}${z}`;
    const sec = `${hm}:${pad(s)}`;
    return `${day}${sec}${time === 'hh:mm:ss' ? '' : `.${time === 'hh:mm:ss.sss' ? frac.padEnd(3, '0').slice(0, 3) : frac}`}${z}`;
  });

/** Out-of-range fields in an otherwise canonical shape: 2023-02-29, 2024-04-31, hour 24, :61, month 13… */
const outOfRange = fc
  .record({
    y: fc.integer({ min: 0, max: 9999 }),
    m: fc.integer({ min: 0, max: 19 }),
    d: fc.integer({ min: 0, max: 39 }),
    h: fc.integer({ min: 0, max: 29 }),
    mi: fc.integer({ min: 0, max: 69 }),
    s: fc.integer({ min: 0, max: 69 }),
    ms: fc.integer({ min: 0, max: 999 }),
    z: zone,
    oh: fc.integer({ min: 0, max: 99 }),
  })
  .map(({ y, m, d, h, mi, s, ms, z, oh }) => `${pad(y, 4)}-${pad(m)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}.${pad(ms, 3)}${z === '+00:00' ? `+${pad(oh)}:00` : z}`);

/** Small corruptions of valid timestamps: truncated, extra characters, one character replaced. */
const noise = fc.constantFrom('', ' ', '\t', '\n', 'Z', 'z', 'T', 't', '+', '-', ':', '.', '0', '9', 'a', '/', 'é', '\u00a0', '٣', '\uFEFF');
const nearMiss = fc.oneof(
  fc.tuple(validTimestamp, fc.nat()).map(([s, k]) => s.slice(0, k % (s.length + 1))),
  fc.tuple(validTimestamp, fc.nat(), noise).map(([s, k, c]) => { const i = k % (s.length + 1); return s.slice(0, i) + c + s.slice(i); }),
  fc.tuple(validTimestamp, fc.nat(), noise).map(([s, k, c]) => { const i = k % s.length; return s.slice(0, i) + c + s.slice(i + 1); }),
  fc.tuple(validTimestamp, noise, noise).map(([s, a, b]) => a + s + b),
  fc.tuple(validTimestamp, fc.constantFrom(' ', '  ', '\t', '\n')).map(([s, w]) => s.replace(/(Z|z|[+-]\d\d(:?\d\d)?)$/, `${w}$1`)),
  fc.tuple(validTimestamp, fc.integer({ min: 0, max: 99 })).map(([s, y]) => pad(y, 4) + s.slice(4)),
  fc.string({ maxLength: 40 }),
);

describe('parseTimestampMs', () => {
  it('reads the canonical shapes', () => {
    expect(parseTimestampMs('2024-03-15T19:30:00.123Z')).toBe(Date.UTC(2024, 2, 15, 19, 30, 0, 123));
    expect(parseTimestampMs('2024-03-15T19:30:00Z')).toBe(Date.UTC(2024, 2, 15, 19, 30, 0));
    expect(parseTimestampMs('2024-03-15T19:30:00.123+02:00')).toBe(Date.UTC(2024, 2, 15, 17, 30, 0, 123));
    expect(parseTimestampMs('2024-03-15T19:30:00-05:30')).toBe(Date.UTC(2024, 2, 16, 1, 0, 0));
    expect(parseTimestampMs('2024-03-15 19:30:00')).toBe(Date.UTC(2024, 2, 15, 19, 30, 0));
    expect(parseTimestampMs('2024-03-15')).toBe(Date.UTC(2024, 2, 15));
    expect(parseTimestampMs('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(parseTimestampMs('2023-02-29T00:00:00Z')).toBeUndefined();
    expect(parseTimestampMs('2024-03-15T24:00:00Z')).toBeUndefined();
    expect(parseTimestampMs('2024-03-15T19:30:61Z')).toBeUndefined();
    expect(parseTimestampMs(1_710_531_000_123)).toBe(1_710_531_000_123);
    expect(parseTimestampMs(1.5)).toBeUndefined();
    expect(parseTimestampMs(2 ** 53)).toBeUndefined();
    expect(formatTimestamp(parseTimestampMs('2024-03-15T19:30:00.123Z')!)).toBe('2024-03-15T19:30:00.123Z');
  });

  it('matches the reference on random valid timestamps', () => {
    fc.assert(fc.property(validTimestamp, (s) => { same(s); expect(parseTimestampMs(s)).toBeTypeOf('number'); }), { numRuns: 50_000 });
  });

  it('matches the reference on out-of-range fields', () => {
    fc.assert(fc.property(outOfRange, (s) => same(s)), { numRuns: 50_000 });
  });

  it('matches the reference on near-miss strings', () => {
    fc.assert(fc.property(nearMiss, (s) => same(s)), { numRuns: 50_000 });
  });

  it('matches the reference on numbers and other values', () => {
    fc.assert(fc.property(fc.oneof(fc.double(), fc.integer(), fc.maxSafeInteger(), fc.float()), (n) => same(n)), { numRuns: 20_000 });
    for (const v of [0, -0, NaN, Infinity, -Infinity, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 0.1, null, undefined, true, {}, [], 10n, new Date(0), ['2024-03-15']]) same(v);
  });

  it('matches the reference on every day 1900–2100, every millisecond fraction and the edge years', () => {
    for (let t = Date.UTC(1900, 0, 1); t < Date.UTC(2101, 0, 1); t += 86_400_000 + 1_234) {
      const iso = new Date(t).toISOString();
      same(iso);
      same(`${iso.slice(0, 19)}Z`);
      same(`${iso.slice(0, 10)}`);
    }
    for (let ms = 0; ms < 1000; ms++) {
      const f = pad(ms, 3);
      for (const frac of [f, f.slice(0, 1), f.slice(0, 2), `${f}999`, `${f}9999999`, `${f}0`]) same(`2024-12-31T23:59:59.${frac}Z`);
    }
    for (const y of [0, 1, 4, 99, 100, 101, 399, 400, 1000, 1899, 1900, 1969, 2000, 2100, 2400, 9999]) {
      for (const md of ['01-01', '02-28', '02-29', '12-31', '00-10', '13-01', '01-00']) {
        for (const time of ['', 'T00:00:00Z', 'T23:59:59.999Z', 'T12:00:00.5-14:00', ' 01:02+0530', 'T01:02:03+99:99']) same(`${pad(y, 4)}-${md}${time}`);
      }
    }
    for (const s of ['2024-03-15Z', '2024-03-15 Z', '2024-03-15T19:30Z', '2024-03-15T19:30:00 Z', '2024-03-15T19:30:00\n', '2024-03-15T19:30:00.Z',
      '2024-03-15T19:30:00+01:', '2024-03-15T19:30:00+1', '2024-03-15T19:30:00+010', '2024-03-15t19:30:00Z', '2024-03-15T19:30:00.9999999999999999999Z',
      '2024-12-31T23:59:59.99999999999999999Z', '2024-03-15T19:30:00.1234567Z', '-2024-03-15', '+002024-03-15T00:00:00Z', '２０２４-03-15', '']) same(s);
  });
});

describe('the catalog reader and CAST(text AS TIMESTAMP) read one grammar', () => {
  it('give the same instant, or both refuse, for any text without surrounding whitespace', async () => {
    const { textToTimestamp } = await import('../../src/hot/eval/value-text.js');
    const part = fc.constantFrom('0001', '0099', '1970', '2024', '9999', '0000', '10000', '-', '01', '02', '12', '13', '29', '30', '31', '00', '23', '24', '59', '60', 'T', ' ', ':', '.', '5', '123', '999999999', 'Z', 'z', '+', '+02', '+0230', '+02:30', '+24', '-01:60', '\u00a0', '\t');
    fc.assert(fc.property(fc.array(part, { minLength: 1, maxLength: 14 }), (parts) => {
      const s = parts.join('');
      if (s.trim() !== s) return; // CAST trims surrounding ASCII whitespace; a payload value is read as it is
      expect(parseTimestampMs(s) ?? null, JSON.stringify(s)).toBe(textToTimestamp(s));
    }), { numRuns: 20_000 });
    for (const s of ['2024-03-15T19:00:00+02', '2024-03-15 19:00:00.123456789-0130', '0050-06-01', '2024-03-15T19:00:00+24', '2024-03-15T19:00\u00a0Z']) {
      expect(parseTimestampMs(s) ?? null, s).toBe(textToTimestamp(s));
    }
  });
});
