"""One alert as its readers see it: the condition, its handling, every transition, its orders.

The one reader of an alert: ``GET /api/v1/alerts/{id}`` answers it, and the alert page shows it
(its JSON twin is the same resource). Scope is checked first: 404 when the alert does not
exist, 403 when it is outside the caller's organisations.

Beside the resource, ``display`` holds what a person reads on the page (the API's schema
leaves it out): the rule's Chinese name, the key and the evidence in Chinese
(:mod:`govwatch.alerts.evidence_text`), the responsible unit and region by name, and the names
of the people in the handling log and the orders; codes stay beside them for a ``title``.
"""

from __future__ import annotations

from typing import Any

from govwatch.alerts.evidence_text import describe, key_text
from govwatch.alerts.order_views import orders_of_alert
from govwatch.alerts.queries import alert_history, get_alert
from govwatch.alerts.states import SYSTEM
from govwatch.alerts.workflow import get_state, load_alert, transitions
from govwatch.auth.errors import NotFoundError
from govwatch.auth.names import people_names, unit_names
from govwatch.auth.principal import Principal
from govwatch.storage import Database
from govwatch.vocabulary import SYSTEM_ACTOR_NAME, rule_name


def read_alert(db: Database, caller: Principal, alert_id: str) -> dict[str, Any]:
    """The alert with ``state`` (its handling state), ``workflow``, ``transitions``,
    ``history`` and ``orders``; an alert not yet in the workflow reads as its listed state."""
    load_alert(db, alert_id, caller)  # 404 / 403
    row = get_alert(db, caller, alert_id)
    if row is None:
        raise NotFoundError(f"告警“{alert_id}”不存在")
    state = get_state(db, alert_id)
    if state is None:
        workflow: dict[str, Any] = {
            "state": row["state"],
            "state_name": row["state_name"],
            "version": 0,
            "due_on": None,
            "close_reason": None,
            "updated_at": row["first_seen_at"],
            "updated_by": "system",
            "allowed_actions": [],
        }
    else:
        workflow = {k: v for k, v in state.as_dict().items() if k != "alert_id"}
    moves = transitions(db, alert_id)
    orders = orders_of_alert(db, alert_id)
    return {
        "alert": row,
        "state": workflow["state"],
        "workflow": workflow,
        "transitions": moves,
        "history": alert_history(db, alert_id),
        "orders": orders,
        "display": display(db, row, moves, orders),
    }


def _named(code: object, names: dict[str, str]) -> dict[str, str] | None:
    """A unit as a page shows it: its name, and its code for the hover (None without one)."""
    if code is None or code == "":
        return None
    return {"code": str(code), "name": names.get(str(code), str(code))}


def display(
    db: Database,
    alert: dict[str, Any],
    moves: list[dict[str, Any]],
    orders: list[dict[str, Any]],
) -> dict[str, Any]:
    """What the alert page reads, by name: rule, key, evidence, units and people."""
    units = unit_names(db)
    people = people_names(
        db,
        [t.get("actor") for t in moves]
        + [o.get(k) for o in orders for k in ("issued_by", "replied_by")],
    )
    return {
        "rule_name": rule_name(str(alert["rule"])),
        "key": key_text(str(alert["rule"]), alert.get("key")),
        "evidence": describe(
            str(alert["rule"]), alert.get("evidence") or {}, str(alert.get("message") or "")
        ).as_dict(),
        "department": _named(alert.get("department_code") or alert.get("org_code"), units),
        "region": _named(alert.get("region_code"), units),
        "orders": {o["order_id"]: _named(o.get("org_code"), units) for o in orders},
        "people": {SYSTEM: SYSTEM_ACTOR_NAME} | people,
    }
