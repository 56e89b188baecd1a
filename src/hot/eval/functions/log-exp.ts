/**
 * ln, log10 and exp on the hot path: fdlibm's algorithms with the constants of
 * plan/functions/log-exp.ts, each IEEE operation in the order cold/functions/log-exp.ts writes
 * it in SQL, so both paths round alike (JavaScript has no fused multiply-add, and DuckDB
 * evaluates each SQL operator on its own). Math.log2 only estimates the binary exponent, which
 * exact comparisons then settle; the results never come from Math.log or Math.exp.
 */
import {
  EXP_OVERFLOW, EXP_P, EXP_UNDERFLOW, INV_LN2, IVLN10_HI, IVLN10_LO, LG, LN2_HI, LN2_LO, LOG10_2_HI, LOG10_2_LO, SPLIT_21, SQRT2,
} from '../../../plan/functions/log-exp.js';
import { finiteOrNull } from '../arithmetic.js';

const [LG1, LG2, LG3, LG4, LG5, LG6, LG7] = LG;
const [P1, P2, P3, P4, P5] = EXP_P;

/** Least binary exponent: 2^−1074, the smallest subnormal. */
const MIN_EXP = -1074;

/** 2^k for k in −1074…1024 at `k + 1074` (2^1024 as Infinity), each exact: built by doubling. */
const POW2 = new Float64Array(1024 - MIN_EXP + 1);
POW2[0] = 2 ** MIN_EXP;
for (let i = 1; i < POW2.length; i++) POW2[i] = (POW2[i - 1] as number) * 2;

/** 2^k, exactly, for an integer k in −1074…1024. */
export const pow2 = (k: number): number => POW2[k - MIN_EXP] as number;

/** The pieces of ln x for finite x > 0: x = 2^k · (1 + f), f in [√½ − 1, √2 − 1). */
interface LogParts { readonly k: number; readonly f: number; readonly hfsq: number; readonly s: number; readonly r: number }

function logParts(x: number): LogParts {
  let k = Math.floor(Math.log2(x)); // within one of the exponent; the comparisons make it exact
  if (x < pow2(k)) k--;
  else if (x >= pow2(k + 1)) k++;
  let m = x / pow2(k); // exact: [1, 2)
  if (m >= SQRT2) { m = m * 0.5; k++; }
  const f = m - 1;
  const hfsq = 0.5 * f * f;
  const s = f / (2 + f);
  const z = s * s;
  const w = z * z;
  const r = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7))) + w * (LG2 + w * (LG4 + w * LG6));
  return { k, f, hfsq, s, r };
}

/** ln x; NULL for x ≤ 0 (and ±∞, NaN). Within 1 ulp of the true value. */
export function ln(x: number): number | null {
  if (!(x > 0 && x < Infinity)) return null;
  const { k, f, hfsq, s, r } = logParts(x);
  return s * (hfsq + r) + k * LN2_LO - hfsq + f + k * LN2_HI;
}

/** log10 x; NULL for x ≤ 0. fdlibm's e_log10.c: log10(1 + f) in two parts, plus k · log10 2. */
export function log10(x: number): number | null {
  if (!(x > 0 && x < Infinity)) return null;
  const { k, f, hfsq, s, r } = logParts(x);
  const h = f - hfsq;
  const c = h * SPLIT_21;
  const hi = c - (c - h);
  const lo = f - hi - hfsq + s * (hfsq + r);
  const y = k * LOG10_2_HI;
  const valHi = hi * IVLN10_HI;
  const w = y + valHi;
  const valLo = k * LOG10_2_LO + (lo + hi) * IVLN10_LO + lo * IVLN10_HI + (y - w + valHi);
  return valLo + w;
}

/**
 * e^x; NULL when it overflows (x > 709.78…), 0 below 2^−1075 (x < −745.13…), subnormal
 * between. fdlibm's e_exp.c: x = k · ln 2 + r, |r| ≤ ln 2 / 2, e^r by a rational form, then
 * · 2^k in two exact-power steps so only the last can round (into the subnormals); e^1 is
 * Math.E, the double nearest e (the algorithm gives the one above).
 */
export function exp(x: number): number | null {
  if (x > EXP_OVERFLOW) return null;
  if (x < EXP_UNDERFLOW) return 0;
  if (x === 1) return Math.E; // the algorithm's e^1 is 1 ulp above e: users compare against e
  const k = Math.trunc(x * INV_LN2 + (x < 0 ? -0.5 : 0.5));
  const hi = x - k * LN2_HI;
  const lo = k * LN2_LO;
  const r = hi - lo;
  const t = r * r;
  const c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  const y = 1 - (lo - r * c / (2 - c) - hi);
  const k1 = Math.trunc(k * 0.5);
  return finiteOrNull(y * pow2(k1) * pow2(k - k1));
}
