-- Records a source token posted for a case whose organisation could not be told yet (no
-- org_code, an unknown item, a case not stored yet or stored without an organisation): the
-- scope check cannot judge them, so they wait here instead of being refused for their arrival
-- order (govwatch/live/held.py). Once their case's organisation is known (its apply arrives,
-- through the API's import or any other) they are judged by the same check and imported, or
-- quarantined as out of the token's scope. record_key is the SHA-256 of source and text, so
-- a batch retried after a failed group run holds nothing twice.
CREATE TABLE held_events (
    record_key VARCHAR(64) PRIMARY KEY,
    case_id VARCHAR NOT NULL,
    token_id VARCHAR(32) NOT NULL,
    poster VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    position BIGINT NOT NULL,
    record TEXT NOT NULL,
    held_at TIMESTAMP NOT NULL
);
CREATE INDEX held_events_case ON held_events (case_id);
