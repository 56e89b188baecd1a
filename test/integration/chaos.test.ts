/**
 * The fault suite's small version: food delivery at 2x with two SIGKILLs of the engine, a
 * stalled consumer, a broker stop/start (when the test broker is the script's own), a burst of
 * malformed payloads, redelivered duplicates and a 2-minute out-of-order burst. Nothing lost,
 * nothing unexplained. The full matrix is `npm run chaos`.
 */
import { describe, expect, it } from 'vitest';
import { faultRun } from '../../chaos/fault-run.js';
import { brokers } from './support.js';

describe.skipIf(!brokers)('fault suite (CI size)', () => {
  it('loses nothing and leaves no unexplained difference under faults', async () => {
    if (!brokers) return;
    const r = await faultRun({
      brokers, scenario: 'food-delivery', multiple: 2, baseRate: 150, events: 6000,
      brokerRestart: !process.env.PITWALL_TEST_BROKERS, log: (m) => process.stderr.write(`chaos: ${m}\n`),
    });
    process.stderr.write(`chaos result: ${JSON.stringify(r)}\n`);
    expect(r.faults.split('+').filter((f) => f === 'kill')).toHaveLength(2);
    expect(r.faults).toContain('stall');
    expect(r.lost).toBe(0);
    expect(r.unexplained).toBe(0);
    expect(r.dlqMissing).toBe(0);
    expect(r.archiveDuplicates).toBe(0);
  });
});
