/**
 * Redpanda Connect's JSON log lines (`logger.format: json`), re-emitted as pitwall log lines:
 * `<time> connect: <level> <msg> key=value …`. Lines that are not JSON pass through verbatim.
 */

/** One parsed Connect log line. */
export interface ConnectLogEntry {
  readonly time: string | undefined;
  readonly level: string;
  readonly msg: string;
  /** Every other field (`path`, `label`, `error`, …) except Connect's constant `@service`. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Parses a line; non-JSON output becomes an `info` entry holding the raw text. */
export function parseConnectLog(line: string): ConnectLogEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { time: undefined, level: 'info', msg: line, fields: {} };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { time: undefined, level: 'info', msg: line, fields: {} };
  const { time, level, msg, '@service': _service, ...fields } = parsed as Record<string, unknown>;
  return {
    time: typeof time === 'string' ? time : undefined,
    level: typeof level === 'string' ? level : 'info',
    msg: typeof msg === 'string' ? msg : JSON.stringify(msg ?? ''),
    fields,
  };
}

const show = (v: unknown): string => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s;
};

/** Formats an entry as one line (no trailing newline); empty fields (e.g. `label: ""`) are left out. */
export function formatConnectLog(entry: ConnectLogEntry, nowIso: () => string = () => new Date().toISOString()): string {
  const extra = Object.entries(entry.fields).filter(([, v]) => v !== '' && v !== null && v !== undefined).map(([k, v]) => ` ${k}=${show(v)}`).join('');
  return `${entry.time ?? nowIso()} connect: ${entry.level} ${entry.msg}${extra}`;
}
