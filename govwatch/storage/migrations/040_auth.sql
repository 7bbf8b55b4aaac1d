-- People and scopes: the organisation tree, users, sessions, API tokens, and the log of every
-- view of unmasked personal data. Secrets are never stored in clear: passwords as argon2
-- hashes, session ids and tokens as SHA-256 digests (they are long random strings).

-- Organisation tree: province -> city -> county -> department. ``region_code`` is the
-- administrative division a region node stands for (a department's is the region it sits in).
CREATE TABLE orgs (
    org_code VARCHAR(64) PRIMARY KEY,
    name VARCHAR NOT NULL,
    kind VARCHAR(16) NOT NULL,
    parent_code VARCHAR(64),
    region_code VARCHAR(9),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX orgs_parent ON orgs (parent_code);

CREATE TABLE users (
    user_id VARCHAR(32) PRIMARY KEY,
    username VARCHAR(64) NOT NULL UNIQUE,
    display_name VARCHAR NOT NULL,
    role VARCHAR(16) NOT NULL,
    org_code VARCHAR(64),
    password_hash VARCHAR NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    password_changed_at TIMESTAMP NOT NULL
);

CREATE TABLE sessions (
    session_hash VARCHAR(64) PRIMARY KEY,
    user_id VARCHAR(32) NOT NULL,
    csrf_token VARCHAR(64) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

-- API tokens: a source system (role 'source') or a user-like client of any role.
CREATE TABLE api_tokens (
    token_id VARCHAR(32) PRIMARY KEY,
    token_hash VARCHAR(64) NOT NULL UNIQUE,
    name VARCHAR NOT NULL,
    role VARCHAR(16) NOT NULL,
    user_id VARCHAR(32),
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64) NOT NULL,
    revoked_at TIMESTAMP,
    last_used_at TIMESTAMP
);

-- The organisations a token may act for (with their subtrees).
CREATE TABLE api_token_orgs (
    token_id VARCHAR(32) NOT NULL,
    org_code VARCHAR(64) NOT NULL,
    PRIMARY KEY (token_id, org_code)
);

-- Every answer that carried unmasked personal data, who saw it, when, about what.
CREATE TABLE pii_views (
    view_id VARCHAR(32) PRIMARY KEY,
    viewer VARCHAR(64) NOT NULL,
    role VARCHAR(16) NOT NULL,
    viewed_at TIMESTAMP NOT NULL,
    subject VARCHAR NOT NULL,
    fields VARCHAR NOT NULL,
    route VARCHAR NOT NULL
);
CREATE INDEX pii_views_viewer ON pii_views (viewer, viewed_at);
