import type { StreamDef } from './types.js';

/**
 * A reference table seen as a stream of changes: its key is the event id and its validity time
 * the event time, so its changes validate, archive and load into DuckDB's canonical relation as
 * events do. A stream is returned as it is.
 */
export function tableAsStream(def: StreamDef): StreamDef {
  return def.table ? { ...def, eventId: def.table.key, eventTime: def.table.validFrom } : def;
}
