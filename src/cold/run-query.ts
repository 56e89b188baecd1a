/** Runs a compiled metric in DuckDB and returns rows in the result row format. */
import { DuckDBTimestampValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { ExecutionError } from '../errors.js';
import type { MetricPlan } from '../plan/index.js';
import type { ResultRow, ResultValue } from '../util/result-row.js';
import type { CompiledQuery } from './compile-plan.js';

function toResult(v: DuckDBValue): ResultValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof DuckDBTimestampValue) return new Date(Number(v.micros / 1000n)).toISOString();
  return String(v);
}

/** Executes `compiled` and converts each row (timestamps to ISO-8601, integers to numbers). */
export async function runCompiled(conn: DuckDBConnection, plan: MetricPlan, compiled: CompiledQuery): Promise<ResultRow[]> {
  let reader;
  try {
    reader = await conn.runAndReadAll(compiled.sql, [...compiled.parameters]);
  } catch (err) {
    throw new ExecutionError('PW_COLD_QUERY', `DuckDB failed on metric '${plan.name}': ${(err as Error).message}`, { cause: err });
  }
  const names = plan.columns.map((c) => c.name);
  return reader.getRows().map((row) => {
    const out: ResultRow = {};
    names.forEach((n, i) => { out[n] = toResult(row[i] as DuckDBValue); });
    return out;
  });
}
