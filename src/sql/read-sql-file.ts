/**
 * Reads a metric file as UTF-8 text, refusing what planning could not use faithfully: a file
 * too large to be a metric (checked before reading it into memory) and bytes that are not
 * UTF-8, which a lenient decoder would silently turn into U+FFFD inside a string literal.
 */
import { readFileSync, statSync } from 'node:fs';
import { PlanError } from '../errors.js';
import { firstInvalidUtf8, stripBom } from '../util/utf8.js';
import { SQL_LIMITS } from './sql-limits.js';

/** UTF-8 takes at most four bytes per character: a larger file cannot be within the limit. */
const MAX_FILE_BYTES = SQL_LIMITS.maxFileChars * 4;

const strict = new TextDecoder('utf-8', { fatal: true });

/** Line and column (1-based, in characters) just after the valid UTF-8 prefix `bytes[0, end)`. */
function positionAfter(bytes: Buffer, end: number): { line: number; col: number } {
  const lines = stripBom(bytes.subarray(0, end).toString('utf8')).split('\n');
  return { line: lines.length, col: [...(lines.at(-1) ?? '')].length + 1 };
}

/**
 * The text of the metric file at `path`; `file` names it in positions. Throws PW_SQL_TOO_LONG
 * (at 1:1) for a file larger than a metric can be, and PW_SQL_SYNTAX at the first byte that is
 * not UTF-8.
 */
export function readSqlFile(path: string, file: string): string {
  const size = statSync(path).size;
  if (size > MAX_FILE_BYTES) {
    throw new PlanError('PW_SQL_TOO_LONG', `the file has ${size} bytes; a metric file holds at most ${SQL_LIMITS.maxFileChars} characters`, { position: { file, line: 1, col: 1 } });
  }
  const bytes = readFileSync(path);
  try {
    return strict.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new PlanError('PW_SQL_SYNTAX', `the file is not valid UTF-8 (byte ${at}, 0x${(bytes[at] ?? 0).toString(16).padStart(2, '0')}); save it as UTF-8`,
      { position: { file, ...positionAfter(bytes, at) } });
  }
}
