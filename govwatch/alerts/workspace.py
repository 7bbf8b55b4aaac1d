"""部门工作台: what a department has to do now: alerts to answer, orders, forms to fill."""

from __future__ import annotations

from typing import Any

from govwatch.alerts.orders import list_orders
from govwatch.alerts.queries import AlertFilter, list_alerts
from govwatch.auth.principal import Principal
from govwatch.evaluation.rounds.forms import forms_to_fill
from govwatch.storage import Database

# Workflow states in which the department owes an answer.
TO_ANSWER = ("open", "rectifying")


def department_workspace(db: Database, principal: Principal) -> dict[str, Any]:
    """The principal's alerts to answer, its supervision orders and its evaluation forms."""
    alerts: list[dict[str, Any]] = []
    if db.table_exists("alert_workflow"):
        for state in TO_ANSWER:
            alerts += list_alerts(db, principal, AlertFilter(state=state), 100, 0)
    orders = [o.as_dict() for o in list_orders(db, principal, limit=100)]
    return {"alerts": alerts, "orders": orders, "forms": forms_to_fill(db, principal.org_code)}
