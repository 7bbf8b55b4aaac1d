-- Alert handling: a state machine per alert (separate from the rule engine's active/cleared),
-- its transitions, attachments, supervision orders, in-app notifications and webhooks.
-- Transitions are claimed with ``UPDATE … WHERE version = ?`` so that nothing applies twice.

CREATE TABLE alert_workflow (
    alert_id VARCHAR(64) PRIMARY KEY,
    state VARCHAR(16) NOT NULL,
    prev_state VARCHAR(16),
    version INTEGER NOT NULL,
    case_id VARCHAR(50),
    org_code VARCHAR(64),
    due_on DATE,
    close_reason VARCHAR(16),
    updated_at TIMESTAMP NOT NULL,
    updated_by VARCHAR(64) NOT NULL
);

CREATE TABLE alert_transitions (
    alert_id VARCHAR(64) NOT NULL,
    seq INTEGER NOT NULL,
    action VARCHAR(32) NOT NULL,
    from_state VARCHAR(16),
    to_state VARCHAR(16) NOT NULL,
    actor VARCHAR(64) NOT NULL,
    actor_role VARCHAR(16) NOT NULL,
    acted_at TIMESTAMP NOT NULL,
    reason TEXT,
    due_on DATE,
    attachments TEXT,
    PRIMARY KEY (alert_id, seq)
);

CREATE TABLE attachments (
    attachment_id VARCHAR(32) PRIMARY KEY,
    owner_kind VARCHAR(16) NOT NULL,
    owner_id VARCHAR(64) NOT NULL,
    name VARCHAR NOT NULL,
    content_type VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 VARCHAR(64) NOT NULL,
    content_base64 TEXT NOT NULL,
    uploaded_by VARCHAR(64) NOT NULL,
    uploaded_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_owner ON attachments (owner_kind, owner_id);

-- Supervision orders (督办).
CREATE TABLE orders (
    order_id VARCHAR(32) PRIMARY KEY,
    org_code VARCHAR(64) NOT NULL,
    state VARCHAR(16) NOT NULL,
    version INTEGER NOT NULL,
    content TEXT NOT NULL,
    issued_by VARCHAR(64) NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    reply_days INTEGER NOT NULL,
    reply_due_on DATE NOT NULL,
    provisional BOOLEAN NOT NULL DEFAULT FALSE,
    automatic BOOLEAN NOT NULL DEFAULT FALSE,
    reply_text TEXT,
    replied_by VARCHAR(64),
    replied_at TIMESTAMP,
    closed_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE order_alerts (
    order_id VARCHAR(32) NOT NULL,
    alert_id VARCHAR(64) NOT NULL,
    PRIMARY KEY (order_id, alert_id)
);
CREATE INDEX order_alerts_alert ON order_alerts (alert_id);

CREATE TABLE order_transitions (
    order_id VARCHAR(32) NOT NULL,
    seq INTEGER NOT NULL,
    action VARCHAR(32) NOT NULL,
    from_state VARCHAR(16),
    to_state VARCHAR(16) NOT NULL,
    actor VARCHAR(64) NOT NULL,
    acted_at TIMESTAMP NOT NULL,
    reason TEXT,
    PRIMARY KEY (order_id, seq)
);

-- Settings of the workflow (e.g. auto_order_red), as text.
CREATE TABLE workflow_settings (
    name VARCHAR(64) PRIMARY KEY,
    value VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by VARCHAR(64) NOT NULL
);

-- In-app notifications; ``dedupe_key`` makes a notification of one event unique.
CREATE TABLE notifications (
    notification_id VARCHAR(32) PRIMARY KEY,
    dedupe_key VARCHAR(160) NOT NULL UNIQUE,
    kind VARCHAR(32) NOT NULL,
    recipient_role VARCHAR(16),
    recipient_org VARCHAR(64),
    ref VARCHAR(64) NOT NULL,
    message TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_recipient ON notifications (recipient_org, created_at);

CREATE TABLE webhooks (
    webhook_id VARCHAR(32) PRIMARY KEY,
    url VARCHAR NOT NULL,
    secret VARCHAR(64) NOT NULL,
    org_code VARCHAR(64),
    kinds VARCHAR NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR(64) NOT NULL
);

CREATE TABLE webhook_deliveries (
    delivery_id VARCHAR(32) PRIMARY KEY,
    webhook_id VARCHAR(32) NOT NULL,
    dedupe_key VARCHAR(160) NOT NULL,
    kind VARCHAR(32) NOT NULL,
    payload TEXT NOT NULL,
    status VARCHAR(16) NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    last_error VARCHAR,
    delivered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (webhook_id, dedupe_key)
);
