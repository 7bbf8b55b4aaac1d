"""One alert as its readers see it: the condition, its handling, every transition, its orders.

The one reader of an alert: ``GET /api/v1/alerts/{id}`` answers it, and the alert page shows it
(its JSON twin is the same resource). Scope is checked first: 404 when the alert does not
exist, 403 when it is outside the caller's organisations.
"""

from __future__ import annotations

from typing import Any

from govwatch.alerts.order_views import orders_of_alert
from govwatch.alerts.queries import alert_history, get_alert
from govwatch.alerts.workflow import get_state, load_alert, transitions
from govwatch.auth.errors import NotFoundError
from govwatch.auth.principal import Principal
from govwatch.storage import Database


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
    return {
        "alert": row,
        "state": workflow["state"],
        "workflow": workflow,
        "transitions": transitions(db, alert_id),
        "history": alert_history(db, alert_id),
        "orders": orders_of_alert(db, alert_id),
    }
