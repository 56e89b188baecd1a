/**
 * ln, log10 and exp in DuckDB SQL: the operations of hot/eval/functions/log-exp.ts, one SQL
 * operator each, parenthesized in the hot path's order, every value reused bound once (letIn).
 * Constants are read from their shortest round-trip text (exact); pow(2, k) is exact for every
 * integer k in −1074…1023 (checked by test/hot/eval/functions-log.test.ts); log2 only
 * estimates the binary exponent, which exact comparisons then settle.
 */
import {
  EXP_OVERFLOW, EXP_P, EXP_UNDERFLOW, INV_LN2, IVLN10_HI, IVLN10_LO, LG, LN2_HI, LN2_LO, LOG10_2_HI, LOG10_2_LO, SPLIT_21, SQRT2,
} from '../../plan/functions/log-exp.js';
import { finite, letIn, type Parameters } from '../compile-expr.js';

/** A double constant, exactly. */
const d = (c: number): string => `CAST('${String(c)}' AS DOUBLE)`;
const [LG1, LG2, LG3, LG4, LG5, LG6, LG7] = LG.map(d);
const [P1, P2, P3, P4, P5] = EXP_P.map(d);
const HALF = d(0.5);

/** The hot path's LogParts, as SQL over bound names. */
interface LogPartsSql { readonly k: string; readonly f: string; readonly hfsq: string; readonly s: string; readonly r: string }

/** `body` of ln x's parts, for a bound finite DOUBLE `v` > 0. */
function logParts(v: string, body: (p: LogPartsSql) => string, params: Parameters): string {
  return letIn(`floor(log2(${v}))`, (e) =>
    letIn(`${e} - CASE WHEN ${v} < pow(2, ${e}) THEN 1 WHEN ${v} >= pow(2, ${e} + 1) THEN -1 ELSE 0 END`, (k1) =>
      letIn(`${v} / pow(2, ${k1})`, (m) =>
        letIn(`CASE WHEN ${m} >= ${d(SQRT2)} THEN {'k': ${k1} + 1, 'f': (${m} * ${HALF}) - 1} ELSE {'k': ${k1}, 'f': ${m} - 1} END`, (p) =>
          letIn(`{'hfsq': (${HALF} * ${p}.f) * ${p}.f, 's': ${p}.f / (2 + ${p}.f)}`, (q) =>
            letIn(`${q}.s * ${q}.s`, (z) =>
              letIn(`${z} * ${z}`, (w) => body({
                k: `${p}.k`, f: `${p}.f`, hfsq: `${q}.hfsq`, s: `${q}.s`,
                r: `((${z} * (${LG1} + (${w} * (${LG3} + (${w} * (${LG5} + (${w} * ${LG7}))))))) + (${w} * (${LG2} + (${w} * (${LG4} + (${w} * ${LG6}))))))`,
              }), params), params), params), params), params), params), params);
}

/** `sql` (of any number type) as a DOUBLE, bound, and `body` of it when finite and > 0, else NULL. */
const positive = (sql: string, body: (v: string) => string, params: Parameters): string =>
  letIn(`CAST(${sql} AS DOUBLE)`, (v) => `CASE WHEN ${v} > 0 AND isfinite(${v}) THEN ${body(v)} END`, params);

/** ln x, as the hot path's ln. */
export function lnSql(x: string, params: Parameters): string {
  return positive(x, (v) => logParts(v, ({ k, f, hfsq, s, r }) =>
    `(((((${s} * (${hfsq} + ${r})) + (${k} * ${d(LN2_LO)})) - ${hfsq}) + ${f}) + (${k} * ${d(LN2_HI)}))`, params), params);
}

/** log10 x, as the hot path's log10. */
export function log10Sql(x: string, params: Parameters): string {
  return positive(x, (v) => logParts(v, ({ k, f, hfsq, s, r }) =>
    letIn(`${f} - ${hfsq}`, (h) =>
      letIn(`${h} * ${d(SPLIT_21)}`, (c) =>
        letIn(`${c} - (${c} - ${h})`, (hi) =>
          letIn(`{'lo': ((${f} - ${hi}) - ${hfsq}) + (${s} * (${hfsq} + ${r})), 'y': ${k} * ${d(LOG10_2_HI)}, 'vh': ${hi} * ${d(IVLN10_HI)}}`, (q) =>
            letIn(`${q}.y + ${q}.vh`, (w) =>
              `(((((${k} * ${d(LOG10_2_LO)}) + ((${q}.lo + ${hi}) * ${d(IVLN10_LO)})) + (${q}.lo * ${d(IVLN10_HI)})) + ((${q}.y - ${w}) + ${q}.vh)) + ${w})`,
            params), params), params), params), params), params), params);
}

/** e^x, as the hot path's exp: NULL past EXP_OVERFLOW, 0 below EXP_UNDERFLOW, e for 1. */
export function expSql(x: string, params: Parameters): string {
  return letIn(`CAST(${x} AS DOUBLE)`, (v) => {
    const value = letIn(`trunc((${v} * ${d(INV_LN2)}) + CASE WHEN ${v} < 0 THEN ${d(-0.5)} ELSE ${HALF} END)`, (k) =>
      letIn(`{'hi': ${v} - (${k} * ${d(LN2_HI)}), 'lo': ${k} * ${d(LN2_LO)}, 'k1': trunc(${k} * ${HALF})}`, (p) =>
        letIn(`${p}.hi - ${p}.lo`, (r) =>
          letIn(`${r} * ${r}`, (t) =>
            letIn(`${r} - (${t} * (${P1} + (${t} * (${P2} + (${t} * (${P3} + (${t} * (${P4} + (${t} * ${P5})))))))))`, (c) =>
              `((1 - ((${p}.lo - ((${r} * ${c}) / (2 - ${c}))) - ${p}.hi)) * pow(2, ${p}.k1)) * pow(2, ${k} - ${p}.k1)`,
            params), params), params), params), params);
    return `CASE WHEN ${v} > ${d(EXP_OVERFLOW)} THEN CAST(NULL AS DOUBLE) WHEN ${v} < ${d(EXP_UNDERFLOW)} THEN CAST(0 AS DOUBLE) WHEN ${v} = 1 THEN ${d(Math.E)} ELSE ${finite(value, params)} END`;
  }, params);
}
