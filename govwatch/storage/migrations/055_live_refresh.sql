-- Cases a live round evaluated whose stored deadlines and next moments (case_deadlines, read
-- only by the sweeper) are still to be recomputed. Under a steady stream of imports a round
-- leaves that step here and takes it up once nothing is queued, or once the oldest row has
-- waited REFRESH_SECONDS (govwatch/evaluator.py): rounds stay short, and a waiting request
-- gets its alerts sooner. Written in the transaction that dequeues the cases, so a crash in
-- between loses nothing; the next round or the sweeper finishes them.
CREATE TABLE live_refresh (
    case_id VARCHAR(50) PRIMARY KEY,
    queued_at TIMESTAMP NOT NULL
);
