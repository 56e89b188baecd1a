-- emit: on_update
-- People entering each room per minute (rolling 5-minute view), with unique attendees.
CREATE VIEW room_occupancy_1m AS
SELECT window_start, window_end, data.roomId AS room_id,
       SUM(CASE WHEN data.direction = 'out' THEN -1 ELSE 1 END) AS net_entries,
       approx_count_distinct(data.attendeeId) AS unique_attendees,
       COUNT(*) FILTER (WHERE data.ticketTier = 'vip') AS vip_scans
FROM HOP(badge_scans, eventTime, INTERVAL '1 minute', INTERVAL '5 minutes')
WHERE eventType = 'badge.scanned'
GROUP BY window_start, window_end, data.roomId
HAVING COUNT(*) >= 1;
