/**
 * The scalar function library: every function the binder accepts by name, with its signature.
 * Families live in their own files; this module collects them and looks them up.
 */
import { CONDITIONAL_FUNCTIONS } from './conditional.js';
import { JSON_FUNCTIONS } from './json.js';
import { NUMERIC_FUNCTIONS } from './numeric.js';
import { REGEXP_FUNCTIONS } from './regexp.js';
import { STRING_FUNCTIONS } from './string.js';
import { TIME_FUNCTIONS } from './time.js';
import type { ScalarFunction } from './types.js';

export type { ArgKind, ArgProblem, FunctionFamily, ScalarFunction } from './types.js';
export { accepts, PAYLOAD_FIELD } from './types.js';

/** Every scalar function, by family, in reference-table order. */
export const SCALAR_FUNCTION_LIST: readonly ScalarFunction[] = [
  STRING_FUNCTIONS, REGEXP_FUNCTIONS, JSON_FUNCTIONS, NUMERIC_FUNCTIONS, CONDITIONAL_FUNCTIONS, TIME_FUNCTIONS,
].flat();

const BY_NAME = new Map(SCALAR_FUNCTION_LIST.map((f) => [f.name, f]));

/** The function called `name` (any case), or undefined. */
export function scalarFunction(name: string): ScalarFunction | undefined {
  return BY_NAME.get(name.toLowerCase());
}
