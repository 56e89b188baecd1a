/** Numeric functions on the hot path, value for value as cold/functions/numeric.ts. */
import type { HotFunction } from './types.js';

export const HOT_NUMERIC: Readonly<Record<string, HotFunction>> = {
  // |x| of an int in ±(2^53 − 1) stays in range; of a double it is exact.
  abs: () => (a) => Math.abs(a[0] as number),
};
