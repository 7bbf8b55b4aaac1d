-- Rounds worked by departments and evaluators on the web (issue 13 items 2, 3).
--
-- Commissioning (委托): a round names its third-party evaluators, each a user account
-- (evaluator_kind 'user', the username) or an evaluator organisation (evaluator_kind 'org',
-- its org_code: every evaluator account of that organisation), and the leaf indicators each
-- may enter, one row per indicator. An evaluator sees only the rounds it is commissioned for.
CREATE TABLE eval_commissions (
    round_id VARCHAR(64) NOT NULL,
    evaluator_kind VARCHAR(8) NOT NULL,
    evaluator VARCHAR(64) NOT NULL,
    indicator VARCHAR(128) NOT NULL,
    commissioned_by VARCHAR(64) NOT NULL,
    commissioned_at TIMESTAMP NOT NULL,
    PRIMARY KEY (round_id, evaluator_kind, evaluator, indicator)
);

-- A value's evidence link (证据链接: a URL an evaluator checked) and the checker's note when it
-- verified or disputed a department's value (status 'verified' or 'disputed').
ALTER TABLE eval_values ADD COLUMN evidence_url VARCHAR;
ALTER TABLE eval_values ADD COLUMN check_note VARCHAR;

-- The content type of an evidence file, as the attachment allow-list implies it from the
-- file's extension (older rows: NULL).
ALTER TABLE eval_evidence ADD COLUMN content_type VARCHAR;
