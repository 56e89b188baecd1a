/**
 * Time scalar functions (signatures; semantics in hot/eval/functions/time.ts). Timestamps are
 * UTC instants (epoch ms on the hot path, DuckDB TIMESTAMP in the cold path); units, results and
 * edge rules follow DuckDB's date_trunc / date_part / epoch_ms / make_timestamp / time_bucket,
 * and `timezone(zone, ts)` (also written `ts AT TIME ZONE zone`) PostgreSQL's timestamptz AT
 * TIME ZONE: the wall-clock time in that zone. Units and zones are constants, checked here.
 */
import { closest } from '../../util/did-you-mean.js';
import type { Expr, SqlType } from '../expr.js';
import type { ArgProblem, ScalarFunction } from './types.js';

/** date_trunc units, each with its plural. */
export const TRUNC_UNITS = ['millisecond', 'second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'] as const;
export type TruncUnit = (typeof TRUNC_UNITS)[number];

/** date_part / EXTRACT units (DuckDB's names); all give a bigint except epoch (seconds, double). */
export const PART_UNITS = ['year', 'quarter', 'month', 'day', 'hour', 'minute', 'second', 'millisecond', 'dow', 'isodow', 'doy', 'week', 'epoch'] as const;
export type PartUnit = (typeof PART_UNITS)[number];

/** DuckDB's default time_bucket origin for widths in days or less: Monday 2000-01-03 00:00 UTC. */
export const TIME_BUCKET_ORIGIN_MS = 946_857_600_000;

/** The string a constant argument holds, or undefined when it is not a string literal. */
export const constantText = (e: Expr | undefined): string | undefined => (e?.kind === 'LiteralExpr' && typeof e.value === 'string' ? e.value : undefined);

/** `text` as one of `units` (any case, plural allowed), or undefined. */
export function unitOf<U extends string>(text: string | undefined, units: readonly U[]): U | undefined {
  const t = text?.trim().toLowerCase();
  return units.find((u) => t === u || t === `${u}s`);
}

function unitCheck(units: readonly string[], fn: string) {
  return (args: readonly Expr[]): ArgProblem | undefined => {
    const u = args[0];
    if (u?.kind === 'LiteralExpr' && u.value === null) return undefined;
    const text = constantText(u);
    if (text === undefined) return { message: `the unit must be a constant string, e.g. ${fn}('hour', ts)`, arg: 0 };
    if (unitOf(text, units)) return undefined;
    const near = closest(text, units);
    return { message: `unknown unit '${text}'${near ? ` (did you mean '${near}'?)` : ''}; units: ${units.join(', ')}`, arg: 0 };
  };
}

/** The IANA name the hot path's Intl resolves `name` to (any case, aliases to their zone), or undefined. */
export function resolveTimeZone(name: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return undefined; // no bare offsets: the engines read them differently
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

function zoneCheck(args: readonly Expr[]): ArgProblem | undefined {
  const z = args[0];
  if (z?.kind === 'LiteralExpr' && z.value === null) return undefined;
  const text = constantText(z);
  if (text === undefined) return { message: "the time zone must be a constant string, e.g. 'America/New_York'", arg: 0 };
  if (resolveTimeZone(text)) return undefined;
  const near = closest(text, [...Intl.supportedValuesOf('timeZone'), 'UTC']);
  return { message: `unknown time zone '${text}'${near ? ` (did you mean '${near}'?)` : ''}; use an IANA name such as 'Europe/Paris' or 'UTC'`, arg: 0 };
}

function epochMsCheck(args: readonly Expr[]): ArgProblem | undefined {
  const t = args[0]?.type;
  return t === 'timestamp' || t === 'int' || t === 'null' ? undefined : { message: `takes a timestamp (→ bigint ms) or a bigint of ms (→ timestamp), got ${String(t)}`, arg: 0 };
}

const partResult = (args: readonly Expr[]): SqlType => (unitOf(constantText(args[0]), PART_UNITS) === 'epoch' ? 'double' : 'int');

const datePart = (name: string, signature: string, example: string): ScalarFunction => ({
  name, family: 'time', params: ['string', 'timestamp'], result: partResult, strict: true, check: unitCheck(PART_UNITS, name),
  doc: { signature, nulls: 'NULL → NULL', example },
});

export const TIME_FUNCTIONS: readonly ScalarFunction[] = [
  {
    name: 'date_trunc', family: 'time', params: ['string', 'timestamp'], result: 'timestamp', strict: true, check: unitCheck(TRUNC_UNITS, 'date_trunc'),
    doc: {
      signature: "date_trunc(unit constant, ts timestamp) → timestamp; unit: millisecond, second, minute, hour, day, week (ISO, from Monday), month, quarter, year",
      nulls: 'NULL → NULL',
      example: "date_trunc('week', TIMESTAMP '2024-01-07 10:00') = 2024-01-01 00:00",
    },
  },
  datePart('date_part', "date_part(unit constant, ts timestamp) → bigint (epoch: double); also EXTRACT(unit FROM ts); unit: year, quarter, month, day, hour, minute, second, millisecond (with the seconds: 0…59999), dow (Sunday 0), isodow (Monday 1), doy, week (ISO), epoch (seconds)",
    "date_part('isodow', TIMESTAMP '2024-01-07') = 7, EXTRACT(second FROM TIMESTAMP '2024-01-01 10:11:12.345') = 12"),
  {
    name: 'epoch_ms', family: 'time', params: ['any'], result: (args) => (args[0]?.type === 'int' ? 'timestamp' : 'int'), strict: true, check: epochMsCheck,
    doc: { signature: 'epoch_ms(ts timestamp) → bigint; epoch_ms(ms bigint) → timestamp', nulls: 'NULL → NULL; ms outside 0001-01-01 … 9999-12-31 → NULL', example: 'epoch_ms(TIMESTAMP \'1970-01-01 00:00:01\') = 1000' },
  },
  {
    name: 'make_timestamp', family: 'time', params: ['int', 'int', 'int', 'int', 'int', 'double'], result: 'timestamp', strict: true,
    doc: {
      signature: 'make_timestamp(year, month, day, hour, minute bigint, seconds double) → timestamp',
      nulls: 'NULL → NULL; no such date or time (month 13, 30 February, hour 24, seconds < 0 or > 60, year outside 1…9999) → NULL',
      example: 'make_timestamp(2024, 2, 29, 23, 59, 59.9999) = 2024-02-29 23:59:59.999 (truncated to ms; seconds 60 is the next minute)',
    },
  },
  {
    name: 'time_bucket', family: 'time', params: ['interval', 'timestamp', 'timestamp'], optional: 1, result: 'timestamp', strict: true,
    doc: {
      signature: "time_bucket(width INTERVAL constant, ts timestamp [, origin timestamp]) → timestamp",
      nulls: 'NULL → NULL; a bucket starting before 0001-01-01 → NULL',
      example: "time_bucket(INTERVAL '7 days', ts) starts weeks on Mondays (DuckDB's origin 2000-01-03)",
    },
  },
  {
    name: 'timezone', family: 'time', params: ['string', 'timestamp'], result: 'timestamp', strict: true, check: zoneCheck,
    doc: {
      signature: "timezone(zone constant, ts timestamp) → timestamp; also ts AT TIME ZONE zone (on a column)",
      nulls: 'NULL → NULL; a wall-clock time before 0001-01-01 or after 9999-12-31 → NULL',
      example: "timezone('America/New_York', TIMESTAMP '2024-07-01 12:00') = 2024-07-01 08:00",
    },
  },
];
