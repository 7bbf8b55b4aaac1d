-- Core tables: the service item catalog, the event store, derived case state, quarantine.
-- Timestamps are naive TIMESTAMP holding Asia/Shanghai wall time (see govwatch/timeutil.py).

CREATE TABLE items (
    item_code VARCHAR(24) PRIMARY KEY,
    base_code VARCHAR(10),
    name VARCHAR NOT NULL,
    item_type VARCHAR(2),
    department_code VARCHAR NOT NULL,
    department_name VARCHAR,
    region_code VARCHAR(9) NOT NULL,
    level VARCHAR(1),
    case_kind VARCHAR(1),
    legal_limit INTEGER,
    legal_limit_unit VARCHAR(1) NOT NULL DEFAULT 'W',
    promised_limit INTEGER,
    promised_limit_unit VARCHAR(1) NOT NULL DEFAULT 'W',
    has_fee BOOLEAN NOT NULL DEFAULT FALSE,
    fee_basis VARCHAR,
    fee_amount DECIMAL(14, 2),
    fee_unit_price DECIMAL(14, 2),
    fee_unit VARCHAR,
    online_depth INTEGER,
    unified_identity BOOLEAN,
    e_license BOOLEAN,
    online_payment BOOLEAN,
    delivery BOOLEAN,
    max_visits INTEGER,
    doc TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE item_steps (
    item_code VARCHAR(24) NOT NULL,
    seq INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    limit_days INTEGER,
    unit VARCHAR(1) NOT NULL DEFAULT 'W',
    mandatory BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (item_code, seq)
);

CREATE TABLE item_materials (
    item_code VARCHAR(24) NOT NULL,
    seq INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    required BOOLEAN NOT NULL DEFAULT TRUE,
    originals INTEGER,
    copies INTEGER,
    PRIMARY KEY (item_code, seq)
);

CREATE TABLE item_tiers (
    item_code VARCHAR(24) NOT NULL,
    tier VARCHAR NOT NULL,
    min_value FLOAT8,
    max_value FLOAT8,
    PRIMARY KEY (item_code, tier)
);

CREATE TABLE item_risk_points (
    item_code VARCHAR(24) NOT NULL,
    seq INTEGER NOT NULL,
    step VARCHAR NOT NULL,
    level VARCHAR NOT NULL,
    description VARCHAR,
    measure VARCHAR NOT NULL,
    PRIMARY KEY (item_code, seq)
);

-- One row per event, every kind's own fields as columns (NULL where not given).
-- ``rank_key`` orders events of one case: occurred_at, then the kind's natural order, then id,
-- so that arrival order never changes the state.
CREATE TABLE events (
    event_id VARCHAR(64) NOT NULL,
    case_id VARCHAR(50) NOT NULL,
    item_code VARCHAR,
    kind VARCHAR NOT NULL,
    kind_order INTEGER NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    actor VARCHAR,
    org_code VARCHAR,
    applicant_type VARCHAR(1),
    applicant_name VARCHAR,
    applicant_id_type VARCHAR,
    applicant_id VARCHAR,
    phone VARCHAR,
    channel VARCHAR,
    materials TEXT,
    case_kind VARCHAR(1),
    promised_finish_at TIMESTAMP,
    reason VARCHAR,
    legal_basis VARCHAR,
    step VARCHAR,
    action VARCHAR,
    opinion VARCHAR,
    procedure_kind VARCHAR(1),
    procedure_type VARCHAR,
    limit_days INTEGER,
    limit_unit VARCHAR(1),
    approved_by VARCHAR,
    result VARCHAR,
    license_no VARCHAR,
    tier VARCHAR,
    decided_value FLOAT8,
    amount DECIMAL(14, 2),
    fee_item VARCHAR,
    quantity FLOAT8,
    level VARCHAR(1),
    text VARCHAR,
    field VARCHAR,
    old_value VARCHAR,
    new_value VARCHAR,
    handler VARCHAR,
    relation VARCHAR,
    extra TEXT,
    source VARCHAR,
    source_line BIGINT,
    ingested_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
-- On DuckDB, ART indexes (a primary key included) slow bulk inserts several-fold and its
-- scans do not need them; there the importer's anti-join on event_id keeps ids unique (one
-- process writes a DuckDB file). PostgreSQL keeps the constraint and the index.
-- postgres:ALTER TABLE events ADD PRIMARY KEY (event_id);
-- postgres:CREATE INDEX events_case ON events (case_id, occurred_at);

-- Materials named by an event: ``apply`` (name, provided), ``supplement_request`` and
-- ``supplement_received`` (name; provided is NULL).
CREATE TABLE event_materials (
    event_id VARCHAR(64) NOT NULL,
    case_id VARCHAR(50) NOT NULL,
    seq INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    provided BOOLEAN
);
-- postgres:ALTER TABLE event_materials ADD PRIMARY KEY (event_id, seq);
-- postgres:CREATE INDEX event_materials_case ON event_materials (case_id);

-- Derived state per case, rebuilt from the ordered event history of the cases an import touched.
CREATE TABLE cases (
    case_id VARCHAR(50) NOT NULL,
    item_code VARCHAR,
    org_code VARCHAR,
    region_code VARCHAR,
    department_code VARCHAR,
    channel VARCHAR,
    applied_at TIMESTAMP,
    accepted_at TIMESTAMP,
    case_kind VARCHAR(1),
    finished_at TIMESTAMP,
    result VARCHAR,
    terminated_at TIMESTAMP,
    rejected_at TIMESTAMP,
    status VARCHAR NOT NULL,
    event_count INTEGER NOT NULL,
    first_at TIMESTAMP NOT NULL,
    last_at TIMESTAMP NOT NULL,
    next_check_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
-- DuckDB uses ART indexes for equality look-ups only, and keeping them costs every delete and
-- update of the live path (a rebuild of 100k cases: 2.4 s of index upkeep); its scans of a
-- million rows take milliseconds. PostgreSQL keeps the key and the indexes the sweeper uses.
-- postgres:ALTER TABLE cases ADD PRIMARY KEY (case_id);
-- postgres:CREATE INDEX cases_next_check ON cases (next_check_at);
-- postgres:CREATE INDEX cases_item ON cases (item_code);

-- Malformed records, kept whole with where they came from and what was wrong.
CREATE TABLE quarantine (
    id BIGINT PRIMARY KEY,
    record_type VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    line BIGINT,
    field VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    raw TEXT NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'open',
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    resolved_at TIMESTAMP
);

-- Import runs, for the record of what was read and what it did.
CREATE TABLE import_runs (
    id BIGINT PRIMARY KEY,
    record_type VARCHAR NOT NULL,
    sources TEXT NOT NULL,
    applied BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    quarantined BIGINT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL
);
