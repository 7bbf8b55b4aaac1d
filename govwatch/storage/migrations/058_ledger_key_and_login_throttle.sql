-- The ledger keyed with a secret outside the database, its head anchored outside it too
-- (govwatch/ledger/keys.py, anchor.py), and failed logins throttled (govwatch/auth/throttle.py).
--
-- ledger_head: ``keyed_from`` is the first entry signed with the key (entries before it were
-- written before the key existed and keep their plain hashes; NULL: no key yet), ``key_id``
-- the key's identifier (an HMAC of a fixed label, not the key), ``head_mac`` the HMAC of
-- (seq, hash), ``anchored_seq`` the last entry anchored to the anchor file, and ``head_txid``
-- the transaction that last moved the head (an append inside a caller's transaction anchors
-- only a head that an earlier transaction committed).
ALTER TABLE ledger_head ADD COLUMN keyed_from BIGINT;
ALTER TABLE ledger_head ADD COLUMN key_id VARCHAR(32);
ALTER TABLE ledger_head ADD COLUMN head_mac VARCHAR(64);
ALTER TABLE ledger_head ADD COLUMN anchored_seq BIGINT;
ALTER TABLE ledger_head ADD COLUMN head_txid BIGINT;

-- Failed logins per account (the username as typed) and per client address. ``window_start``
-- and ``failures`` count towards the limit (attempts are counted when they start, so parallel
-- guesses cannot overshoot it); ``throttled_until`` refuses attempts until then, ``strikes``
-- doubles the delay of each further episode. For accounts, ``sum_*`` gather the window that
-- the ledger summarises in one ``auth.login_failed`` entry when it closes.
CREATE TABLE login_throttle (
    scope VARCHAR(8) NOT NULL,
    subject VARCHAR(128) NOT NULL,
    window_start TIMESTAMP,
    failures INTEGER NOT NULL DEFAULT 0,
    throttled_until TIMESTAMP,
    strikes INTEGER NOT NULL DEFAULT 0,
    sum_start TIMESTAMP,
    sum_last TIMESTAMP,
    sum_failures INTEGER NOT NULL DEFAULT 0,
    sum_inactive INTEGER NOT NULL DEFAULT 0,
    sum_refused INTEGER NOT NULL DEFAULT 0,
    sum_addresses VARCHAR NOT NULL DEFAULT '[]',
    version BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, subject)
);
