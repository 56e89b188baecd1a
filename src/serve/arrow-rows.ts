/** Result rows as an Arrow IPC stream, typed from the metric's output columns. */
import { Bool, Field, Float64, Int64, Schema, tableToIPC, TimestampMillisecond, Utf8, type DataType } from 'apache-arrow';
import { toArrowTable } from '../archive/parquet-segment.js';
import type { MetricPlan, SqlType } from '../plan/index.js';
import type { ResultRow } from '../util/result-row.js';

const TYPES: Record<SqlType, () => DataType> = {
  string: () => new Utf8(), int: () => new Int64(), double: () => new Float64(), boolean: () => new Bool(), timestamp: () => new TimestampMillisecond(), null: () => new Utf8(),
};

/**
 * `rows` typed by the metric's output columns; with `finals`, one more boolean column
 * `final` (row i's window is closed) unless the metric has a column of that name.
 */
export function rowsToArrowIpc(plan: MetricPlan, rows: readonly ResultRow[], finals?: readonly boolean[]): Uint8Array {
  const withFinal = finals !== undefined && !plan.columns.some((c) => c.name === 'final');
  const schema = new Schema([...plan.columns.map((c) => new Field(c.name, TYPES[c.type](), true)), ...(withFinal ? [new Field('final', new Bool(), true)] : [])]);
  const converted = rows.map((r, i) => ({ ...(withFinal ? { final: finals[i] === true } : {}), ...Object.fromEntries(plan.columns.map((c) => {
    const v = r[c.name];
    if (v === null || v === undefined) return [c.name, null];
    if (c.type === 'int') return [c.name, BigInt(v as number)];
    if (c.type === 'timestamp') return [c.name, Date.parse(String(v))];
    return [c.name, v];
  })) }));
  return tableToIPC(toArrowTable(schema, converted), 'stream');
}
