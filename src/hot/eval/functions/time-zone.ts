/**
 * An instant's wall-clock time in an IANA time zone (PostgreSQL's timestamptz AT TIME ZONE), by
 * the ICU time zone data of Node's Intl, as DuckDB's ICU extension computes it.
 */
import { resolveTimeZone } from '../../../plan/functions/time.js';
import { InternalError } from '../../../errors.js';

/**
 * Intl formats dates before the Gregorian reform (1582-10-15) in the Julian calendar; DuckDB
 * is proleptic Gregorian. Zones keep their first offset (local mean time) until long after
 * 1600, so an earlier instant takes the offset at 1600-01-01.
 */
const EARLIEST_RULE_MS = Date.UTC(1600, 0, 1);

/** `ms ↦ ms + offset(ms)`: the zone's wall-clock time as epoch ms, for an instant `ms` (epoch ms). */
export function zonedWallClock(zone: string): (ms: number) => number {
  const timeZone = resolveTimeZone(zone);
  if (!timeZone) throw new InternalError(`time zone '${zone}' reached the hot path unchecked`);
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  });
  const field: Record<string, number> = {};
  /** Offset in ms at the start of the second holding `ms`. */
  const offsetAt = (ms: number): number => {
    const second = ms - (((ms % 1000) + 1000) % 1000);
    for (const p of format.formatToParts(second)) if (p.type !== 'literal') field[p.type] = Number(p.value);
    const d = new Date(0);
    d.setUTCFullYear(field.year ?? 1970, (field.month ?? 1) - 1, field.day ?? 1);
    d.setUTCHours(field.hour ?? 0, field.minute ?? 0, field.second ?? 0);
    return d.getTime() - second;
  };
  // Offsets are cached per minute when the minute's first and last second agree (a zone changes
  // its offset at most once in a minute), else found per second: transitions from local mean
  // time can fall on any second.
  let cachedMinute = NaN;
  let cachedOffset: number | undefined;
  return (ms) => {
    const at = Math.max(ms, EARLIEST_RULE_MS);
    const minute = Math.floor(at / 60_000);
    if (minute !== cachedMinute) {
      cachedMinute = minute;
      const first = offsetAt(minute * 60_000);
      cachedOffset = first === offsetAt(minute * 60_000 + 59_000) ? first : undefined;
    }
    return ms + (cachedOffset ?? offsetAt(at));
  };
}
