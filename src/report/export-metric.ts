/**
 * Writes a metric's recomputed rows (`<metric>.ndjson`, timestamps as ISO-8601) as
 * `<out>/<metric>.parquet` and `<out>/<metric>.csv` through DuckDB. The columns and their
 * types come from the metric's plan, not from inference, so a metric with no rows still gets
 * valid files with every column (a Parquet file with the schema, a CSV with the header).
 */
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckType } from '../cold/duckdb-dialect.js';
import { ExecutionError } from '../errors.js';
import type { MetricPlan } from '../plan/index.js';

const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The `SELECT` reading a metric's NDJSON file with the plan's columns and types. */
export function metricReadSql(plan: MetricPlan, ndjsonPath: string): string {
  const columns = plan.columns.map((c) => `${literal(c.name)}: ${literal(duckType(c.type))}`).join(', ');
  return `SELECT * FROM read_json(${literal(ndjsonPath)}, format = 'newline_delimited', columns = {${columns}})`;
}

export interface ExportedMetric {
  readonly parquet: string;
  readonly csv: string;
}

/** Writes the Parquet and CSV files of `plan` from `ndjsonPath` into `outDir`. */
export async function exportMetric(conn: DuckDBConnection, plan: MetricPlan, ndjsonPath: string, outDir: string): Promise<ExportedMetric> {
  const parquet = join(outDir, `${plan.name}.parquet`);
  const csv = join(outDir, `${plan.name}.csv`);
  const select = metricReadSql(plan, ndjsonPath);
  try {
    await conn.run(`COPY (${select}) TO ${literal(parquet)} (FORMAT parquet)`);
    await conn.run(`COPY (${select}) TO ${literal(csv)} (FORMAT csv, HEADER true)`);
  } catch (err) {
    throw new ExecutionError('PW_REPORT_WRITE', `could not write ${plan.name}.parquet/.csv under '${outDir}': ${(err as Error).message}`, { cause: err });
  }
  return { parquet, csv };
}
