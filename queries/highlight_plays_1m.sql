-- Highlight plays per match each minute, and the share of events that were highlights.
CREATE VIEW highlight_plays_1m AS
SELECT window_start, window_end, data.matchId AS match_id,
       COUNT(*) FILTER (WHERE data.highlight) AS highlights,
       CAST(COUNT(*) FILTER (WHERE data.highlight) AS DOUBLE) / COUNT(*) AS highlight_share,
       COALESCE(MAX(data.damage), 0) AS biggest_hit
FROM TUMBLE(match_events, eventTime, INTERVAL '1 minute')
WHERE NOT (eventType LIKE 'debug.%') AND eventTime BETWEEN '2000-01-01T00:00:00Z' AND '2100-01-01T00:00:00Z'
GROUP BY window_start, window_end, data.matchId
HAVING COUNT(*) > 0;
