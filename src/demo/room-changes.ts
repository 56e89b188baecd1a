/**
 * The demo's reference table of conference rooms (catalog/rooms.yaml): the changes that give
 * the lookup-join sample metric (queries/room_fill_1m.sql) its rows. Rooms room0…room14 exist
 * from the start (scans of room15…room19, which the generator also produces, are join misses);
 * mid-demo room0 gets a bigger capacity and room14 closes, each valid a few seconds after it is
 * sent, so neither is late.
 */

/** How long after it is sent a mid-demo change holds (ms): later than any event time seen by then. */
const LEAD_MS = 5_000;

/** When the mid-demo changes are sent, after the start (ms). */
export const ROOM_UPDATE_AFTER_MS = 20_000;

const iso = (ms: number): string => new Date(ms).toISOString();

/** The rooms as they stand before the first scan at `startMs` (ms): NDJSON texts of the changes. */
export function initialRoomChanges(startMs: number): string[] {
  return Array.from({ length: 15 }, (_, i) => JSON.stringify({ roomId: `room${i}`, validFrom: iso(startMs - 60_000), name: `Hall ${String.fromCharCode(65 + i)}`, capacity: 40 + 20 * (i % 4) }));
}

/** The mid-demo changes sent at `nowMs` (ms): room0 extended, room14 closed. */
export function roomUpdates(nowMs: number): string[] {
  return [
    JSON.stringify({ roomId: 'room0', validFrom: iso(nowMs + LEAD_MS), name: 'Hall A', capacity: 120 }),
    JSON.stringify({ roomId: 'room14', validFrom: iso(nowMs + LEAD_MS), deleted: true }),
  ];
}
