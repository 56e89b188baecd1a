/**
 * Loads validated events into a DuckDB table of the canonical relation shape, through the
 * appender (no SQL text per row, no JSON round trip).
 */
import { DuckDBTimestampValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { getPath, type StreamDef, type ValidEvent } from '../catalog/index.js';
import { parseTimestampMs } from '../util/timestamp.js';
import { canonicalColumns, quoteIdent, relationName } from './duckdb-dialect.js';

/** Creates (or replaces) the canonical events table of `stream`. */
export async function createEventsTable(conn: DuckDBConnection, stream: StreamDef, table = relationName(stream)): Promise<string> {
  const cols = canonicalColumns(stream).map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
  await conn.run(`CREATE OR REPLACE TABLE ${quoteIdent(table)} (${cols})`);
  return table;
}

function appendField(app: DuckDBAppender, type: string, value: unknown): void {
  if (value === undefined || value === null) { app.appendNull(); return; }
  switch (type) {
    case 'VARCHAR': app.appendVarchar(String(value)); return;
    case 'BIGINT': app.appendBigInt(BigInt(value as number)); return;
    case 'DOUBLE': app.appendDouble(Number(value)); return;
    case 'BOOLEAN': app.appendBoolean(Boolean(value)); return;
    case 'TIMESTAMP': {
      const ms = parseTimestampMs(value);
      if (ms === undefined) app.appendNull(); else app.appendTimestamp(new DuckDBTimestampValue(BigInt(ms) * 1000n));
      return;
    }
    default: app.appendNull();
  }
}

/**
 * Appends validated events in arrival order; `_pw_arrival` continues from `firstArrival`.
 * Returns the next arrival number.
 */
export async function appendEvents(
  conn: DuckDBConnection, stream: StreamDef, events: Iterable<ValidEvent>, table = relationName(stream), firstArrival = 0,
): Promise<number> {
  const app = await conn.createAppender(table);
  const fields = [...stream.fields.values()];
  const types = canonicalColumns(stream).slice(3, -1).map((c) => c.type);
  let arrival = firstArrival;
  try {
    for (const ev of events) {
      app.appendBigInt(BigInt(arrival++));
      app.appendVarchar(ev.eventId);
      app.appendTimestamp(new DuckDBTimestampValue(BigInt(ev.eventTimeMs) * 1000n));
      fields.forEach((f, i) => appendField(app, types[i] as string, getPath(ev.payload, f.segments)));
      // The parsed payload written back: what the hot path reads, as json_extract_string needs.
      app.appendVarchar(JSON.stringify(ev.payload));
      app.endRow();
    }
    app.flushSync();
  } finally {
    app.closeSync();
  }
  return arrival;
}
