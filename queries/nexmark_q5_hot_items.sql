-- Nexmark q5, hot items: the auction with the most bids in each 10-second window, sliding every 2 seconds.
CREATE VIEW nexmark_q5_hot_items AS
SELECT window_start, window_end, auction, bids, rn
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY bids DESC) AS rn
  FROM (
    SELECT window_start, window_end, data.auction AS auction, COUNT(*) AS bids
    FROM HOP(nexmark, eventTime, INTERVAL '2 seconds', INTERVAL '10 seconds')
    WHERE eventType = 'bid'
    GROUP BY window_start, window_end, data.auction
  ) AS counts
) AS ranked
WHERE rn <= 1;
