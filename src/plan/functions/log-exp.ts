/**
 * The constants of ln, log10 and exp, shared by both paths: fdlibm's algorithms (e_log.c,
 * e_log10.c, e_exp.c, as FreeBSD and musl carry them), whose published coefficients are given
 * here as the doubles they denote. hot/eval/functions/log-exp.ts and cold/functions/log-exp.ts
 * each write the algorithm out once, with the same IEEE-754 operations in the same order, so
 * the two paths round alike at every step; neither calls a math library for the result.
 */

/** ln 2 split: `ln2Hi` has 32 significant bits, so k · ln2Hi is exact for |k| < 2^21. */
export const LN2_HI = 6.93147180369123816490e-01;
export const LN2_LO = 1.90821492927058770002e-10;

/** ln(1 + f) = f − f²/2 + s · (f²/2 + R(s²)), s = f / (2 + f): R's coefficients. */
export const LG = [
  6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01, 2.222219843214978396e-01,
  1.818357216161805012e-01, 1.531383769920937332e-01, 1.479819860511658591e-01,
] as const;

/** 1 / ln 10 split (`hi` has 32 significant bits) and log10 2 split (`hi` has 40). */
export const IVLN10_HI = 4.34294481878168880939e-01;
export const IVLN10_LO = 2.50829467116452752298e-11;
export const LOG10_2_HI = 3.01029995663611771306e-01;
export const LOG10_2_LO = 3.69423907715893078616e-13;

/**
 * 2^32 + 1, Veltkamp's splitter: with c = h · SPLIT_21, `c − (c − h)` is h rounded to 21
 * significant bits, so its product with IVLN10_HI is exact (fdlibm clears h's low word
 * instead; this needs no bit access).
 */
export const SPLIT_21 = 4294967297;

/** m ≥ √2 is halved (and k raised), so ln works on m in [√½, √2), f = m − 1 in [−0.29, 0.41). */
export const SQRT2 = 1.4142135623730951;

/** exp: 1 / ln 2, and the arguments past which e^x overflows (NULL) or is below 2^−1075 (0). */
export const INV_LN2 = 1.44269504088896338700e+00;
export const EXP_OVERFLOW = 7.09782712893383973096e+02;
export const EXP_UNDERFLOW = -7.45133219101941108420e+02;

/** e^r = 1 + 2r / (2 − c(r)), c(r) = r − r² · P(r²): P's coefficients. */
export const EXP_P = [
  1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05,
  -1.65339022054652515390e-06, 4.13813679705723846039e-08,
] as const;
