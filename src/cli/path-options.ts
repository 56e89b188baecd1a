/**
 * Checks of the directory and file options every command takes (--out, --archive, --state-dir,
 * --catalog, --queries, --hot, --cold, …), run when a command starts, before any work: a path
 * that is a file where a directory is wanted, a directory that cannot be created or written, or
 * one that does not exist is a user error naming the option and the path (PW_BAD_OPTION, or the
 * option's own code such as PW_CATALOG_DIR), never a stack trace from deep inside a run.
 */
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ExecutionError } from '../errors.js';

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined; // e.g. ENOTDIR: a component of the path is a file; the caller says what is wrong
  }
}

function reason(err: unknown): string {
  return (err as Error).message;
}

/** The error for a path option; `code` is PW_BAD_OPTION unless the option has its own. */
function optionError(code: string, flag: string, path: string, problem: string, fix: string): ExecutionError {
  return new ExecutionError(code, `${flag} '${path}' ${problem}; ${fix}`);
}

/**
 * A directory the command reads: it must exist, be a directory and be listable.
 *
 * @param code the option's own error code (e.g. PW_CATALOG_DIR), else PW_BAD_OPTION
 * @param fix what to pass instead, for the message
 */
export function checkInputDir(flag: string, path: string, code = 'PW_BAD_OPTION', fix = `pass an existing directory to ${flag}`): void {
  const st = statOf(path);
  if (!st) throw optionError(code, flag, path, 'does not exist', fix);
  if (!st.isDirectory()) throw optionError(code, flag, path, 'is a file, not a directory', fix);
  try {
    readdirSync(path);
  } catch (err) {
    throw optionError(code, flag, path, `cannot be read (${reason(err)})`, fix);
  }
}

/** The first ancestor of `path` that exists (the path itself when it does). */
function existingAncestor(path: string): string {
  let p = resolve(path);
  while (!statOf(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

/**
 * A directory the command writes into: created (with its parents) when missing; it must be a
 * directory in which files can be created. Probes by creating and removing an empty file, so a
 * read-only mount, missing permissions or an immutable directory show up here, at startup.
 */
export function checkOutputDir(flag: string, path: string): void {
  const fix = `pass a directory pitwall can create or write to (${flag} DIR is created when missing)`;
  const st = statOf(path);
  if (st && !st.isDirectory()) throw optionError('PW_BAD_OPTION', flag, path, 'is a file, not a directory', fix);
  if (!st) {
    const ancestor = existingAncestor(path);
    if (!statOf(ancestor)?.isDirectory()) throw optionError('PW_BAD_OPTION', flag, path, `cannot be created: '${ancestor}' is a file`, fix);
    try {
      mkdirSync(path, { recursive: true });
    } catch (err) {
      // A recursive mkdir reports ENOENT on a read-only mount; creating the first missing level
      // alone gives the real reason (EROFS, EACCES, EPERM).
      const first = resolve(path).slice(ancestor.length).split(/[\\/]/).find(Boolean) ?? '';
      let why = reason(err);
      try { mkdirSync(join(ancestor, first)); } catch (inner) { why = reason(inner); }
      throw optionError('PW_BAD_OPTION', flag, path, `cannot be created (${why})`, fix);
    }
  }
  const probe = join(path, `.pw-write-check-${process.pid}`);
  try {
    closeSync(openSync(probe, 'w'));
    rmSync(probe, { force: true });
  } catch (err) {
    throw optionError('PW_BAD_OPTION', flag, path, `is not writable (${reason(err)})`, fix);
  }
}

/**
 * A file the command writes: its directory must exist and the path must not be a directory.
 * Opens it for writing (created or truncated) and returns the descriptor.
 */
export function openOutputFile(flag: string, path: string): number {
  const fix = `pass a file path in an existing, writable directory to ${flag}`;
  if (statOf(path)?.isDirectory()) throw optionError('PW_BAD_OPTION', flag, path, 'is a directory, not a file', fix);
  const dir = dirname(resolve(path));
  const st = statOf(dir);
  if (!st) throw optionError('PW_BAD_OPTION', flag, path, `cannot be written: its directory '${dir}' does not exist`, fix);
  if (!st.isDirectory()) throw optionError('PW_BAD_OPTION', flag, path, `cannot be written: '${dir}' is a file`, fix);
  try {
    return openSync(path, 'w');
  } catch (err) {
    throw optionError('PW_BAD_OPTION', flag, path, `cannot be written (${reason(err)})`, fix);
  }
}

/** A file the command reads: it must exist and be a file (`code`: the option's own, e.g. PW_INPUT_MISSING). */
export function checkInputFile(flag: string, path: string, code = 'PW_BAD_OPTION', fix = `pass an existing file to ${flag}`): void {
  const st = statOf(path);
  if (!st) throw optionError(code, flag, path, 'does not exist', fix);
  if (st.isDirectory()) throw optionError(code, flag, path, 'is a directory, not a file', fix);
}

/** --catalog: an existing directory of catalog YAML files (PW_CATALOG_DIR). */
export function checkCatalogDir(path: string): void {
  checkInputDir('--catalog', path, 'PW_CATALOG_DIR', 'pass --catalog DIR with one YAML file per stream');
}

/** --queries: an existing directory of metric .sql files (PW_QUERIES_DIR). */
export function checkQueriesDir(path: string): void {
  checkInputDir('--queries', path, 'PW_QUERIES_DIR', 'pass --queries DIR with one CREATE VIEW per .sql file');
}
