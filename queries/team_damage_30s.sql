-- emit: on_update
-- Damage dealt per team every 30 seconds, with the peak single hit and latency p99.
CREATE VIEW team_damage_30s AS
SELECT window_start, window_end, data.matchId AS match_id, data.teamId AS team_id,
       SUM(data.damage) AS damage, MAX(data.damage) AS peak_hit, MIN(data.damage) AS min_hit,
       approx_quantile(data.latencyMs, 0.99) AS p99_latency_ms,
       SUM(data.gold) AS gold
FROM TUMBLE(match_events, eventTime, INTERVAL '30 seconds')
WHERE eventType IN ('combat.hit', 'economy.gold') AND data.teamId IS NOT NULL
GROUP BY window_start, window_end, data.matchId, data.teamId;
