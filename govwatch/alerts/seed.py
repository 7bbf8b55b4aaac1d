"""Engine-shaped alerts and cases without running the rules: for tests, demos and benchmarks.

``alerts`` belongs to the rule engine (migration 020). ``ensure_alerts_table`` creates it with
the agreed columns only where that migration is absent, so this package can be exercised on
its own; ``put_alert`` writes one alert the way the engine would.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from govwatch.storage import Database

ALERT_COLUMNS = (
    "alert_id",
    "case_id",
    "rule",
    "rule_class",
    "rule_type",
    "key",
    "level",
    "status",
    "message",
    "evidence",
    "catalog_version",
    "item_code",
    "region_code",
    "department_code",
    "org_code",
    "occurred_at",
    "first_seen_at",
    "last_seen_at",
    "level_changed_at",
    "cleared_at",
)


def ensure_alerts_table(db: Database) -> None:
    if db.table_exists("alerts"):
        return
    db.execute(
        "CREATE TABLE alerts (alert_id VARCHAR(64) PRIMARY KEY, case_id VARCHAR(50) NOT NULL, "
        "rule VARCHAR NOT NULL, rule_class VARCHAR, rule_type VARCHAR, key VARCHAR NOT NULL, "
        "level VARCHAR NOT NULL, status VARCHAR NOT NULL, message VARCHAR, evidence TEXT, "
        "catalog_version INTEGER, item_code VARCHAR, region_code VARCHAR, department_code VARCHAR, "
        "org_code VARCHAR, occurred_at TIMESTAMP, first_seen_at TIMESTAMP, last_seen_at TIMESTAMP, "
        "level_changed_at TIMESTAMP, cleared_at TIMESTAMP)"
    )


def alert_id_of(case_id: str, rule: str, key: str = "") -> str:
    return hashlib.sha256(f"{case_id}|{rule}|{key}".encode()).hexdigest()


def put_alert(
    db: Database,
    case_id: str,
    rule: str,
    at: datetime,
    *,
    key: str = "",
    level: str = "yellow",
    department_code: str | None = None,
    region_code: str | None = None,
    status: str = "active",
    message: str = "测试告警",
    evidence: str = "{}",
    occurred_at: datetime | None = None,
) -> str:
    """Insert or update one alert as the engine would; return its id.

    ``at`` is when it was detected (``first_seen_at``); ``occurred_at``, when the anomaly
    arose, is ``at`` unless given."""
    ensure_alerts_table(db)
    alert_id = alert_id_of(case_id, rule, key)
    with db.transaction():
        db.execute("DELETE FROM alerts WHERE alert_id = ?", [alert_id])
        db.execute(
            f"INSERT INTO alerts ({', '.join(ALERT_COLUMNS)}) VALUES "
            f"({', '.join('?' for _ in ALERT_COLUMNS)})",
            [
                alert_id,
                case_id,
                rule,
                "timeliness",
                "办理超期异常",
                key,
                level,
                status,
                message,
                evidence,
                1,
                None,
                region_code,
                department_code,
                department_code,
                occurred_at or at,
                at,
                at,
                at,
                at if status == "cleared" else None,
            ],
        )
    return alert_id


def set_alert_status(db: Database, alert_id: str, status: str, at: datetime) -> None:
    db.execute(
        "UPDATE alerts SET status = ?, cleared_at = ?, last_seen_at = ? WHERE alert_id = ?",
        [status, at if status == "cleared" else None, at, alert_id],
    )
