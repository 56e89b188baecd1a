/**
 * The read_committed filter pitwall gives kafkajs (src/sources/kafkajs.ts): a fetch that starts
 * inside several aborted transactions delivers none of their records (kafkajs 2.2.4's own filter
 * took one listed transaction per record and let the others' records through), a producer's
 * committed transaction after its aborted one is delivered, and the kafkajs loaded through the
 * module uses it.
 */
import { describe, expect, it } from 'vitest';
import { assertReadCommittedFilter, filterAbortedRecords } from '../../src/sources/kafkajs.js';

const rec = (offset: number, pid: number, opts: { control?: 'abort' | 'commit'; inTransaction?: boolean } = {}) => ({
  offset: String(offset), key: opts.control ? Buffer.from([0, 0, 0, opts.control === 'abort' ? 0 : 1]) : null,
  isControlRecord: opts.control !== undefined, batchContext: { producerId: String(pid), inTransaction: opts.inTransaction ?? true },
});

describe('filterAbortedRecords', () => {
  it('drops the records of every aborted transaction the fetch starts inside, up to each abort marker', () => {
    // Producers 1, 2 and 3 interleaved from offset 0; 1 and 2 aborted, 3 committed; the fetch starts at 6.
    const messages = [rec(6, 1), rec(7, 2), rec(8, 3), rec(9, 2), rec(10, 1, { control: 'abort' }), rec(11, 2, { control: 'abort' }), rec(12, 3, { control: 'commit' }),
      rec(13, 1), rec(14, 1, { control: 'commit' }), rec(15, 4, { inTransaction: false })];
    const kept = filterAbortedRecords({ messages, abortedTransactions: [{ producerId: '2', firstOffset: '1' }, { producerId: '1', firstOffset: '0' }] });
    expect(kept.filter((m) => !m.isControlRecord).map((m) => Number(m.offset))).toEqual([8, 13, 15]);
  });

  it('applies a producer\'s aborted transaction only from its first offset', () => {
    const messages = [rec(0, 1), rec(1, 1, { control: 'commit' }), rec(2, 1), rec(3, 1, { control: 'abort' }), rec(4, 1)];
    const kept = filterAbortedRecords({ messages, abortedTransactions: [{ producerId: 1, firstOffset: 2 }] });
    expect(kept.filter((m) => !m.isControlRecord).map((m) => Number(m.offset))).toEqual([0, 4]);
    expect(filterAbortedRecords({ messages, abortedTransactions: null })).toHaveLength(5);
  });

  it('is the filter the kafkajs loaded through src/sources/kafkajs.ts uses', () => {
    expect(() => assertReadCommittedFilter()).not.toThrow();
  });
});
