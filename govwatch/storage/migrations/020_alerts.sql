-- Alerts raised by electronic supervision (govwatch/rules/live.py): one row per
-- (case, rule, key), identified by sha256(case_id|rule|key). Re-evaluation updates the row in
-- place (level, message, evidence, last_seen_at) and appends to alert_history; a finding that
-- no longer holds sets status 'cleared' (the row stays). The workflow builds on these columns.

CREATE TABLE alerts (
    alert_id VARCHAR(64) PRIMARY KEY,
    case_id VARCHAR(50) NOT NULL,
    rule VARCHAR NOT NULL,
    rule_class VARCHAR NOT NULL,
    rule_type VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    level VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    message TEXT NOT NULL,
    evidence TEXT NOT NULL,
    catalog_version INTEGER NOT NULL,
    item_code VARCHAR,
    region_code VARCHAR,
    department_code VARCHAR,
    org_code VARCHAR,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    level_changed_at TIMESTAMP NOT NULL,
    cleared_at TIMESTAMP
);
CREATE INDEX alerts_case ON alerts (case_id);
CREATE INDEX alerts_status ON alerts (status, level);
CREATE INDEX alerts_rule ON alerts (rule);

-- Every change of an alert: raised, level (rose or fell), cleared, reopened. (The moment is
-- `changed_at`: `at` is a reserved word in DuckDB.)
CREATE TABLE alert_history (
    alert_id VARCHAR(64) NOT NULL,
    seq INTEGER NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    change VARCHAR NOT NULL,
    level VARCHAR NOT NULL,
    message TEXT NOT NULL,
    catalog_version INTEGER NOT NULL,
    PRIMARY KEY (alert_id, seq)
);

-- The sweeper's schedule: the next moment at which time alone may change a case's findings.
CREATE TABLE rule_schedule (
    case_id VARCHAR(50) PRIMARY KEY,
    next_check_at TIMESTAMP NOT NULL
);
CREATE INDEX rule_schedule_next ON rule_schedule (next_check_at);
