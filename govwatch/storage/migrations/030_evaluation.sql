-- Evaluation (评估评价): rounds, their units and input values with provenance, evidence files,
-- computed results, appeals, rectification demands; demand-side data: service ratings (好差评)
-- with the follow-up of negative ones, questionnaires and responses, call-back records.
-- A published round is frozen: eval_rounds.digest is the SHA-256 of its canonical inputs and
-- results, and every write to a round's rows first checks that the round is not published.

CREATE TABLE eval_rounds (
    round_id VARCHAR(64) PRIMARY KEY,
    name VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    unit_kind VARCHAR(16) NOT NULL,
    system_name VARCHAR NOT NULL,
    system_yaml TEXT NOT NULL,
    system_digest VARCHAR(64) NOT NULL,
    status VARCHAR(16) NOT NULL,
    fill_deadline_at TIMESTAMP,
    review_days INTEGER NOT NULL DEFAULT 5,
    review_until_at TIMESTAMP,
    previous_round_id VARCHAR(64),
    created_by VARCHAR(64) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    computed_at TIMESTAMP,
    published_at TIMESTAMP,
    published_by VARCHAR(64),
    digest VARCHAR(64),
    frozen TEXT
);

CREATE TABLE eval_units (
    round_id VARCHAR(64) NOT NULL,
    unit VARCHAR(64) NOT NULL,
    unit_name VARCHAR,
    group_name VARCHAR,
    PRIMARY KEY (round_id, unit)
);

-- Current value of each (round, unit, leaf indicator) with its provenance.
-- status: submitted (filled or entered, not yet verified), verified, computed (from data).
CREATE TABLE eval_values (
    round_id VARCHAR(64) NOT NULL,
    unit VARCHAR(64) NOT NULL,
    indicator VARCHAR(128) NOT NULL,
    value FLOAT8,
    source VARCHAR(16) NOT NULL,
    status VARCHAR(16) NOT NULL,
    entered_by VARCHAR(64) NOT NULL,
    entered_at TIMESTAMP NOT NULL,
    verified_by VARCHAR(64),
    verified_at TIMESTAMP,
    note VARCHAR,
    PRIMARY KEY (round_id, unit, indicator)
);

-- Every change of a value, append-only: who, when, what, from which source.
CREATE TABLE eval_value_log (
    round_id VARCHAR(64) NOT NULL,
    seq BIGINT NOT NULL,
    unit VARCHAR(64) NOT NULL,
    indicator VARCHAR(128) NOT NULL,
    action VARCHAR(16) NOT NULL,
    value FLOAT8,
    source VARCHAR(16) NOT NULL,
    actor VARCHAR(64) NOT NULL,
    acted_at TIMESTAMP NOT NULL,
    note VARCHAR,
    PRIMARY KEY (round_id, seq)
);

CREATE TABLE eval_evidence (
    evidence_id VARCHAR(32) PRIMARY KEY,
    round_id VARCHAR(64) NOT NULL,
    unit VARCHAR(64) NOT NULL,
    indicator VARCHAR(128) NOT NULL,
    file_name VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 VARCHAR(64) NOT NULL,
    content_base64 TEXT NOT NULL,
    uploaded_by VARCHAR(64) NOT NULL,
    uploaded_at TIMESTAMP NOT NULL
);
CREATE INDEX eval_evidence_value ON eval_evidence (round_id, unit, indicator);

CREATE TABLE eval_results (
    round_id VARCHAR(64) NOT NULL,
    unit VARCHAR(64) NOT NULL,
    group_name VARCHAR,
    score FLOAT8 NOT NULL,
    stars INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    group_rank INTEGER NOT NULL,
    coverage FLOAT8 NOT NULL,
    poorly_covered BOOLEAN NOT NULL,
    points TEXT NOT NULL,
    missing TEXT NOT NULL,
    rank_low INTEGER,
    rank_high INTEGER,
    star_stability FLOAT8,
    PRIMARY KEY (round_id, unit)
);

-- Appeals (申诉) of units against their result, during the review window.
CREATE TABLE eval_appeals (
    appeal_id VARCHAR(32) PRIMARY KEY,
    round_id VARCHAR(64) NOT NULL,
    unit VARCHAR(64) NOT NULL,
    indicator VARCHAR(128),
    reason TEXT NOT NULL,
    submitted_by VARCHAR(64) NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    status VARCHAR(16) NOT NULL,
    decided_by VARCHAR(64),
    decided_at TIMESTAMP,
    decision TEXT
);
CREATE INDEX eval_appeals_round ON eval_appeals (round_id, unit);

-- Rectification demands (整改要求) raised at publication, followed up in the next round.
CREATE TABLE eval_rectifications (
    round_id VARCHAR(64) NOT NULL,
    unit VARCHAR(64) NOT NULL,
    indicator VARCHAR(128) NOT NULL,
    points_lost FLOAT8 NOT NULL,
    demand TEXT NOT NULL,
    status VARCHAR(16) NOT NULL,
    followed_in_round VARCHAR(64),
    followed_points FLOAT8,
    note TEXT,
    PRIMARY KEY (round_id, unit, indicator)
);

-- Service ratings (好差评), from rating events and bulk files. level: A.8 (1..5; 4, 5 negative).
CREATE TABLE ratings (
    rating_id VARCHAR(64) PRIMARY KEY,
    case_id VARCHAR(50),
    region_code VARCHAR(9),
    department_code VARCHAR,
    item_code VARCHAR,
    level VARCHAR(1) NOT NULL,
    channel VARCHAR,
    rated_at TIMESTAMP NOT NULL,
    text VARCHAR,
    source VARCHAR NOT NULL
);
CREATE INDEX ratings_rated ON ratings (rated_at);

-- Follow-up of each negative rating: call-back (回访) and rectification (整改) by a deadline.
-- status: open, called_back, rectified, invalid (malicious or mistaken, cleared on review).
CREATE TABLE rating_followups (
    rating_id VARCHAR(64) PRIMARY KEY,
    deadline_days INTEGER NOT NULL,
    deadline_unit VARCHAR(1) NOT NULL,
    deadline_on DATE NOT NULL,
    status VARCHAR(16) NOT NULL,
    called_back_at TIMESTAMP,
    rectified_at TIMESTAMP,
    note TEXT,
    updated_by VARCHAR(64) NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE questionnaires (
    questionnaire_id VARCHAR(64) PRIMARY KEY,
    name VARCHAR NOT NULL,
    definition TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- One row per response; score is its normalised satisfaction in 0..1.
CREATE TABLE survey_responses (
    questionnaire_id VARCHAR(64) NOT NULL,
    response_id VARCHAR(64) NOT NULL,
    unit VARCHAR(64) NOT NULL,
    answered_at TIMESTAMP NOT NULL,
    answers TEXT NOT NULL,
    score FLOAT8 NOT NULL,
    source VARCHAR NOT NULL,
    PRIMARY KEY (questionnaire_id, response_id)
);

-- Call-back records (电话、短信回访) of cases or negative ratings.
CREATE TABLE callbacks (
    callback_id VARCHAR(64) PRIMARY KEY,
    case_id VARCHAR(50),
    rating_id VARCHAR(64),
    unit VARCHAR(64),
    called_at TIMESTAMP NOT NULL,
    method VARCHAR(16),
    reached BOOLEAN NOT NULL,
    satisfied BOOLEAN,
    note TEXT,
    source VARCHAR NOT NULL
);
