/** String scalar functions (signatures; semantics in hot/eval/functions/string.ts). */
import type { ScalarFunction } from './types.js';

export const STRING_FUNCTIONS: readonly ScalarFunction[] = [
  {
    name: 'length', family: 'string', params: ['string'], result: 'int', strict: true,
    doc: { signature: 'length(s varchar) → bigint', nulls: 'NULL → NULL', example: "length('héllo') = 5 (Unicode code points)" },
  },
];
