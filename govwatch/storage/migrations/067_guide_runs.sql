-- Service-guide check runs (issue 16; govwatch/guides/runs.py, docs/guides.md "Check runs").
-- A run checks every item's guide once (completeness, consistency, practice) and keeps what it
-- found, so that evaluation values, supervision alerts and pages all read the same findings,
-- and a round can say which run its guide and coverage points came from.

-- One row per run: when it checked (events up to checked_at count), who ran it, what it read
-- (the catalog's guides, or a crawl's catalog fragment for the guides a portal publishes) and
-- its counts (JSON: findings by check and by element group).
CREATE TABLE guide_runs (
    run_id VARCHAR(32) PRIMARY KEY,
    seq INTEGER NOT NULL,
    checked_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    run_by VARCHAR(64) NOT NULL,
    source VARCHAR(16) NOT NULL,
    source_ref VARCHAR,
    items INTEGER NOT NULL,
    findings INTEGER NOT NULL,
    counts TEXT NOT NULL
);

-- The implementation list as the run saw it: every item with its unit, whether it is published
-- (its guide is not withdrawn; for a crawl: the portal publishes it) and whether the published
-- guide has content (any element besides the flag). Coverage and the per-element ratios are
-- counted over these rows and the findings, so a run keeps its figures when the catalog
-- changes later.
CREATE TABLE guide_run_items (
    run_id VARCHAR(32) NOT NULL,
    item_code VARCHAR(24) NOT NULL,
    name VARCHAR NOT NULL,
    item_type VARCHAR(2),
    region_code VARCHAR(9) NOT NULL,
    department_code VARCHAR NOT NULL,
    published BOOLEAN NOT NULL,
    has_guide BOOLEAN NOT NULL,
    url VARCHAR,
    PRIMARY KEY (run_id, item_code)
);

-- What the run found: one row per (item, element, check), as govwatch guides check prints it;
-- ``kind`` sorts it for supervision (missing, malformed, dead_link, mismatch, practice) and
-- ``dead_links`` counts the dead form and sample links of a downloads finding.
CREATE TABLE guide_findings (
    run_id VARCHAR(32) NOT NULL,
    item_code VARCHAR(24) NOT NULL,
    element VARCHAR(32) NOT NULL,
    check_kind VARCHAR(16) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    expected TEXT NOT NULL,
    found TEXT NOT NULL,
    message TEXT NOT NULL,
    evidence TEXT NOT NULL,
    dead_links INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, item_code, element, check_kind)
);

-- An evaluator's review of a finding, append-only: ``override`` (the finding does not hold,
-- with the reason) or ``restore`` (it holds after all). A finding's last action decides; each
-- is also in the ledger (guide.override, guide.restore).
CREATE TABLE guide_overrides (
    run_id VARCHAR(32) NOT NULL,
    item_code VARCHAR(24) NOT NULL,
    element VARCHAR(32) NOT NULL,
    check_kind VARCHAR(16) NOT NULL,
    seq INTEGER NOT NULL,
    action VARCHAR(16) NOT NULL,
    actor VARCHAR(64) NOT NULL,
    acted_at TIMESTAMP NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (run_id, item_code, element, check_kind, seq)
);

-- The check run a round's guide and coverage values were computed from (set by its first
-- collection; rounds/lifecycle.py).
ALTER TABLE eval_rounds ADD COLUMN guide_run_id VARCHAR(32);
