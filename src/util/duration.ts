/**
 * All duration parsing lives here. Catalog durations are `<number><unit>` with units
 * ms, s, m, h, d (`500ms`, `5s`, `2h`); SQL intervals are `INTERVAL '5 minutes'` or
 * `INTERVAL '5' MINUTE`. Both return whole milliseconds.
 */

const CATALOG_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Allowed catalog duration forms, for error messages. */
export const CATALOG_DURATION_HELP = 'a number followed by ms, s, m, h or d (e.g. 500ms, 5s, 2h)';

/** Parses a catalog duration (`5s`); returns undefined when the text is not one. */
export function parseCatalogDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * (CATALOG_UNITS[m[2] as string] as number);
  return Number.isInteger(ms) ? ms : undefined;
}

const INTERVAL_UNITS: Record<string, number> = {
  millisecond: 1, milliseconds: 1, ms: 1,
  second: 1000, seconds: 1000, sec: 1000, secs: 1000, s: 1000,
  minute: 60_000, minutes: 60_000, min: 60_000, mins: 60_000, m: 60_000,
  hour: 3_600_000, hours: 3_600_000, h: 3_600_000,
  day: 86_400_000, days: 86_400_000, d: 86_400_000,
  week: 604_800_000, weeks: 604_800_000, w: 604_800_000,
};

/** Allowed SQL interval forms, for error messages. */
export const INTERVAL_HELP = "INTERVAL '<n> <unit>' (several parts add up: '1 hour 30 minutes') or INTERVAL '<n>' <UNIT>, with unit millisecond, second, minute, hour, day or week";

/**
 * Parses a SQL interval body (`'5 minutes'`, `'1 hour 30 minutes'`, `'1 week'`, or value `'5'`
 * with unit `MINUTE`) to milliseconds: the parts add up, each `<number> <unit>` with the units of
 * {@link INTERVAL_UNITS} (a week is 7 days, as in DuckDB and PostgreSQL). Returns undefined when
 * it is not a fixed-length interval (months and years are not: their length depends on the
 * calendar) or not a whole number of ms. Negative and zero values are returned as such; callers
 * decide whether they are allowed.
 */
export function parseIntervalMs(value: string, unit: string): number | undefined {
  const text = (unit ? `${value} ${unit}` : value).trim();
  if (!/^(-?\d+(?:\.\d+)?\s*[a-zA-Z]+\s*)+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(-?\d+(?:\.\d+)?)\s*([a-zA-Z]+)/g)) {
    const factor = INTERVAL_UNITS[(m[2] as string).toLowerCase()];
    if (factor === undefined) return undefined;
    ms += Number(m[1]) * factor;
  }
  return Number.isInteger(ms) ? ms : undefined;
}

/** Formats milliseconds as the shortest catalog duration (`300000` → `5m`). */
export function formatDuration(ms: number): string {
  for (const [unit, factor] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms !== 0 && ms % factor === 0) return `${ms / factor}${unit}`;
  }
  return ms === 0 ? '0s' : `${ms}ms`;
}
