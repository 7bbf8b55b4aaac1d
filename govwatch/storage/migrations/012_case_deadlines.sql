-- Stored clocks (DESIGN.md: deadlines are stored, not recomputed on read). One row per accepted
-- case, written by govwatch.deadlines.next_check.refresh_next_check together with
-- cases.next_check_at: the deadlines as of the last recomputation and the next moment at which
-- the case's state can change by the passing of time alone.
CREATE TABLE case_deadlines (
    case_id VARCHAR(50) PRIMARY KEY,
    status VARCHAR NOT NULL,
    promised_deadline DATE,
    legal_deadline DATE,
    provisional BOOLEAN NOT NULL,
    next_check_at TIMESTAMP,
    computed_at TIMESTAMP NOT NULL
);
CREATE INDEX case_deadlines_next_check ON case_deadlines (next_check_at);
