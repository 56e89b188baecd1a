/**
 * Time functions on the hot path, value for value as cold/functions/time.ts. Timestamps are
 * epoch ms (UTC); calendar fields come from JavaScript's proleptic Gregorian UTC Date, as
 * DuckDB's TIMESTAMP counts them. A result outside 0001-01-01 … 9999-12-31T23:59:59.999Z is NULL.
 */
import { PART_UNITS, TIME_BUCKET_ORIGIN_MS, TRUNC_UNITS, constantText, unitOf, type PartUnit, type TruncUnit } from '../../../plan/functions/time.js';
import { InternalError } from '../../../errors.js';
import { constantNumber } from '../../../plan/functions/numeric.js';
import { daysInMonth, epochDays, MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from '../../../util/timestamp.js';
import type { Val } from '../cast.js';
import { zonedWallClock } from './time-zone.js';
import type { HotFunction } from './types.js';

const DAY_MS = 86_400_000;
/** Fixed-length units: epoch ms truncate to a multiple of them (floor, also before 1970). */
const FIXED_MS: Partial<Record<TruncUnit, number>> = { millisecond: 1, second: 1000, minute: 60_000, hour: 3_600_000, day: DAY_MS };
/** 1969-12-29, a Monday: ISO weeks start 4 days before the epoch's Thursday… minus 7 + 4. */
const MONDAY_MS = -3 * DAY_MS;

const floorMod = (a: number, m: number): number => ((a % m) + m) % m;
export const inRange = (ms: number): number | null => (ms >= MIN_TIMESTAMP_MS && ms <= MAX_TIMESTAMP_MS ? ms : null);

function truncate(unit: TruncUnit): (ms: number) => number {
  const fixed = FIXED_MS[unit];
  if (fixed !== undefined) return (ms) => ms - floorMod(ms, fixed);
  if (unit === 'week') return (ms) => ms - floorMod(ms - MONDAY_MS, 7 * DAY_MS);
  return (ms) => {
    const t = new Date(ms);
    const y = t.getUTCFullYear();
    const mo = unit === 'year' ? 1 : unit === 'quarter' ? t.getUTCMonth() - (t.getUTCMonth() % 3) + 1 : t.getUTCMonth() + 1;
    return epochDays(y, mo, 1) * DAY_MS;
  };
}

/** ISO-8601 week number (weeks from Monday; week 1 holds the year's first Thursday). */
function isoWeek(t: Date): number {
  const isoDow = t.getUTCDay() || 7;
  const thursday = new Date(t.getTime() + (4 - isoDow) * DAY_MS);
  const jan1 = epochDays(thursday.getUTCFullYear(), 1, 1) * DAY_MS;
  return Math.floor((thursday.getTime() - jan1) / (7 * DAY_MS)) + 1;
}

function part(unit: PartUnit): (ms: number) => number {
  switch (unit) {
    case 'year': return (ms) => new Date(ms).getUTCFullYear();
    case 'quarter': return (ms) => Math.floor(new Date(ms).getUTCMonth() / 3) + 1;
    case 'month': return (ms) => new Date(ms).getUTCMonth() + 1;
    case 'day': return (ms) => new Date(ms).getUTCDate();
    case 'hour': return (ms) => new Date(ms).getUTCHours();
    case 'minute': return (ms) => new Date(ms).getUTCMinutes();
    case 'second': return (ms) => new Date(ms).getUTCSeconds();
    case 'millisecond': return (ms) => floorMod(ms, 60_000);
    case 'dow': return (ms) => new Date(ms).getUTCDay();
    case 'isodow': return (ms) => new Date(ms).getUTCDay() || 7;
    case 'doy': return (ms) => { const t = new Date(ms); return Math.floor((ms - epochDays(t.getUTCFullYear(), 1, 1) * DAY_MS) / DAY_MS) + 1; };
    case 'week': return (ms) => isoWeek(new Date(ms));
    // Seconds as a double: the exact ms divided by 1000 once, correctly rounded.
    case 'epoch': return (ms) => ms / 1000;
  }
}

function unitArg<U extends string>(arg: Parameters<typeof constantText>[0], units: readonly U[]): U {
  const u = unitOf(constantText(arg), units);
  if (!u) throw new InternalError('a time unit the binder did not check reached the hot path');
  return u;
}

/** make_timestamp's parts as epoch ms, or NULL when they name no instant in range. */
function makeTimestamp(a: readonly Val[]): Val {
  const [y, mo, d, h, mi, s] = a as readonly number[] as [number, number, number, number, number, number];
  if (!(y >= 1 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo) && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && s >= 0 && s <= 60)) return null;
  return inRange(epochDays(y, mo, d) * DAY_MS + h * 3_600_000 + mi * 60_000 + Math.floor(s * 1000));
}

/** A function of a constant first argument (unit, zone): NULL throughout when it is NULL. */
const byConstant = (make: HotFunction): HotFunction => (call) => {
  const c = call.args[0];
  return c?.kind === 'LiteralExpr' && c.value === null ? () => null : make(call);
};

export const HOT_TIME: Readonly<Record<string, HotFunction>> = {
  date_trunc: byConstant((call) => { const f = truncate(unitArg(call.args[0], TRUNC_UNITS)); return (a) => f(a[1] as number); }),
  date_part: byConstant((call) => { const f = part(unitArg(call.args[0], PART_UNITS)); return (a) => f(a[1] as number); }),
  epoch_ms: (call) => (call.type === 'timestamp' ? (a) => inRange(a[0] as number) : (a) => a[0] as number),
  make_timestamp: () => makeTimestamp,
  // Buckets start at origin + k · width (DuckDB's time_bucket; default origin Monday 2000-01-03).
  time_bucket: (call) => {
    const width = constantNumber(call.args[0]);
    if (typeof width !== 'number') throw new InternalError('time_bucket without a constant width reached the hot path');
    return (a) => {
      const ms = a[1] as number;
      const origin = a.length > 2 ? (a[2] as number) : TIME_BUCKET_ORIGIN_MS;
      return inRange(ms - floorMod(ms - origin, width));
    };
  },
  timezone: byConstant((call) => {
    const wall = zonedWallClock(constantText(call.args[0]) ?? 'UTC');
    return (a) => inRange(wall(a[1] as number));
  }),
};
