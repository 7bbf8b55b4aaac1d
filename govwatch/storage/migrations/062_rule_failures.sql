-- Rules that failed to run during live evaluation (govwatch/rules/failures.py): a custom rule
-- that divides by zero, a cast that cannot convert, a setting the engine cannot bind. The
-- failing rule is skipped and every other rule keeps running; one row per rule holds what
-- the administrator sees on the rules page: when it first and last failed, how often, under
-- which catalog version, on how many cases, and the engine's message. A whole-store
-- evaluation that runs the rule without error deletes its row.
CREATE TABLE rule_failures (
    rule VARCHAR(64) PRIMARY KEY,
    custom BOOLEAN NOT NULL,
    catalog_version INTEGER NOT NULL,
    first_failed_at TIMESTAMP NOT NULL,
    last_failed_at TIMESTAMP NOT NULL,
    failures BIGINT NOT NULL,
    cases BIGINT,
    message VARCHAR NOT NULL
);
