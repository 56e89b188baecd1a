/**
 * File sources for replay: NDJSON (one payload per line) and Parquet (one row per payload,
 * read through DuckDB), in file order, as partition 0 with the line/row number as offset.
 * Records come in bounded batches so a large file never sits in memory whole.
 */
import { isUtf8 } from 'node:buffer';
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { firstInvalidUtf8 } from '../util/utf8.js';
import { ExecutionError } from '../errors.js';
import type { RawRecord } from '../hot/stream-runtime.js';

export const DEFAULT_BATCH = 8192;

function checkFile(path: string): void {
  if (!statSync(path, { throwIfNoEntry: false })?.isFile()) {
    throw new ExecutionError('PW_INPUT_MISSING', `input file '${path}' does not exist`);
  }
}

/** Whether the file opens with the UTF-8 byte-order mark EF BB BF. */
function startsWithBom(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(3);
    return readSync(fd, head, 0, 3, 0) === 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
  } finally {
    closeSync(fd);
  }
}

/** A line as a raw record; bytes that are not valid UTF-8 travel along (copied: the stream owns the chunk). */
function record(offset: number, line: string, bytes: Buffer): RawRecord {
  if (isUtf8(bytes)) return { partition: 0, offset, value: line };
  return { partition: 0, offset, value: line, invalidUtf8At: firstInvalidUtf8(bytes), bytes: Uint8Array.prototype.slice.call(bytes) };
}

/** Bytes per read of an NDJSON file: large reads keep the per-chunk overhead negligible. */
export const NDJSON_CHUNK_BYTES = 1 << 20;

/**
 * NDJSON lines as raw records. Blank lines are skipped but keep their offsets.
 *
 * Lines end where `node:readline` (which this replaced) ends them: at `\n`, `\r\n` (also when
 * the pair straddles two reads) or a lone `\r`; a last line without a terminator counts when
 * non-empty. Lines are found in the raw bytes (neither byte occurs inside a multi-byte UTF-8
 * sequence) and each is decoded on its own, so a character split across two reads is whole
 * by then, and lines before `fromOffset` are never decoded. `chunkBytes` is the read size.
 *
 * A UTF-8 byte-order mark at the start of the file is ignored (RFC 8259 §8.1 lets parsers do
 * so; Windows tools write one). A line whose bytes are not valid UTF-8 comes with
 * `invalidUtf8At` and its exact `bytes`, so it is quarantined rather than silently altered.
 */
export async function* readNdjson(
  path: string,
  batchSize = DEFAULT_BATCH,
  fromOffset = 0,
  chunkBytes = NDJSON_CHUNK_BYTES,
): AsyncGenerator<RawRecord[]> {
  checkFile(path);
  // Start past a UTF-8 byte-order mark (only at the very start of the file).
  const input = createReadStream(path, { highWaterMark: chunkBytes, start: startsWithBom(path) ? 3 : 0 });
  let offset = 0;
  let batch: RawRecord[] = [];
  let carry: Buffer[] = []; // the unterminated start of a line, from earlier reads
  let afterCr = false; // the previous read ended in '\r': a '\n' opening this one completes a CRLF
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let pos = 0;
    if (afterCr) {
      afterCr = false;
      if (chunk[0] === 10) pos = 1;
    }
    const len = chunk.length;
    let nl = chunk.indexOf(10, pos);
    let cr = chunk.indexOf(13, pos);
    while (nl !== -1 || cr !== -1) {
      let end: number;
      let next: number;
      if (cr === -1 || (nl !== -1 && nl < cr)) {
        end = nl;
        next = nl + 1;
      } else {
        end = cr;
        next = cr + 1;
        if (next === nl) next++;
        else if (next === len) afterCr = true;
      }
      const here = offset++;
      if (!(here < fromOffset)) { // not `>=`: a NaN fromOffset skips nothing, as before
        const bytes = carry.length === 0 ? chunk.subarray(pos, end) : Buffer.concat([...carry, chunk.subarray(pos, end)]);
        const line = bytes.toString('utf8');
        if (line.trim() !== '') {
          batch.push(record(here, line, bytes));
          if (batch.length >= batchSize) { yield batch; batch = []; }
        }
      }
      if (carry.length !== 0) carry = [];
      pos = next;
      if (nl !== -1 && nl < pos) nl = chunk.indexOf(10, pos);
      if (cr !== -1 && cr < pos) cr = chunk.indexOf(13, pos);
    }
    if (pos < len) carry.push(Buffer.from(chunk.subarray(pos))); // a copy: the stream owns `chunk`
  }
  if (carry.length !== 0) {
    const here = offset++;
    const bytes = Buffer.concat(carry);
    const line = bytes.toString('utf8');
    if (!(here < fromOffset) && line.trim() !== '') batch.push(record(here, line, bytes));
  }
  if (batch.length) yield batch;
}

/**
 * JSON form of Parquet values: integers as numbers (exact up to 2^53), timestamps as ISO-8601
 * UTC — the forms the catalog's validation reads, so a Parquet input validates like NDJSON.
 */
function parquetValue(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  return value;
}

/** Parquet rows (nested structs kept as objects) as raw JSON records, in file order, paged. */
export async function* readParquet(path: string, batchSize = DEFAULT_BATCH, fromOffset = 0): AsyncGenerator<RawRecord[]> {
  checkFile(path);
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    for (let offset = Math.max(0, Math.floor(fromOffset)); ; offset += batchSize) {
      const reader = await conn.runAndReadAll(`SELECT * FROM read_parquet($1) LIMIT ${batchSize} OFFSET ${offset}`, [path]);
      const rows = reader.getRowObjectsJS();
      if (rows.length === 0) break;
      yield rows.map((r, i) => ({ partition: 0, offset: offset + i, value: JSON.stringify(r, parquetValue) }));
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
