/**
 * String functions on the hot path, value for value as cold/functions/string.ts (DuckDB's own
 * functions, whose results are the reference). Text is well-formed Unicode (the value domain has
 * no unpaired surrogates); positions and lengths count code points, as DuckDB does, not the
 * UTF-16 units JavaScript counts.
 */
import type { Val } from '../cast.js';
import { textOf } from '../compile-expr.js';
import { lowerText, upperText } from './case-map.js';
import type { HotFunction } from './types.js';

const SURROGATE = /[\ud800-\udfff]/;

/** The code points of `s` (one string each), or `s` itself when every code point is one unit. */
function units(s: string): string | string[] {
  return SURROGATE.test(s) ? Array.from(s) : s;
}

/** Unicode code points in `s` (a JavaScript string counts UTF-16 units; DuckDB counts code points). */
function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * DuckDB's substring range over `n` code points, as [from, to) clamped to [0, n]: `start` ≥ 1
 * counts from the first code point, < 0 from the end, 0 is one place before the first; `len` < 0
 * takes the |len| places before the start. Offsets past the string are virtual places, so
 * substring('hello', -6, 2) = 'h'. Exact for |start|, |len| ≤ 2^53 − 1 (a sum past 2^53 lies far
 * outside [0, n] whatever its rounding).
 */
export function substringRange(n: number, start: number, len: number | undefined): readonly [number, number] {
  const at = start > 0 ? start - 1 : start < 0 ? n + start : -1;
  const [lo, hi] = len === undefined ? [at, n] : len >= 0 ? [at, at + len] : [at + len, at];
  return [Math.max(lo, 0), Math.min(hi, n)];
}

function substring(s: string, start: number, len: number | undefined): string {
  const u = units(s);
  const [from, to] = substringRange(u.length, start, len);
  if (to <= from) return '';
  return typeof u === 'string' ? u.slice(from, to) : u.slice(from, to).join('');
}

/** Unicode space separators (category Zs), which DuckDB's one-argument trim removes; not tabs or newlines. */
const ZS = '[ \\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000]+';
const TRIM_RE = { both: new RegExp(`^${ZS}|${ZS}$`, 'g'), left: new RegExp(`^${ZS}`), right: new RegExp(`${ZS}$`) } as const;

type Side = keyof typeof TRIM_RE;

/** `s` without the code points of `chars` at the start and/or end. */
function trimChars(s: string, chars: string, side: Side): string {
  if (chars === '' || s === '') return s;
  const set = new Set(Array.from(chars));
  const u = Array.from(s);
  let from = 0;
  let to = u.length;
  if (side !== 'right') while (from < to && set.has(u[from] as string)) from++;
  if (side !== 'left') while (to > from && set.has(u[to - 1] as string)) to--;
  return from === 0 && to === u.length ? s : u.slice(from, to).join('');
}

const trim = (side: Side): HotFunction => (call) => (call.args.length === 1
  ? (a) => (a[0] as string).replace(TRIM_RE[side], '')
  : (a) => trimChars(a[0] as string, a[1] as string, side));

/** DuckDB's split_part: n ≥ 1 from the start, n ≤ −1 from the end, else ''; sep '' splits into code points. */
function splitPart(s: string, sep: string, n: number): string {
  const parts = sep === '' ? Array.from(s) : s.split(sep);
  const i = n > 0 ? n - 1 : n < 0 ? parts.length + n : -1;
  return i >= 0 && i < parts.length ? parts[i] as string : '';
}

export const HOT_STRING: Readonly<Record<string, HotFunction>> = {
  length: () => (a) => codePoints(a[0] as string),
  lower: () => (a) => lowerText(a[0] as string),
  upper: () => (a) => upperText(a[0] as string),
  substring: (call) => (call.args.length === 2
    ? (a) => substring(a[0] as string, a[1] as number, undefined)
    : (a) => substring(a[0] as string, a[1] as number, a[2] as number)),
  trim: trim('both'),
  ltrim: trim('left'),
  rtrim: trim('right'),
  replace: () => (a) => {
    const from = a[1] as string;
    return from === '' ? a[0] as string : (a[0] as string).split(from).join(a[2] as string);
  },
  concat: (call) => {
    const texts = call.args.map((e) => textOf(e.type));
    return (a) => {
      let out = '';
      a.forEach((v: Val, i) => {
        if (v === null) return;
        const t = (texts[i] as (v: Val) => Val)(v);
        if (t !== null) out += t as string;
      });
      return out;
    };
  },
  starts_with: () => (a) => (a[0] as string).startsWith(a[1] as string),
  contains: () => (a) => (a[0] as string).includes(a[1] as string),
  split_part: () => (a) => splitPart(a[0] as string, a[1] as string, a[2] as number),
};
