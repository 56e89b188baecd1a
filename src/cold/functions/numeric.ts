/** Numeric functions in DuckDB SQL, value for value as hot/eval/functions/numeric.ts (ln, log10, exp: log-exp.ts). */
import { constantNumber, powerSteps } from '../../plan/functions/numeric.js';
import { arithmeticSql, finite, intInRange, letIn, type Parameters } from '../compile-expr.js';
import type { CallExpr } from '../../plan/expr.js';
import { expSql, lnSql, log10Sql } from './log-exp.js';
import type { ColdFunction } from './types.js';

/** 10^k as a DOUBLE, read from text (the double nearest 10^k, as the hot path's powerOfTen). */
const powerOfTen = (k: number): string => `CAST('1e${k}' AS DOUBLE)`;

/** DuckDB's round(DOUBLE) is C's round (halves away from zero), the hot path's roundHalfAway. */
function roundDoubleSql(x: string, d: number, params: Parameters): string {
  const m = powerOfTen(Math.abs(d));
  if (d >= 0) return letIn(`CAST(${x} AS DOUBLE)`, (v) => `CASE WHEN isfinite(${v} * ${m}) THEN round(${v} * ${m}) / ${m} ELSE ${v} END`, params);
  return finite(`(round(CAST(${x} AS DOUBLE) / ${m}) * ${m})`, params);
}

/** The nearest multiple of 10^−d in HUGEINT, halves away from zero (d < 0), as the hot path's roundInt. */
function roundIntSql(x: string, d: number, params: Parameters): string {
  if (d >= 0) return x;
  const m = `CAST('1${'0'.repeat(-d)}' AS HUGEINT)`;
  return intInRange(letIn(`CAST(${x} AS HUGEINT)`, (v) => letIn(`${v} % ${m}`, (r) => `${v} - ${r} + CASE WHEN 2 * abs(${r}) >= ${m} THEN sign(${v}) * ${m} ELSE 0 END`, params), params), params);
}

/** x^n in the hot path's steps: each square bound once (letIn), then the factors multiplied in order. */
function powerSql(x: string, n: number, params: Parameters): string {
  if (n === 0) return `CASE WHEN ${x} IS NOT NULL THEN CAST(1.0 AS DOUBLE) END`;
  const { squarings, factors } = powerSteps(n);
  const names: string[] = [];
  const build = (k: number, base: string): string => letIn(base, (b) => {
    names[k] = b;
    if (k < squarings) return build(k + 1, `(${b} * ${b})`);
    const product = factors.map((f) => names[f] as string).reduce((acc, b2) => `(${acc} * ${b2})`);
    return n < 0 ? `(1.0 / ${product})` : product;
  }, params);
  return finite(build(0, `CAST(${x} AS DOUBLE)`), params);
}

const powerCall = (call: CallExpr, x: string | undefined, params: Parameters): string => {
  const n = constantNumber(call.args[1]);
  return typeof n === 'number' ? powerSql(x ?? 'NULL', n, params) : 'CAST(NULL AS DOUBLE)';
};

const asDouble = (x: string | undefined): string => `CAST(${x ?? 'NULL'} AS DOUBLE)`;

export const COLD_NUMERIC: Readonly<Record<string, ColdFunction>> = {
  abs: (_call, [x]) => `abs(${x ?? 'NULL'})`,
  round: (call, [x], params) => {
    const d = constantNumber(call.args[1]) ?? 0;
    if (call.args[1] && constantNumber(call.args[1]) === null) return `CAST(NULL AS ${call.type === 'int' ? 'BIGINT' : 'DOUBLE'})`;
    return call.type === 'int' ? roundIntSql(x ?? 'NULL', d, params) : roundDoubleSql(x ?? 'NULL', d, params);
  },
  floor: (_call, [x]) => `floor(${asDouble(x)})`,
  ceil: (_call, [x]) => `ceil(${asDouble(x)})`,
  ceiling: (_call, [x]) => `ceil(${asDouble(x)})`,
  sign: (_call, [x]) => `CAST(sign(${x ?? 'NULL'}) AS BIGINT)`,
  sqrt: (_call, [x], params) => letIn(asDouble(x), (v) => `CASE WHEN ${v} >= 0 THEN sqrt(${v}) END`, params),
  power: (call, [x], params) => powerCall(call, x, params),
  pow: (call, [x], params) => powerCall(call, x, params),
  ln: (_call, [x], params) => lnSql(x ?? 'NULL', params),
  log10: (_call, [x], params) => log10Sql(x ?? 'NULL', params),
  exp: (_call, [x], params) => expSql(x ?? 'NULL', params),
  mod: (call, [a, b], params) => arithmeticSql('%', call.type, a ?? 'NULL', b ?? 'NULL', params),
};
