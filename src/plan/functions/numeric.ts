/**
 * Numeric scalar functions (signatures; semantics in hot/eval/functions/numeric.ts). Names and
 * result types follow DuckDB's; a run-time domain error (sqrt of a negative number) is NULL, as
 * every run-time error in pitwall. ln, log10 and power are not in the library: the two paths'
 * math libraries differ in the last bit for some inputs, so no single result could be promised.
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
    name: 'mod', family: 'numeric', params: ['number', 'number'], result: numericResult, strict: true,
    doc: { signature: 'mod(a number, b number) → bigint if both int, else double', nulls: 'NULL → NULL; b = 0 → NULL', example: 'mod(-7, 3) = -1 (as a % b)' },
  },
];
