/** Time functions in DuckDB SQL, value for value as hot/eval/functions/time.ts. */
import { InternalError } from '../../errors.js';
import { constantNumber } from '../../plan/functions/numeric.js';
import { PART_UNITS, TIME_BUCKET_ORIGIN_MS, TRUNC_UNITS, constantText, resolveTimeZone, unitOf } from '../../plan/functions/time.js';
import type { Expr } from '../../plan/expr.js';
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from '../../util/timestamp.js';
import { daysInMonthSql, epochDaysSql, keepIf, letIn, type Parameters } from '../compile-expr.js';
import type { ColdFunction } from './types.js';

/** A TIMESTAMP `sql` when inside 0001-01-01 … 9999-12-31T23:59:59.999, else NULL. */
const inRange = (sql: string, params: Parameters): string => keepIf(sql, (v) => `epoch_ms(${v}) BETWEEN ${MIN_TIMESTAMP_MS} AND ${MAX_TIMESTAMP_MS}`, params);

function unit<U extends string>(arg: Expr | undefined, units: readonly U[]): U {
  const u = unitOf(constantText(arg), units);
  if (!u) throw new InternalError('a time unit the binder did not check reached the DuckDB compiler');
  return u;
}

/** make_timestamp's parts checked as the hot path checks them, then counted with days_from_civil. */
function makeTimestampSql(args: readonly string[], params: Parameters): string {
  const [y, mo, d, h, mi, s] = args;
  const parts = `{'y': ${y ?? 'NULL'}, 'mo': ${mo ?? 'NULL'}, 'd': ${d ?? 'NULL'}, 'h': ${h ?? 'NULL'}, 'mi': ${mi ?? 'NULL'}, 's': CAST(${s ?? 'NULL'} AS DOUBLE)}`;
  const ms = letIn(parts, (p) => {
    const valid = `${p}.y BETWEEN 1 AND 9999 AND ${p}.mo BETWEEN 1 AND 12 AND ${p}.d BETWEEN 1 AND ${daysInMonthSql(`${p}.y`, `${p}.mo`)} `
      + `AND ${p}.h BETWEEN 0 AND 23 AND ${p}.mi BETWEEN 0 AND 59 AND ${p}.s BETWEEN 0 AND 60`;
    return `CASE WHEN ${valid} THEN ${epochDaysSql(`${p}.y`, `${p}.mo`, `${p}.d`)} * 86400000 + ${p}.h * 3600000 + ${p}.mi * 60000 + CAST(floor(${p}.s * 1000) AS BIGINT) END`;
  }, params);
  return `epoch_ms(${keepIf(ms, (v) => `${v} BETWEEN ${MIN_TIMESTAMP_MS} AND ${MAX_TIMESTAMP_MS}`, params)})`;
}

/**
 * `body` for a call whose constant text argument (`constant`, its SQL: a bound parameter) the
 * compiler inlines as checked: the parameter stays in the statement, and a NULL one gives NULL.
 */
const given = (constant: string | undefined, body: string): string => `CASE WHEN ${constant ?? 'NULL'} IS NOT NULL THEN ${body} END`;

const nullOf = (call: Expr): string => `CAST(NULL AS ${call.type === 'int' ? 'BIGINT' : call.type === 'double' ? 'DOUBLE' : 'TIMESTAMP'})`;
const isNull = (e: Expr | undefined): boolean => e?.kind === 'LiteralExpr' && e.value === null;

export const COLD_TIME: Readonly<Record<string, ColdFunction>> = {
  date_trunc: (call, [u, ts]) => (isNull(call.args[0]) ? nullOf(call) : given(u, `date_trunc('${unit(call.args[0], TRUNC_UNITS)}', ${ts ?? 'NULL'})`)),
  date_part: (call, [u, ts]) => {
    if (isNull(call.args[0])) return nullOf(call);
    const name = unit(call.args[0], PART_UNITS);
    return given(u, name === 'epoch' ? `(CAST(epoch_ms(${ts ?? 'NULL'}) AS DOUBLE) / 1000)` : `CAST(date_part('${name}', ${ts ?? 'NULL'}) AS BIGINT)`);
  },
  epoch_ms: (call, [x], params) => {
    if (call.args[0]?.type === 'null') return `CAST(NULL AS ${call.type === 'int' ? 'BIGINT' : 'TIMESTAMP'})`;
    return call.type === 'int' ? `epoch_ms(${x ?? 'NULL'})` : `epoch_ms(${keepIf(x ?? 'NULL', (v) => `${v} BETWEEN ${MIN_TIMESTAMP_MS} AND ${MAX_TIMESTAMP_MS}`, params)})`;
  },
  make_timestamp: (_call, args, params) => makeTimestampSql(args, params),
  time_bucket: (call, [, ts, origin], params) => {
    const width = constantNumber(call.args[0]);
    if (typeof width !== 'number') throw new InternalError('time_bucket without a constant width reached the DuckDB compiler');
    return inRange(`time_bucket(to_milliseconds(CAST(${width} AS BIGINT)), ${ts ?? 'NULL'}, ${origin ?? `epoch_ms(CAST(${TIME_BUCKET_ORIGIN_MS} AS BIGINT))`})`, params);
  },
  // TIMESTAMP → TIMESTAMPTZ read as UTC, then its wall clock in the zone (DuckDB's ICU): the
  // connection's TimeZone setting plays no part.
  timezone: (call, [z, ts], params) => {
    if (isNull(call.args[0])) return nullOf(call);
    const zone = resolveTimeZone(constantText(call.args[0]) ?? '');
    if (!zone) throw new InternalError('a time zone the binder did not check reached the DuckDB compiler');
    return given(z, inRange(`timezone(${params.add(zone)}, timezone('UTC', ${ts ?? 'NULL'}))`, params));
  },
};
