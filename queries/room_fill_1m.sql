-- How full each room is per minute: entries joined with the room's capacity as it stood at
-- the scan's time (catalog/rooms.yaml, a versioned reference table). Scans of unknown rooms
-- are dropped and counted as join misses.
CREATE VIEW room_fill_1m AS
SELECT window_start, window_end, r.name AS room, MAX(r.capacity) AS capacity,
       COUNT(*) AS entries,
       round(CAST(COUNT(*) AS DOUBLE) / MAX(r.capacity), 3) AS fill_ratio,
       COUNT(*) FILTER (WHERE starts_with(lower(s.data.ticketTier), 'vip')) AS vip_entries
FROM TUMBLE(badge_scans, eventTime, INTERVAL '1 minute') s
JOIN rooms r ON s.data.roomId = r.roomId
WHERE s.eventType = 'badge.scanned' AND COALESCE(s.data.direction, 'in') = 'in'
GROUP BY window_start, window_end, r.name;
