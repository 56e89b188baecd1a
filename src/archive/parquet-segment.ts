/**
 * Arrow record batches to Parquet: the batch (built column by column for events, see
 * columnar.ts; through apache-arrow's builders for the small quarantine and late lanes) is
 * serialized as Arrow IPC and written as Parquet (zstd) by parquet-wasm — DuckDB has no Arrow
 * extension here, and parquet-wasm is the writer that takes Arrow as it is. The file is
 * written under a temp name, fsynced and renamed, so a reader never sees a partial segment.
 */
import { makeBuilder, Table, tableToIPC, type Schema } from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { writeFileAtomically } from '../util/atomic-file.js';

/**
 * zstd, no dictionary encoding: most archive columns are unique per row (event id, payload
 * JSON), where parquet-rs first builds a dictionary and then abandons it. Measured on the bench
 * stream (50,000 events): 0.81 µs and 10.1 bytes per event without dictionaries vs 1.38 µs and
 * 20.8 bytes with them (encoding time of one 50,000-row segment, same Arrow batch).
 */
const props = (): ReturnType<WriterPropertiesBuilder['build']> => new WriterPropertiesBuilder().setCompression(Compression.ZSTD).setDictionaryEnabled(false).build();

/** Builds an Arrow table (one record batch) from row objects shaped like the schema (nested objects for structs). */
export function toArrowTable(schema: Schema, rows: readonly Record<string, unknown>[]): Table {
  const builders = schema.fields.map((f) => makeBuilder({ type: f.type, nullValues: [null, undefined] }));
  const names = schema.fields.map((f) => f.name);
  for (const row of rows) {
    for (let i = 0; i < builders.length; i++) (builders[i] as ReturnType<typeof makeBuilder>).append(row[names[i] as string]);
  }
  return new Table(schema, Object.fromEntries(names.map((n, i) => [n, (builders[i] as ReturnType<typeof makeBuilder>).finish().toVector()])) as never);
}

/** Parquet (zstd) bytes of an Arrow table. */
export function toParquetBytes(table: Table): Uint8Array {
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')), props());
}


/** Writes a segment atomically (util/atomic-file.ts: temp file, fsync, rename, directory fsync). */
export function writeSegment(path: string, bytes: Uint8Array): void {
  writeFileAtomically(path, bytes, () => {
    // Fault injection for the crash tests: die with the complete temp file not yet renamed.
    if (process.env.PITWALL_FAILPOINT === 'archive-before-rename') process.kill(process.pid, 'SIGKILL');
  });
}
