/**
 * kafkajs as pitwall loads it: every value pitwall takes from kafkajs comes through this module
 * (eslint forbids value imports of 'kafkajs' elsewhere in src/), which first replaces kafkajs'
 * read_committed filter of aborted transactions, then registers the snappy codec.
 *
 * Why the filter is replaced. A read_committed consumer must drop the records of aborted
 * transactions. The broker lists, with every fetch, the aborted transactions overlapping it (producer id and
 * first offset); the client drops a transactional record of a listed producer from that
 * producer's first offset until its abort marker (KIP-98; Kafka's Java consumer, Fetcher). kafkajs
 * 2.2.4 (consumer/filterAbortedMessages.js) takes at most one listed transaction per record, so
 * when a fetch starts inside several aborted transactions (it resumed from an offset inside
 * them, or a previous fetch ended there) the records of all but one are delivered as if
 * committed. Group members fencing each other's transactions (hot/member-runner.ts,
 * `--state-sync changelog`) leave exactly that in the partials topics; phase two then counts
 * aborted partials. {@link filterAbortedRecords} applies every listed transaction whose first
 * offset was reached. kafkajs requires the filter once, when it loads, so the replacement must
 * come first: {@link assertReadCommittedFilter} checks that it did.
 */
import { createRequire } from 'node:module';
import type * as KafkaJS from 'kafkajs';
import SnappyCodec from 'kafkajs-snappy';
import { InternalError } from '../errors.js';

const require = createRequire(import.meta.url);

/** A record as kafkajs decodes it (the fields the filter reads). */
interface DecodedRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly isControlRecord?: boolean;
  readonly batchContext: { readonly producerId: string | number; readonly inTransaction: boolean };
}

/** An aborted transaction as a fetch response lists it. */
interface AbortedTransaction {
  readonly producerId: string | number;
  readonly firstOffset: string | number;
}

/** The key of an ABORT control record: version 0, type 0 (KIP-98). */
const ABORT_KEY = Buffer.from([0, 0, 0, 0]);

/**
 * The records of a fetch that a read_committed consumer may see: drops each transactional record
 * of a producer whose listed aborted transaction began at or before it, until that producer's
 * abort marker (Kafka's Java consumer, Fetcher, in the same order: every listed transaction whose
 * first offset was reached applies). Records must be in offset order; control records are kept
 * (kafkajs drops them afterwards).
 */
export function filterAbortedRecords<R extends DecodedRecord>({ messages, abortedTransactions }: { messages: readonly R[]; abortedTransactions?: readonly AbortedTransaction[] | null }): R[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return [...messages];
  const pending = [...abortedTransactions].sort((a, b) => (BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : BigInt(a.firstOffset) > BigInt(b.firstOffset) ? 1 : 0));
  const aborted = new Set<string>();
  return messages.filter((m) => {
    const offset = BigInt(m.offset);
    while (pending.length > 0 && offset >= BigInt((pending[0] as AbortedTransaction).firstOffset)) aborted.add(String((pending.shift() as AbortedTransaction).producerId));
    const pid = String(m.batchContext.producerId);
    if (m.isControlRecord) {
      if (m.key && Buffer.from(m.key).equals(ABORT_KEY)) aborted.delete(pid);
      return true;
    }
    return !(m.batchContext.inTransaction && aborted.has(pid));
  });
}

const FILTER_PATH = require.resolve('kafkajs/src/consumer/filterAbortedMessages.js');
const modules = require.cache;
if (modules[FILTER_PATH] === undefined) {
  require(FILTER_PATH);
  const mod = modules[FILTER_PATH] as NodeJS.Module | undefined;
  if (mod) mod.exports = filterAbortedRecords;
}

const kafkajs = require('kafkajs') as typeof KafkaJS;
// kafkajs lacks snappy: Redpanda Connect and many producers compress with it by default.
kafkajs.CompressionCodecs[kafkajs.CompressionTypes.Snappy] = SnappyCodec;

export const Kafka: typeof KafkaJS.Kafka = kafkajs.Kafka;
export type Kafka = KafkaJS.Kafka;
export const logLevel: typeof KafkaJS.logLevel = kafkajs.logLevel;
export const Partitioners: typeof KafkaJS.Partitioners = kafkajs.Partitioners;
export const CompressionTypes: typeof KafkaJS.CompressionTypes = kafkajs.CompressionTypes;

/**
 * Throws PW_INTERNAL unless the kafkajs loaded in this process filters aborted transactions with
 * {@link filterAbortedRecords} (kafkajs was loaded before this module, e.g. by a direct import).
 */
export function assertReadCommittedFilter(): void {
  const Batch = require('kafkajs/src/consumer/batch.js') as new (topic: string, fetchedOffset: string, data: unknown) => { messages: unknown[] };
  const record = (offset: number, pid: number): DecodedRecord & { value: Buffer; headers: object; timestamp: string } => ({
    offset: String(offset), key: null, value: Buffer.from('x'), headers: {}, timestamp: '0', isControlRecord: false, batchContext: { producerId: String(pid), inTransaction: true },
  });
  // Two aborted transactions that began before the fetch: none of their records may pass.
  const batch = new Batch('t', '5', { partition: 0, highWatermark: '9', abortedTransactions: [{ producerId: '1', firstOffset: '0' }, { producerId: '2', firstOffset: '1' }], messages: [record(5, 2), record(6, 1), record(7, 2)] });
  if (batch.messages.length !== 0) {
    throw new InternalError('kafkajs was loaded before src/sources/kafkajs.ts replaced its read_committed filter (import kafkajs values only from that module); aborted partials would be counted');
  }
}
