/**
 * Numeric scalar functions (signatures; semantics in hot/eval/functions/numeric.ts). Names and
 * result types follow DuckDB's; a run-time domain error (sqrt of a negative number) is NULL, as
 * every run-time error in pitwall. The two paths' math libraries (V8's, the C library DuckDB
 * calls) differ in the last bit for a few percent of inputs, so neither is used for a result:
 * ln, log10 and exp are fdlibm's algorithms written out once per path with the same IEEE
 * operations (constants in log-exp.ts), within 1 ulp of the true value; power with a constant
 * integer exponent is one fixed sequence of IEEE multiplications on both paths. power with a
 * non-integer exponent is not in the library: exp(y · ln x) would lose up to ~10 bits.
 */
import { numericResult, type ArgProblem, type ScalarFunction } from './types.js';
import type { Expr } from '../expr.js';

/** Most digits `round(x, digits)` takes either way: 10^30 is exact in DuckDB's HUGEINT. */
export const MAX_ROUND_DIGITS = 30;

/**
 * The value of a constant number argument: a literal, or a literal under unary minus (`-2`
 * binds as the negation of 2); undefined for any other expression.
 */
export function constantNumber(e: Expr | undefined): number | null | undefined {
  if (e?.kind === 'LiteralExpr') return typeof e.value === 'number' ? e.value : e.value === null ? null : undefined;
  if (e?.kind === 'NegateExpr') {
    const v = constantNumber(e.operand);
    return typeof v === 'number' ? 0 - v : v;
  }
  return undefined;
}

/** Largest |n| of power(x, n): 2^10, ten squarings. */
export const MAX_POWER_EXPONENT = 1024;

function powerExponent(args: readonly Expr[]): ArgProblem | undefined {
  const v = constantNumber(args[1]);
  if (v === undefined) return { message: 'the exponent must be a constant integer (a literal); power with a non-integer or computed exponent is not supported', arg: 1 };
  return v === null || (Number.isInteger(v) && Math.abs(v) <= MAX_POWER_EXPONENT) ? undefined
    : { message: `the exponent must be an integer from -${MAX_POWER_EXPONENT} to ${MAX_POWER_EXPONENT}, got ${String(v)}`, arg: 1 };
}

/**
 * The steps of x^n for |n| ≥ 1, square-and-multiply over the bits of |n| from the lowest: the
 * squarings to compute (b₀ = x, bₖ = bₖ₋₁²) and the bₖ multiplied into the result, in order.
 * Both paths follow these steps, so their roundings are the same.
 */
export function powerSteps(n: number): { readonly squarings: number; readonly factors: readonly number[] } {
  const factors: number[] = [];
  let k = Math.abs(n);
  let bit = 0;
  while (k > 0) {
    if (k % 2 === 1) factors.push(bit);
    k = Math.floor(k / 2);
    bit++;
  }
  return { squarings: bit - 1, factors };
}

function roundDigits(args: readonly Expr[]): ArgProblem | undefined {
  if (args.length < 2) return undefined;
  const v = constantNumber(args[1]);
  if (v === undefined) return { message: 'the digits of round(x, digits) must be a constant (a literal), not an expression', arg: 1 };
  if (v === null) return undefined;
  return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= MAX_ROUND_DIGITS ? undefined
    : { message: `the digits must be an integer from -${MAX_ROUND_DIGITS} to ${MAX_ROUND_DIGITS}, got ${String(v)}`, arg: 1 };
}

export const NUMERIC_FUNCTIONS: readonly ScalarFunction[] = [
  {
    name: 'abs', family: 'numeric', params: ['number'], result: numericResult, strict: true,
    doc: { signature: 'abs(x number) → same type', nulls: 'NULL → NULL', example: 'abs(-3) = 3' },
  },
  {
    name: 'round', family: 'numeric', params: ['number', 'int'], optional: 1, result: (args) => numericResult(args.slice(0, 1)), strict: true, check: roundDigits,
    doc: {
      signature: 'round(x number [, digits int constant -30…30]) → same type',
      nulls: 'NULL → NULL; past the int range → NULL',
      example: 'round(2.5) = 3, round(-2.5) = -3 (half away from zero), round(1234, -2) = 1200',
    },
  },
  {
    name: 'floor', family: 'numeric', params: ['double'], result: 'double', strict: true,
    doc: { signature: 'floor(x double) → double', nulls: 'NULL → NULL', example: 'floor(-0.5) = -1' },
  },
  {
    name: 'ceil', family: 'numeric', params: ['double'], result: 'double', strict: true,
    doc: { signature: 'ceil(x double) → double (alias ceiling)', nulls: 'NULL → NULL', example: 'ceil(-0.5) = -0' },
  },
  {
    name: 'ceiling', family: 'numeric', params: ['double'], result: 'double', strict: true,
    doc: { signature: 'ceiling(x double) → double', nulls: 'NULL → NULL', example: 'ceiling(2.1) = 3' },
  },
  {
    name: 'sign', family: 'numeric', params: ['number'], result: 'int', strict: true,
    doc: { signature: 'sign(x number) → bigint', nulls: 'NULL → NULL', example: 'sign(-2.5) = -1, sign(-0.0) = 0' },
  },
  {
    name: 'sqrt', family: 'numeric', params: ['double'], result: 'double', strict: true,
    doc: { signature: 'sqrt(x double) → double', nulls: 'NULL → NULL; x < 0 → NULL', example: 'sqrt(2) = 1.4142135623730951' },
  },
  {
    name: 'power', family: 'numeric', params: ['double', 'int'], result: 'double', strict: true, check: powerExponent,
    doc: {
      signature: 'power(x double, n int constant -1024…1024) → double (alias pow)',
      nulls: 'NULL → NULL; overflow, 0 to a negative power → NULL',
      example: 'power(2, 10) = 1024, power(0, 0) = 1, power(2, -1) = 0.5',
    },
  },
  {
    name: 'pow', family: 'numeric', params: ['double', 'int'], result: 'double', strict: true, check: powerExponent,
    doc: { signature: 'pow(x double, n int constant) → double', nulls: 'NULL → NULL; as power', example: 'pow(1.5, 2) = 2.25' },
  },
  {
    name: 'ln', family: 'numeric', params: ['double'], result: 'double', strict: true,
    doc: { signature: 'ln(x double) → double', nulls: 'NULL → NULL; x ≤ 0 → NULL', example: 'ln(1) = 0, ln(2) = 0.6931471805599453' },
  },
  {
    name: 'log10', family: 'numeric', params: ['double'], result: 'double', strict: true,
    doc: { signature: 'log10(x double) → double', nulls: 'NULL → NULL; x ≤ 0 → NULL', example: 'log10(1000) = 3, log10(2) = 0.3010299956639812' },
  },
  {
    name: 'exp', family: 'numeric', params: ['double'], result: 'double', strict: true,
    doc: { signature: 'exp(x double) → double', nulls: 'NULL → NULL; overflow (x > 709.78) → NULL', example: 'exp(0) = 1, exp(1) = 2.718281828459045, exp(-746) = 0' },
  },
  {
    name: 'mod', family: 'numeric', params: ['number', 'number'], result: numericResult, strict: true,
    doc: { signature: 'mod(a number, b number) → bigint if both int, else double', nulls: 'NULL → NULL; b = 0 → NULL', example: 'mod(-7, 3) = -1 (as a % b)' },
  },
];
