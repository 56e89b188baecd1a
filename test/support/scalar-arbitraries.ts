/**
 * Value generators for the scalar parity properties: ordinary values mixed with the hard ones —
 * numbers past the int range, −0, subnormals, 1e308, halves; text that is almost a number,
 * boolean or timestamp, and arbitrary Unicode — and rows of SCALAR_FIELDS built from them.
 */
import fc from 'fast-check';
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from '../../src/util/timestamp.js';
import type { ScalarRow } from './scalar-parity.js';

const MAX = Number.MAX_SAFE_INTEGER;

export const ints = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.integer({ min: -(2 ** 27), max: 2 ** 27 }), // products land on both sides of 2^53
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.maxSafeInteger(),
  fc.constantFrom(0, 1, -1, MAX, -MAX, MAX - 1, -MAX + 1, 2 ** 52, -(2 ** 52), 94_906_265, 94_906_266, -94_906_266, 3, 7),
);

export const doubles = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.integer({ min: -2_000_000, max: 2_000_000 }).map((n) => n / 2), // halves: rounding ties
  fc.constantFrom(0, -0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.1, 0.49999999999999994, MAX, -MAX, 2 ** 53, -(2 ** 53), 1e15, 1e16, 1e21,
    1e-4, 1e-5, 5e-324, 1e-308, 1e308, 1.7976931348623157e308, -1.7976931348623157e308),
);

export const timestamps = fc.oneof(
  fc.integer({ min: MIN_TIMESTAMP_MS, max: MAX_TIMESTAMP_MS }),
  fc.integer({ min: Date.parse('2020-01-01'), max: Date.parse('2030-01-01') }),
  fc.constantFrom(MIN_TIMESTAMP_MS, MAX_TIMESTAMP_MS, 0, -1, Date.parse('2024-02-29T23:59:59.999Z')),
);

export const pick = <T>(...xs: T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);
export const join = (parts: fc.Arbitrary<string>[]): fc.Arbitrary<string> => fc.tuple(...parts).map((p) => p.join(''));
export const opt = (a: fc.Arbitrary<string>): fc.Arbitrary<string> => fc.oneof(fc.constant(''), a);

/** Whitespace: PostgreSQL's (accepted) and Unicode spaces (not accepted). */
const ws = fc.array(pick(' ', '\t', '\n', '\u000b', '\f', '\r', '\u00a0', '\u2003', '\ufeff', '\u3000', '\u2028', '\u0085'), { maxLength: 2 }).map((a) => a.join(''));
const asciiDigits = (min: number, max: number): fc.Arbitrary<string> => fc.string({ unit: pick(...'0123456789'), minLength: min, maxLength: max });
/** Digit runs: short, long (past every integer type), or with a non-ASCII digit inside. */
const digits = fc.oneof(
  { weight: 8, arbitrary: asciiDigits(1, 20) },
  { weight: 1, arbitrary: fc.tuple(asciiDigits(0, 3), fc.integer({ min: 20, max: 420 })).map(([d, n]) => `${d}${'0'.repeat(n)}${d}`) },
  { weight: 1, arbitrary: join([asciiDigits(0, 3), pick('\u0663', '\uff11', '\u06f5', '\u07c1', '\u{1d7d8}', '_', ',', "'"), asciiDigits(0, 3)]) },
);
const numberText = join([
  ws, pick('', '', '+', '-', '--', '\u2212'), opt(digits),
  opt(join([pick('.', '.', ','), opt(digits)])),
  opt(join([pick('e', 'E', 'e+', 'E-', 'e-', 'd'), opt(digits)])), ws,
]);
const specialText = pick('inf', 'Infinity', '-inf', '+infinity', 'nan', 'NaN', '-nan', '0x1F', '0X1f', '0b101', '0o17', '1_000', '1e', 'e5', '.', '+', '-',
  '', ' ', '12.5', '-0', '+.5', '5.', '.5e-3', '9007199254740991', '9007199254740992', '-9007199254740992', '1e400', '-1e-400', '4.9e-324',
  '2.4703282292062328e-324', '1.7976931348623158e308', '0.30000000000000004', '1e-99999999999999999999', '1e99999999999999999999', '0e99999999999',
  // Rounding ties and the edges of the double range, decided by the digits past the 17th.
  '9007199254740993', '9007199254740995', '1.7976931348623159e308', '1.79769313486231580793728971405302e308',
  '1.797693134862315807937289714053034150799341327710736641e308', `2.${'4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125'}e-324`);
/** A random ASCII case for each letter. */
const anyCase = (w: string): fc.Arbitrary<string> => fc.array(fc.boolean(), { minLength: w.length, maxLength: w.length })
  .map((up) => [...w].map((ch, i) => (up[i] ? ch.toUpperCase() : ch)).join(''));
const boolText = join([ws, fc.constantFrom('true', 't', 'tr', 'tru', 'yes', 'y', 'ye', 'on', '1', 'false', 'f', 'fa', 'fal', 'fals', 'no', 'n', 'of', 'off', '0',
  'o', 'truee', 'yess', 'onn', 'of f', '01', 'fal\u017fe', 'yes\u212a').chain(anyCase), ws]);
/** Two digits, mostly valid for the field, sometimes not. */
const two = (max: number): fc.Arbitrary<string> => fc.oneof(fc.integer({ min: 0, max }), fc.integer({ min: 0, max: 99 })).map((n) => String(n).padStart(2, '0'));
const timestampText = join([
  ws, fc.oneof(asciiDigits(4, 4), pick('0000', '0001', '9999', '2024', '2100', '1970', '202', '20245')), pick('-', '-', '/'), two(12), pick('-', '-', ''), two(31),
  opt(join([pick('T', ' ', 't', '  '), two(23), pick(':', ':', ''), two(59), opt(join([pick(':', ':', '.'), two(59), opt(join([pick('.', ','), opt(asciiDigits(1, 12))]))]))])),
  ws, opt(fc.oneof(pick('Z', 'z', 'UTC', '+', 'Z+01'), join([pick('+', '-', '\u2212'), two(23), opt(join([pick(':', '', '::'), two(59)]))]))), ws,
]);
/** Real instants in the forms producers send (with random offsets), then lightly damaged. */
const isoText = fc.tuple(timestamps, fc.integer({ min: -23 * 60, max: 23 * 60 }), pick('T', ' '), pick('Z', 'offset', 'none', 'hhmm'), fc.integer({ min: 0, max: 3 }))
  .map(([ms, off, sep, zone, frac]) => {
    const local = new Date(ms + off * 60_000).toISOString().replace('T', sep);
    const base = frac === 3 ? local.slice(0, -1) : frac === 2 ? local.slice(0, 19) : frac === 1 ? local.slice(0, 16) : `${local.slice(0, -1)}4567`;
    const hh = String(Math.floor(Math.abs(off) / 60)).padStart(2, '0');
    const mm = String(Math.abs(off) % 60).padStart(2, '0');
    const sign = off < 0 ? '-' : '+';
    return zone === 'Z' ? `${base}Z` : zone === 'offset' ? `${base}${sign}${hh}:${mm}` : zone === 'hhmm' ? `${base}${sign}${hh}${mm}` : base;
  });

/** Numbers as programs print them (JavaScript's forms), maybe padded: the forms that must convert. */
const printedNumber = join([opt(pick(' ', '\t', '\n')), fc.oneof(ints.map(String), doubles.map(String), doubles.map((d) => d.toExponential())), opt(pick(' ', '\r\n'))]);

export const texts = fc.oneof(
  { weight: 3, arbitrary: printedNumber },
  { weight: 4, arbitrary: numberText },
  { weight: 2, arbitrary: specialText },
  { weight: 2, arbitrary: boolText },
  { weight: 3, arbitrary: timestampText },
  { weight: 2, arbitrary: isoText },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  { weight: 1, arbitrary: pick('\uffff', '\u{1f600}', '\ue000', '\ud7ff', 'a', 'ab', 'B', '') },
);

export const orNull = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(a, { nil: null, freq: 12 });
export const rows: fc.Arbitrary<ScalarRow[]> = fc.array(fc.record({
  s: orNull(texts), s2: orNull(texts), i: orNull(ints), i2: orNull(ints), d: orNull(doubles), d2: orNull(doubles),
  b: orNull(fc.boolean()), b2: orNull(fc.boolean()), t: orNull(timestamps), t2: orNull(timestamps),
}), { minLength: 1, maxLength: 120 });
