"""Reading alerts with their handling state, limited to what the caller may see.

Personal data in evidence is masked for callers not entitled to it (spec/data.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from govwatch.alerts.states import STATE_NAMES
from govwatch.auth.masking import mask_record
from govwatch.auth.principal import Principal
from govwatch.storage import Database

_SELECT = (
    "SELECT a.alert_id, a.case_id, a.rule, a.rule_class, a.rule_type, a.key, a.level, a.status, "
    "a.message, a.evidence, a.catalog_version, a.item_code, a.region_code, a.department_code, "
    "a.org_code, a.occurred_at, a.first_seen_at, a.last_seen_at, a.level_changed_at, a.cleared_at, "
    "COALESCE(w.state, CASE WHEN a.status = 'cleared' THEN 'closed' ELSE 'open' END) AS state, "
    "COALESCE(w.version, 0) AS version, w.due_on "
    "FROM alerts a LEFT JOIN alert_workflow w ON w.alert_id = a.alert_id"
)


@dataclass(frozen=True)
class AlertFilter:
    status: str | None = None
    state: str | None = None
    level: str | None = None
    rule: str | None = None
    rule_class: str | None = None
    case_id: str | None = None
    department_code: str | None = None
    region_code: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def region_prefix(code: str) -> str:
    """330100 → 3301: a city's or province's code covers its subtree by prefix."""
    prefix = code
    while len(prefix) > 2 and prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def scope_condition(principal: Principal, alias: str = "a") -> tuple[str, list[Any]]:
    """SQL limiting rows with department/org/region columns to the principal's scope."""
    if principal.scope is None:
        return "", []
    codes = sorted(principal.scope) or ["-"]
    regions = sorted(principal.regions) or ["-"]
    marks, region_marks = ", ".join("?" for _ in codes), ", ".join("?" for _ in regions)
    return (
        f"({alias}.department_code IN ({marks}) OR {alias}.org_code IN ({marks}) "
        f"OR {alias}.region_code IN ({region_marks}))",
        [*codes, *codes, *regions],
    )


def _shape(row: dict[str, Any], principal: Principal) -> dict[str, Any]:
    try:
        evidence = orjson.loads(row["evidence"]) if row["evidence"] else {}
    except orjson.JSONDecodeError:
        evidence = {"text": row["evidence"]}
    if not isinstance(evidence, dict):
        evidence = {"value": evidence}
    row["evidence"] = evidence if principal.pii_entitled else mask_record(evidence)
    row["state_name"] = STATE_NAMES.get(row["state"], row["state"])
    return row


RECENT_FIRST = "a.last_seen_at DESC, a.alert_id"
_DERIVED_STATE = "CASE WHEN a.status = 'cleared' THEN 'closed' ELSE 'open' END"


def alert_conditions(principal: Principal, f: AlertFilter) -> tuple[list[str], list[Any], bool]:
    """(conditions on ``alerts a``, their parameters, whether they need ``alert_workflow w``)."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("a.status", f.status),
        ("a.level", f.level),
        ("a.rule", f.rule),
        ("a.rule_class", f.rule_class),
        ("a.case_id", f.case_id),
        ("a.department_code", f.department_code),
    ):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if f.region_code:
        where.append("a.region_code LIKE ?")
        params.append(region_prefix(f.region_code) + "%")
    joined = False
    if f.state in ("open", "closed"):
        # An alert the workflow has not reached yet has the state its status implies.
        where.append(f"COALESCE(w.state, {_DERIVED_STATE}) = ?")
        params.append(f.state)
        joined = True
    elif f.state:
        # Other states exist only in the workflow: a semi-join, no join of every alert.
        where.append("a.alert_id IN (SELECT alert_id FROM alert_workflow WHERE state = ?)")
        params.append(f.state)
    if f.since:
        where.append("a.last_seen_at >= ?")
        params.append(f.since)
    if f.until:
        where.append("a.last_seen_at < ?")
        params.append(f.until)
    scope, scope_params = scope_condition(principal)
    if scope:
        where.append(scope)
        params += scope_params
    return where, params, joined


def list_alerts(
    db: Database,
    principal: Principal,
    f: AlertFilter,
    limit: int,
    offset: int,
    order: str = RECENT_FIRST,
) -> list[dict[str, Any]]:
    """A page of the alerts the caller may see, in ``order`` (SQL over ``a``; unique last).

    Two short queries instead of one wide one: the page's ids come from the few columns the
    filter and the order read, then only those rows are read whole, with their workflow.
    """
    where, params, joined = alert_conditions(principal, f)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    source = (
        "alerts a LEFT JOIN alert_workflow w ON w.alert_id = a.alert_id" if joined else "alerts a"
    )
    ids = [
        str(r[0])
        for r in db.query(
            f"SELECT a.alert_id FROM {source}{clause} ORDER BY {order} "
            f"LIMIT {int(limit)} OFFSET {int(offset)}",
            params,
        )
    ]
    return alerts_by_ids(db, principal, ids)


def alerts_by_ids(db: Database, principal: Principal, ids: list[str]) -> list[dict[str, Any]]:
    """These alerts with their handling state, shaped for the caller, in the order given."""
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    rows = db.query_dicts(
        _SELECT.replace(
            "FROM alerts a LEFT JOIN alert_workflow w",
            f"FROM (SELECT * FROM alerts WHERE alert_id IN ({marks})) a LEFT JOIN "
            f"(SELECT * FROM alert_workflow WHERE alert_id IN ({marks})) w",
        ),
        [*ids, *ids],
    )
    position = {alert_id: i for i, alert_id in enumerate(ids)}
    rows.sort(key=lambda r: position[str(r["alert_id"])])
    return [_shape(r, principal) for r in rows]


def get_alert(db: Database, principal: Principal, alert_id: str) -> dict[str, Any] | None:
    rows = db.query_dicts(f"{_SELECT} WHERE a.alert_id = ?", [alert_id])
    return _shape(rows[0], principal) if rows else None


def case_alerts(db: Database, principal: Principal, case_id: str) -> list[dict[str, Any]]:
    rows = db.query_dicts(
        f"{_SELECT} WHERE a.case_id = ? ORDER BY a.first_seen_at, a.rule, a.key", [case_id]
    )
    return [_shape(r, principal) for r in rows]


def alert_history(db: Database, alert_id: str) -> list[dict[str, Any]]:
    """The engine's record of the condition (raised, level changes, cleared), when present."""
    if not db.table_exists("alert_history"):
        return []
    rows = db.query_dicts("SELECT * FROM alert_history WHERE alert_id = ? ORDER BY seq", [alert_id])
    for row in rows:
        for key, value in row.items():
            if isinstance(value, datetime):
                row[key] = value.isoformat()
    return rows


def count_active_alerts(db: Database) -> int:
    """How many alerts are active now, everywhere (no scope: for summaries, not for users)."""
    return int(db.scalar("SELECT COUNT(*) FROM alerts WHERE status = 'active'") or 0)
