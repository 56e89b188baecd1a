-- Per-attendee visit sessions across rooms: a visit ends after 20 minutes without a scan.
CREATE VIEW attendee_visits AS
SELECT window_start, window_end, data.attendeeId AS attendee_id,
       COUNT(DISTINCT data.roomId) AS rooms_visited, COUNT(*) AS scans
FROM SESSION(badge_scans, eventTime, INTERVAL '20 minutes')
GROUP BY window_start, window_end, data.attendeeId;
