-- emit: on_update
-- Nexmark q7, highest bid: the top bid price of every 10-second window, with the bid count.
CREATE VIEW nexmark_q7_highest_bid AS
SELECT window_start, window_end, MAX(data.price) AS max_price, COUNT(*) AS bids
FROM TUMBLE(nexmark, eventTime, INTERVAL '10 seconds')
WHERE eventType = 'bid'
GROUP BY window_start, window_end;
