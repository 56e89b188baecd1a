/**
 * CAST semantics of the hot path, pinned to DuckDB's TRY_CAST for the casts the binder
 * allows: a value that does not convert becomes NULL, never an error. Doubles to integers
 * round half to even, as DuckDB does.
 */
import type { SqlType } from '../../plan/index.js';
import { parseTimestampMs } from '../../util/timestamp.js';

export type Val = string | number | boolean | null;

const TRUE_WORDS = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'f', 'no', 'n', '0']);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Round half to even (banker's rounding), as DuckDB casts doubles to integers. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function toInt(v: Val): Val {
  if (typeof v === 'number') { const r = roundHalfEven(v); return Number.isSafeInteger(r) ? r : null; }
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') { const s = v.trim(); return NUMBER.test(s) ? toInt(Number(s)) : null; }
  return null;
}

function toDouble(v: Val): Val {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') { const s = v.trim(); return NUMBER.test(s) ? Number(s) : null; }
  return null;
}

function toBool(v: Val): Val {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    return TRUE_WORDS.has(s) ? true : FALSE_WORDS.has(s) ? false : null;
  }
  return null;
}

/** Casts `v` (of type `from`) to `to`. */
export function castValue(v: Val, from: SqlType, to: SqlType): Val {
  if (v === null) return null;
  switch (to) {
    case 'int': return toInt(v);
    case 'double': return toDouble(v);
    case 'boolean': return toBool(v);
    case 'string': return String(v);
    case 'timestamp': return typeof v === 'string' ? parseTimestampMs(v.trim()) ?? null : from === 'timestamp' ? v : null;
    case 'null': return null;
  }
}
