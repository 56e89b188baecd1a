/** Conditional functions on the hot path, value for value as cold/functions/conditional.ts. */
import { order, type Val } from '../compile-expr.js';
import type { HotFunction } from './types.js';

/**
 * The first non-NULL argument that no later one beats (`sign` 1: is greater than, −1: is less
 * than), as DuckDB's greatest/least: NULLs skipped, on a tie (0 and −0) the earlier one kept.
 */
function extreme(sign: 1 | -1): HotFunction {
  return () => (a) => {
    let best: Val = null;
    for (const v of a) {
      if (v !== null && (best === null || order(v, best) * sign > 0)) best = v;
    }
    return best;
  };
}

const distinct = (x: Val, y: Val): boolean => (x === null || y === null ? x !== y : order(x, y) !== 0);

export const HOT_CONDITIONAL: Readonly<Record<string, HotFunction>> = {
  greatest: extreme(1),
  least: extreme(-1),
  // Equal as `=` is (below too); two NULLs are not distinct, NULL and a value are.
  is_distinct_from: () => (a) => distinct(a[0] ?? null, a[1] ?? null),
  is_not_distinct_from: () => (a) => !distinct(a[0] ?? null, a[1] ?? null),
  // Equal as `=` is: numbers by value (−0 = 0, an int against a double exactly), text exactly.
  nullif: () => (a) => { const x = a[0] ?? null; const y = a[1] ?? null; return x === null || (y !== null && order(x, y) === 0) ? null : x; },
};
