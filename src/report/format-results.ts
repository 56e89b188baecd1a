/**
 * Prints `pitwall sql` results: `table` (aligned columns as DuckDB renders each value, numbers
 * right-aligned, long cells cut at {@link MAX_CELL} characters, a row count at the end),
 * `json` (an array of row objects; integers beyond 2^53 and other exact values as strings,
 * timestamps as ISO-8601, dates, times and intervals as DuckDB prints them) or `csv` (RFC 4180, a header line, nested values as JSON).
 */
import { DuckDBTypeId, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { assertNever } from '../errors.js';
import type { SqlResult } from './archive-sql.js';

import type { SqlFormat } from './sql-formats.js';

export { SQL_FORMATS, type SqlFormat } from './sql-formats.js';

/** Widest cell the table format prints before cutting it with `…`. */
export const MAX_CELL = 80;

/** A JS value from DuckDB as a JSON-safe value. */
export function plainValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(plainValue);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainValue(x)]));
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

function tableCell(v: DuckDBValue): string {
  const s = v === null ? 'NULL' : String(v).replace(/\r?\n/g, '\\n');
  return s.length > MAX_CELL ? `${s.slice(0, MAX_CELL - 1)}…` : s;
}

function formatTable(r: SqlResult): string {
  const cells = r.values.map((row) => row.map(tableCell));
  const numeric = r.columns.map((_, i) => r.js.every((row) => row[i] === null || typeof row[i] === 'number' || typeof row[i] === 'bigint'));
  const widths = r.columns.map((c, i) => cells.reduce((w, row) => Math.max(w, (row[i] as string).length), c.length)); // no spread: rows are unbounded
  const line = (row: readonly string[]): string => row.map((c, i) => (numeric[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join(' | ').trimEnd();
  const count = `(${r.values.length} row${r.values.length === 1 ? '' : 's'})`;
  return [line(r.columns), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line), count].join('\n');
}

function uniqueNames(columns: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return columns.map((c) => {
    const n = seen.get(c) ?? 0;
    seen.set(c, n + 1);
    return n === 0 ? c : `${c}_${n}`;
  });
}

/** Types written as DuckDB prints them (its own JSON and CSV writers do too): DATE '2026-11-29', TIME '12:34:56', intervals. */
const AS_DUCKDB_TEXT = new Set<DuckDBTypeId>([DuckDBTypeId.DATE, DuckDBTypeId.TIME, DuckDBTypeId.TIME_TZ, DuckDBTypeId.TIME_NS, DuckDBTypeId.INTERVAL]);

/** Row `row`'s value of column `i` for json and csv: DuckDB's text for dates, times and intervals, else the plain JS value. */
function exportValue(r: SqlResult, row: number, i: number): unknown {
  const v = r.values[row]?.[i];
  const type: DuckDBType | undefined = r.types[i];
  if (v !== null && v !== undefined && type !== undefined && AS_DUCKDB_TEXT.has(type.typeId)) return String(v);
  return r.js[row]?.[i];
}

function formatJson(r: SqlResult): string {
  const names = uniqueNames(r.columns);
  const rows = r.js.map((_row, k) => JSON.stringify(Object.fromEntries(names.map((n, i) => [n, plainValue(exportValue(r, k, i))]))));
  return rows.length ? `[\n${rows.join(',\n')}\n]` : '[]';
}

function csvField(v: unknown): string {
  const p = plainValue(v);
  if (p === null || p === undefined) return '';
  const s = typeof p === 'object' ? JSON.stringify(p) : String(p);
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

function formatCsv(r: SqlResult): string {
  return [r.columns.map(csvField), ...r.js.map((row, k) => row.map((_v, i) => csvField(exportValue(r, k, i))))].map((l) => l.join(',')).join('\n');
}

/** The result in `format`, without a trailing newline. */
export function formatResult(r: SqlResult, format: SqlFormat): string {
  switch (format) {
    case 'table': return formatTable(r);
    case 'json': return formatJson(r);
    case 'csv': return formatCsv(r);
    default: return assertNever(format, 'sql output format');
  }
}
