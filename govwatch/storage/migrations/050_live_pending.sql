-- Cases whose events changed and whose clocks, rules and workflow are still to be brought up
-- to date by the live evaluator (govwatch/evaluator.py). An import writes a row per touched
-- case in the same transaction as its events; a round deletes the rows it evaluated unless a
-- later import re-queued the case meanwhile (a new token). Rows survive a crash: the next
-- round or the sweeper picks them up.
CREATE TABLE live_pending (
    case_id VARCHAR(50) PRIMARY KEY,
    token VARCHAR(32) NOT NULL,
    queued_at TIMESTAMP NOT NULL
);
