-- Columns the sweepers claim on alert_workflow, so that two sweepers (two processes on
-- PostgreSQL, two connections of one DuckDB) never act twice on one alert. Each claim is a
-- conditional UPDATE on the alert's own row: PostgreSQL makes the second writer wait and
-- re-checks the condition on the new row; DuckDB aborts it and the unit of work retries.
--
-- order_id: the order the alert was last put under (manual or automatic). An automatic order
--   claims its alerts with `SET order_id = ? WHERE order_id IS NULL`, so an alert is never put
--   under two automatic orders.
-- escalated_due_on: the rectification due date whose passing has been escalated. The sweeper
--   claims with `WHERE due_on < today AND (escalated_due_on IS NULL OR escalated_due_on <
--   due_on)`: once per due date, however many sweeps run.
ALTER TABLE alert_workflow ADD COLUMN order_id VARCHAR(32);
ALTER TABLE alert_workflow ADD COLUMN escalated_due_on DATE;
UPDATE alert_workflow SET order_id = (
    SELECT MAX(oa.order_id) FROM order_alerts oa WHERE oa.alert_id = alert_workflow.alert_id
);
