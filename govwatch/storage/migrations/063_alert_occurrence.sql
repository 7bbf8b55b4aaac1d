-- When the anomaly arose (issue 14 item 1), beside when govwatch detected it (first_seen_at):
-- the moment a deadline passed, a step ran over, or the event that broke the rule happened.
-- Lists, trends and 今日新增 count by this moment. Alerts raised before this migration take
-- their detection moment until the engine next sees them.
ALTER TABLE alerts ADD COLUMN occurred_at TIMESTAMP;
UPDATE alerts SET occurred_at = first_seen_at WHERE occurred_at IS NULL;
CREATE INDEX alerts_occurred ON alerts (occurred_at);
