/**
 * Errors users can hit. Every error carries a stable `code` (`PW_…`, listed in docs/errors.md),
 * a message that says what to do, and, where one exists, the source position it is about.
 *
 * The split follows whose fault it is: {@link PlanError} (the user's definition, with a
 * position), {@link CatalogError} (a catalog file), {@link NotImplementedError} (valid in SQL,
 * not in pitwall's dialect), {@link InternalError} (a bug in pitwall), {@link ExecutionError}
 * (something failed while running). HTTP statuses are mapped only in the server.
 */

/** A position in a user's file; `line` and `col` are 1-based. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** Formats a position as `file:line:col` (the form editors and terminals link). */
export function formatPosition(pos: SourcePosition): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

export interface PitwallErrorOptions {
  readonly position?: SourcePosition | undefined;
  readonly cause?: unknown;
}

/** Base of every pitwall error. `message` is prefixed with the position when there is one. */
export class PitwallError extends Error {
  readonly code: string;
  readonly position: SourcePosition | undefined;
  /** The message without the position prefix. */
  readonly detail: string;

  constructor(code: string, detail: string, options: PitwallErrorOptions = {}) {
    super(options.position ? `${formatPosition(options.position)}: ${detail}` : detail, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.detail = detail;
    this.position = options.position;
  }
}

/** A metric definition is outside the dialect or does not bind against the catalog. */
export class PlanError extends PitwallError {}

/** A catalog file is malformed or inconsistent. */
export class CatalogError extends PitwallError {}

/** A construct that is valid SQL but not part of pitwall's dialect (yet). */
export class NotImplementedError extends PitwallError {}

/** A broken invariant inside pitwall: always a bug, never the user's fault. */
export class InternalError extends PitwallError {
  constructor(detail: string, options: PitwallErrorOptions = {}) {
    super('PW_INTERNAL', `${detail} (this is a bug in pitwall; please report it)`, options);
  }
}

/** Something failed while running: a source, a sink, DuckDB, the broker. */
export class ExecutionError extends PitwallError {}

/** Several user errors reported together (e.g. `pitwall validate` over a whole project). */
export class AggregateUserError extends PitwallError {
  readonly errors: readonly PitwallError[];
  constructor(errors: readonly PitwallError[]) {
    super('PW_MULTIPLE', `${errors.length} error(s):\n${errors.map((e) => `  ${e.message}`).join('\n')}`);
    this.errors = errors;
  }
}

/** Exhaustiveness guard for `switch` over discriminated unions. */
export function assertNever(value: never, what = 'value'): never {
  throw new InternalError(`unexpected ${what}: ${JSON.stringify(value)}`);
}
