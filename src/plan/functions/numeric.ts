/** Numeric scalar functions (signatures; semantics in hot/eval/functions/numeric.ts). */
import { numericResult, type ScalarFunction } from './types.js';

export const NUMERIC_FUNCTIONS: readonly ScalarFunction[] = [
  {
    name: 'abs', family: 'numeric', params: ['number'], result: numericResult, strict: true,
    doc: { signature: 'abs(x number) → same type', nulls: 'NULL → NULL', example: 'abs(-3) = 3' },
  },
];
