-- The hash-chained ledger: alert transitions, orders, catalog changes and logins.
-- hash = sha256(prev_hash || canonical JSON of the entry); ``ledger_head`` holds the last
-- entry so that removing entries from the end is noticed too.
CREATE TABLE ledger (
    seq BIGINT PRIMARY KEY,
    logged_at TIMESTAMP NOT NULL,
    kind VARCHAR(32) NOT NULL,
    actor VARCHAR(64) NOT NULL,
    ref VARCHAR(128) NOT NULL,
    payload TEXT NOT NULL,
    prev_hash VARCHAR(64) NOT NULL,
    hash VARCHAR(64) NOT NULL
);

CREATE TABLE ledger_head (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash VARCHAR(64) NOT NULL
);
