/** HTTP mapping of pitwall errors: the only place codes become statuses. */
import { PitwallError } from '../errors.js';

export class ServeError extends PitwallError {}

const STATUS: Record<string, number> = {
  PW_SERVE_UNKNOWN_METRIC: 404,
  PW_SERVE_BAD_PARAM: 400,
  PW_SERVE_UNAUTHORIZED: 401,
  PW_SERVE_FORBIDDEN: 403,
  PW_SERVE_RATE_LIMITED: 429,
  PW_SERVE_UNAVAILABLE: 503,
  PW_SERVE_BUSY: 503,
  PW_SERVE_TIMEOUT: 408,
  PW_SERVE_METHOD_NOT_ALLOWED: 405,
};

/** Status for an error code (500 for anything not a client error). */
export function statusOf(code: string): number {
  return STATUS[code] ?? 500;
}
