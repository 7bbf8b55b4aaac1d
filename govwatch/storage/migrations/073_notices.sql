-- Notices (通报, issue 15 items 4 and 5): the workflow draft → approved → issued, the units each
-- notice is addressed to, their acknowledgements (签收), and the annual appraisal's weights.
--
-- notices: one notice, of kind 'supervision' (period and scope) or 'evaluation' (round_id).
-- templates / settings: the administrator's overrides of the kind's paragraph templates and
-- settings (JSON objects); body: the built Notice as canonical JSON (govwatch.reports.model),
-- rebuilt on every edit of a draft and frozen at issue; digest: SHA-256 of body, written at
-- issue and kept in the ledger (notice.issue). general: every unit sees it (province-wide
-- notices, evaluation results); otherwise only the units in notice_units. schedule_key names a
-- scheduled draft ('supervision:2026-11') so that the schedule makes each one once.
CREATE TABLE notices (
    notice_id VARCHAR(32) PRIMARY KEY,
    kind VARCHAR(16) NOT NULL,
    period VARCHAR(32),
    scope VARCHAR(64),
    round_id VARCHAR(64),
    general BOOLEAN NOT NULL,
    status VARCHAR(16) NOT NULL,
    title VARCHAR NOT NULL,
    doc_number VARCHAR NOT NULL,
    templates TEXT NOT NULL,
    settings TEXT NOT NULL,
    body TEXT NOT NULL,
    digest VARCHAR(64),
    schedule_key VARCHAR(64) UNIQUE,
    drafted_by VARCHAR(64) NOT NULL,
    drafted_at TIMESTAMP NOT NULL,
    edited_by VARCHAR(64),
    edited_at TIMESTAMP,
    approved_by VARCHAR(64),
    approved_at TIMESTAMP,
    issued_by VARCHAR(64),
    issued_at TIMESTAMP
);
CREATE INDEX notices_status ON notices (status, drafted_at);

-- The units a notice is addressed to (fixed at issue): who is expected to acknowledge it.
CREATE TABLE notice_units (
    notice_id VARCHAR(32) NOT NULL,
    unit VARCHAR(64) NOT NULL,
    PRIMARY KEY (notice_id, unit)
);
CREATE INDEX notice_units_unit ON notice_units (unit, notice_id);

-- 签收: one acknowledgement per (notice, unit), by a user of that unit.
CREATE TABLE notice_acks (
    notice_id VARCHAR(32) NOT NULL,
    unit VARCHAR(64) NOT NULL,
    acked_by VARCHAR(64) NOT NULL,
    acked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (notice_id, unit)
);

-- 年度绩效考核: the weights the administrator set for a year (JSON object of weights).
CREATE TABLE appraisal_weights (
    year INTEGER PRIMARY KEY,
    weights TEXT NOT NULL,
    set_by VARCHAR(64) NOT NULL,
    set_at TIMESTAMP NOT NULL
);
