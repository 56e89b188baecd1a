/** The accumulator of each aggregate function. */
import { assertNever } from '../../errors.js';
import type { AggregateCall } from '../../plan/index.js';
import { erase, type AnyAccumulator } from './accumulator.js';
import { avgAcc, countAcc, countDistinctAcc, intSumAcc, maxAcc, minAcc, sumAcc } from './basic.js';
import { approxCountDistinctAcc } from './hll.js';
import { approxQuantileAcc, quantileContAcc } from './quantile.js';

export type { Accumulator, AccValue, AnyAccumulator } from './accumulator.js';
export { exactCarry, exactIntResult, exactRest } from './basic.js';

export function accumulatorFor(call: AggregateCall): AnyAccumulator {
  switch (call.fn) {
    case 'count_star': case 'count': return erase(countAcc);
    case 'count_distinct': return erase(countDistinctAcc);
    case 'sum': return call.type === 'int' ? erase(intSumAcc) : erase(sumAcc);
    case 'avg': return erase(avgAcc);
    case 'min': return erase(minAcc);
    case 'max': return erase(maxAcc);
    case 'approx_count_distinct': return erase(approxCountDistinctAcc);
    case 'quantile_cont': return erase(quantileContAcc(call.quantile ?? 0.5));
    case 'approx_quantile': return erase(approxQuantileAcc(call.quantile ?? 0.5));
    default: return assertNever(call.fn, 'aggregate');
  }
}
