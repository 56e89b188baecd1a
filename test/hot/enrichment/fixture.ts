/** A catalog with a `scans` stream and a `room_info` external lookup at a local port, and a metric joining them. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog, type Catalog } from '../../../src/catalog/index.js';
import { buildPlan, type MetricPlan } from '../../../src/plan/index.js';
import { parseQuery } from '../../../src/sql/index.js';

export const LOOKUP_METRIC = `CREATE VIEW room_fill AS
SELECT window_start, window_end, i.name AS room, MAX(i.capacity) AS capacity, COUNT(*) AS entries
FROM TUMBLE(scans, eventTime, INTERVAL '1 minute') s
LEFT JOIN room_info i ON s.data.roomId = i.roomId
GROUP BY window_start, window_end, i.name;`;

export function enrichmentCatalog(port: number, lookup: Record<string, string> = {}): { dir: string; catalog: Catalog } {
  const dir = mkdtempSync(join(tmpdir(), 'pw-enrich-'));
  mkdirSync(join(dir, 'catalog'));
  writeFileSync(join(dir, 'catalog', 'scans.yaml'), `name: scans
event_id: eventId
event_time: eventTime
fields:
  eventId: { type: string, required: true }
  eventTime: { type: timestamp, required: true }
  data.roomId: { type: string }
`);
  const extra = Object.entries({ timeout: '200ms', concurrency: '4', ...lookup }).map(([k, v]) => `${k}: ${v}`).join('\n');
  writeFileSync(join(dir, 'catalog', 'room_info.yaml'), `name: room_info
kind: lookup
url: "http://127.0.0.1:${port}/rooms/{roomId}"
key: roomId
${extra}
fields:
  roomId: { type: string, required: true }
  name: { type: string }
  capacity: { type: int }
`);
  return { dir, catalog: loadCatalog(join(dir, 'catalog')) };
}

export function lookupPlan(catalog: Catalog, sql = LOOKUP_METRIC): MetricPlan {
  return buildPlan(parseQuery('room_fill.sql', sql), catalog);
}

/** A scan event record (partition 0). */
export function scan(i: number, room: string | null, second = i): { partition: number; offset: number; value: string } {
  return { partition: 0, offset: i, value: JSON.stringify({ eventId: `e${i}`, eventTime: new Date(Date.UTC(2026, 0, 1, 9, 0, 0) + second * 1000).toISOString(), data: { roomId: room } }) };
}
