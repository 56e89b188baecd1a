/**
 * Regular-expression functions (signatures and plan-time checks; semantics in
 * hot/eval/functions/regexp.ts, DuckDB SQL in cold/functions/regexp.ts). The pattern is a text
 * literal in the subset of regexp-subset.ts, refused otherwise with PW_PLAN_REGEXP.
 */
import type { CallExpr, Expr } from '../expr.js';
import { parseRegexp, RegexpSubsetError, type ParsedRegexp } from './regexp-subset.js';
import type { ArgProblem, ScalarFunction } from './types.js';

/** The text literal of argument `i`, or undefined when it is not one. */
const textLiteral = (args: readonly Expr[], i: number): string | undefined => {
  const a = args[i];
  return a?.kind === 'LiteralExpr' && typeof a.value === 'string' ? a.value : undefined;
};

/** The parsed pattern of a bound call (argument 2, checked by the binder). */
export function callRegexp(call: CallExpr): ParsedRegexp {
  return parseRegexp(textLiteral(call.args, 1) ?? '');
}

/** The group argument of a bound regexp_extract call (0 when left out). */
export function callGroup(call: CallExpr): number {
  const g = call.args[2];
  return g?.kind === 'LiteralExpr' && typeof g.value === 'number' ? g.value : 0;
}

function checkPattern(args: readonly Expr[]): ArgProblem | ParsedRegexp {
  const source = textLiteral(args, 1);
  if (source === undefined) return { message: 'the pattern must be a text literal (it is checked and translated when the metric is planned)', arg: 1 };
  try {
    return parseRegexp(source);
  } catch (err) {
    if (!(err instanceof RegexpSubsetError)) throw err;
    return { message: `the pattern is outside the supported subset: ${err.message} (README, "Scalar functions": regular expressions)`, arg: 1, code: 'PW_PLAN_REGEXP' };
  }
}

const isProblem = (x: ArgProblem | ParsedRegexp): x is ArgProblem => 'message' in x;

function checkExtract(args: readonly Expr[]): ArgProblem | undefined {
  const parsed = checkPattern(args);
  if (isProblem(parsed)) return parsed;
  if (args.length < 3) return undefined;
  const g = args[2];
  if (g?.kind !== 'LiteralExpr' || typeof g.value !== 'number') return { message: 'the group must be an integer literal', arg: 2 };
  if (g.value < 0 || g.value > parsed.groups) {
    return { message: `group ${g.value} is out of range: the pattern has ${parsed.groups} capturing group${parsed.groups === 1 ? '' : 's'} (0 is the whole match)`, arg: 2 };
  }
  if (g.value > 0 && parsed.captureInRepeat !== undefined) {
    return {
      message: `a capturing group inside a repetition (at character ${parsed.captureInRepeat} of the pattern) has no single value across the engines: capture the whole repetition, ((?:…)+)`,
      arg: 1, code: 'PW_PLAN_REGEXP',
    };
  }
  return undefined;
}

export const REGEXP_FUNCTIONS: readonly ScalarFunction[] = [
  {
    name: 'regexp_matches', family: 'string', params: ['string', 'string'], result: 'boolean', strict: true,
    check: (args) => { const p = checkPattern(args); return isProblem(p) ? p : undefined; },
    doc: {
      signature: 'regexp_matches(s varchar, pattern literal) → boolean', nulls: 'NULL s → NULL',
      example: "regexp_matches('order-42', '\\d+$') = true (a match anywhere; anchor with ^ and $)",
    },
  },
  {
    name: 'regexp_extract', family: 'string', params: ['string', 'string', 'int'], optional: 1, result: 'string', strict: true,
    check: checkExtract,
    doc: {
      signature: 'regexp_extract(s varchar, pattern literal [, group literal]) → varchar', nulls: 'NULL s → NULL',
      example: "regexp_extract('order-42', '([a-z]+)-(\\d+)', 2) = '42'; no match, or a group that took no part → ''",
    },
  },
];
