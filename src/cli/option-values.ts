/**
 * Readers for command-line option values, one per kind of value, shared by every command. Each
 * returns a commander argument parser: a value that cannot be read throws PW_BAD_OPTION naming
 * the option, the value and the form expected, at startup. Never a NaN or a negative number that
 * silently disables a cap (`groups >= NaN` is never true) or turns every event into overflow.
 *
 * Commander does not run parsers over defaults: give defaults already parsed, e.g.
 * `.option('--max-groups <n>', '…', positiveInt('--max-groups'), 1_000_000)`.
 */
import { ExecutionError } from '../errors.js';
import { CATALOG_DURATION_HELP, parseCatalogDuration } from '../util/duration.js';
import { parseTimestampMs } from '../util/timestamp.js';

/** Reads one option value; throws PW_BAD_OPTION when it cannot. */
export type OptionParser<T> = (value: string) => T;

/** The longest delay a Node.js timer keeps (2^31 − 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

const DECIMAL = /^[+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function bad(flag: string, value: string, expected: string): never {
  throw new ExecutionError('PW_BAD_OPTION', `${flag} '${value}' is not ${expected}; fix the value of ${flag}`);
}

/** A plain decimal number (no sign but +, no hex, no Infinity), or NaN. */
function decimal(value: string): number {
  const text = value.trim();
  return DECIMAL.test(text) ? Number(text) : Number.NaN;
}

function integerIn(flag: string, value: string, min: number, max: number, expected: string): number {
  const text = value.trim();
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) bad(flag, value, expected);
  return n;
}

/** A whole number ≥ 1 (caps, counts), at most `max`. */
export function positiveInt(flag: string, max = Number.MAX_SAFE_INTEGER): OptionParser<number> {
  return (value) => integerIn(flag, value, 1, max, max === Number.MAX_SAFE_INTEGER ? 'a whole number of at least 1' : `a whole number from 1 to ${max}`);
}

/** A whole number ≥ 0, at most `max` (e.g. a seed: 0 … 2^32 − 1). */
export function nonNegativeInt(flag: string, max = Number.MAX_SAFE_INTEGER): OptionParser<number> {
  return (value) => integerIn(flag, value, 0, max, max === Number.MAX_SAFE_INTEGER ? 'a whole number of at least 0' : `a whole number from 0 to ${max}`);
}

/** A TCP port, 0 … 65535 (0: none, or any free one, as the option says). */
export function portNumber(flag: string): OptionParser<number> {
  return (value) => integerIn(flag, value, 0, 65_535, 'a port number from 0 to 65535');
}

/** A finite decimal number > 0 (e.g. a rate). */
export function positiveNumber(flag: string): OptionParser<number> {
  return (value) => {
    const n = decimal(value);
    if (!Number.isFinite(n) || n <= 0) bad(flag, value, 'a number greater than 0');
    return n;
  };
}

/** A fraction from 0 to 1 inclusive (e.g. a share of generated events). */
export function fraction(flag: string): OptionParser<number> {
  return (value) => {
    const n = decimal(value);
    if (!(n >= 0 && n <= 1)) bad(flag, value, 'a fraction from 0 to 1 (e.g. 0.03)');
    return n;
  };
}

/** A duration (`500ms`, `5s`, `10m`, `2h`, `1d`) in milliseconds, > 0 and at most `maxMs` (default: what a timer can wait). */
export function durationMs(flag: string, maxMs = MAX_TIMER_MS): OptionParser<number> {
  return (value) => {
    const ms = parseCatalogDuration(value);
    const most = maxMs === MAX_TIMER_MS ? ' and at most 24.8 days' : maxMs < Number.MAX_SAFE_INTEGER ? ` and at most ${maxMs} ms` : '';
    if (ms === undefined || ms <= 0 || ms > maxMs) bad(flag, value, `a duration greater than 0${most}: ${CATALOG_DURATION_HELP}`);
    return ms;
  };
}

/** An instant as ISO-8601 (`2024-03-15T19:00:00Z`), in epoch milliseconds, read as event times are. */
export function timestampMs(flag: string): OptionParser<number> {
  return (value) => {
    const ms = parseTimestampMs(value.trim());
    if (ms === undefined) bad(flag, value, 'an ISO-8601 instant such as 2024-03-15T19:00:00Z');
    return ms;
  };
}
