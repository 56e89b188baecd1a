/** A minimal stream file and a parser that collects its errors, shared by the catalog tests. */
import { parseCatalogFile, type StreamDef } from '../../src/catalog/index.js';
import type { CatalogError } from '../../src/errors.js';

/** The smallest valid stream: an id and an event time. */
export const BASE = `name: clicks
event_id: id
event_time: ts
fields:
  id: { type: string, required: true }
  ts: { type: timestamp, required: true }
`;

/** Parses one catalog file's text; the stream (when valid) and every error reported. */
export function parse(text: string, file = 'clicks.yaml'): { stream: StreamDef | undefined; errors: CatalogError[] } {
  const errors: CatalogError[] = [];
  const stream = parseCatalogFile(file, text, errors);
  return { stream, errors };
}
