/**
 * File sources for replay: NDJSON (one payload per line) and Parquet (one row per payload,
 * read through DuckDB), in file order, as partition 0 with the line/row number as offset.
 * Records come in bounded batches so a large file never sits in memory whole.
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { DuckDBInstance } from '@duckdb/node-api';
import { ExecutionError } from '../errors.js';
import type { RawRecord } from '../hot/stream-runtime.js';

export const DEFAULT_BATCH = 8192;

function checkFile(path: string): void {
  if (!statSync(path, { throwIfNoEntry: false })?.isFile()) {
    throw new ExecutionError('PW_INPUT_MISSING', `input file '${path}' does not exist`);
  }
}

/** NDJSON lines as raw records. Blank lines are skipped but keep their offsets. */
export async function* readNdjson(path: string, batchSize = DEFAULT_BATCH, fromOffset = 0): AsyncGenerator<RawRecord[]> {
  checkFile(path);
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let offset = 0;
  let batch: RawRecord[] = [];
  for await (const line of lines) {
    const here = offset++;
    if (here < fromOffset || line.trim() === '') continue;
    batch.push({ partition: 0, offset: here, value: line });
    if (batch.length >= batchSize) { yield batch; batch = []; }
  }
  if (batch.length) yield batch;
}

/** Parquet rows (nested structs kept as objects) as raw JSON records, in file order, paged. */
export async function* readParquet(path: string, batchSize = DEFAULT_BATCH, fromOffset = 0): AsyncGenerator<RawRecord[]> {
  checkFile(path);
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    for (let offset = Math.max(0, Math.floor(fromOffset)); ; offset += batchSize) {
      const reader = await conn.runAndReadAll(`SELECT * FROM read_parquet($1) LIMIT ${batchSize} OFFSET ${offset}`, [path]);
      const rows = reader.getRowObjectsJson();
      if (rows.length === 0) break;
      yield rows.map((r, i) => ({ partition: 0, offset: offset + i, value: JSON.stringify(r) }));
      if (rows.length < batchSize) break;
    }
  } finally {
    conn.closeSync();
  }
}

/** Reads a replay input by extension (`.parquet` or NDJSON otherwise). */
export function readInput(path: string, batchSize = DEFAULT_BATCH, fromOffset = 0): AsyncGenerator<RawRecord[]> {
  return path.endsWith('.parquet') ? readParquet(path, batchSize, fromOffset) : readNdjson(path, batchSize, fromOffset);
}
