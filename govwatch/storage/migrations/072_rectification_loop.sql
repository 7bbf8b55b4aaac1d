-- Rectification with a loop (整改, issue 13 item 6): each demand raised at publication gets an
-- id, the indicator's name, an owner (the unit's organisation and, when it has one, its
-- department account), a due date counted in working days on the calendar (the round's
-- `rectify_days`, default 15), the unit's reply, and the administrator's confirmation or
-- return with a reason. `status`: open (待整改), replied (已回复), confirmed (已确认),
-- returned (已退回); 已超期 is read, not stored: past `due_on` and not confirmed. The next
-- round's follow-up goes to `follow_result` (improved / not_improved), not to `status`.
ALTER TABLE eval_rounds ADD COLUMN rectify_days INTEGER;
ALTER TABLE eval_rectifications ADD COLUMN demand_id VARCHAR(32);
ALTER TABLE eval_rectifications ADD COLUMN indicator_name VARCHAR;
ALTER TABLE eval_rectifications ADD COLUMN owner_org VARCHAR(64);
ALTER TABLE eval_rectifications ADD COLUMN owner_user VARCHAR(32);
ALTER TABLE eval_rectifications ADD COLUMN raised_at TIMESTAMP;
ALTER TABLE eval_rectifications ADD COLUMN due_days INTEGER;
ALTER TABLE eval_rectifications ADD COLUMN due_on DATE;
ALTER TABLE eval_rectifications ADD COLUMN due_provisional BOOLEAN;
ALTER TABLE eval_rectifications ADD COLUMN reply TEXT;
ALTER TABLE eval_rectifications ADD COLUMN replied_by VARCHAR(64);
ALTER TABLE eval_rectifications ADD COLUMN replied_at TIMESTAMP;
ALTER TABLE eval_rectifications ADD COLUMN decided_by VARCHAR(64);
ALTER TABLE eval_rectifications ADD COLUMN decided_at TIMESTAMP;
ALTER TABLE eval_rectifications ADD COLUMN decision_reason TEXT;
ALTER TABLE eval_rectifications ADD COLUMN follow_result VARCHAR(16);
ALTER TABLE eval_rectifications ADD COLUMN version INTEGER;
-- Demands raised before this migration: a stable id from their key, owned by their unit.
UPDATE eval_rectifications SET demand_id = substr(md5(round_id || '|' || unit || '|' || indicator), 1, 16),
    owner_org = unit, version = 0;
UPDATE eval_rectifications SET follow_result = status, status = 'open'
    WHERE status IN ('improved', 'not_improved');
CREATE UNIQUE INDEX eval_rectifications_id ON eval_rectifications (demand_id);
CREATE INDEX eval_rectifications_owner ON eval_rectifications (owner_org, status);

-- Indicators a unit lost points on only because their value is missing (缺数据): no demand,
-- a flag to supply the data instead (shown on /rectifications and the round's rectification
-- page).
CREATE TABLE eval_data_gaps (
    round_id VARCHAR(64) NOT NULL,
    unit VARCHAR(64) NOT NULL,
    indicator VARCHAR(128) NOT NULL,
    indicator_name VARCHAR,
    points_lost FLOAT8 NOT NULL,
    flagged_at TIMESTAMP NOT NULL,
    PRIMARY KEY (round_id, unit, indicator)
);

-- Every move of a demand, append-only (the ledger holds the same, chained): who, when, from
-- which status to which, the reply text or the reason, the files' references.
CREATE TABLE eval_rectification_log (
    demand_id VARCHAR(32) NOT NULL,
    seq INTEGER NOT NULL,
    action VARCHAR(16) NOT NULL,
    from_status VARCHAR(16),
    to_status VARCHAR(16) NOT NULL,
    actor VARCHAR(64) NOT NULL,
    acted_at TIMESTAMP NOT NULL,
    text TEXT,
    attachments TEXT,
    PRIMARY KEY (demand_id, seq)
);
