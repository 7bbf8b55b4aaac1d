"""The supervision orders an alert belongs to, and one order as its page shows it."""

from __future__ import annotations

from datetime import date
from typing import Any

from govwatch.alerts.attachments import owner_files
from govwatch.alerts.countdown import countdown, today_ordinal
from govwatch.alerts.orders import get_order, order_alert_ids, order_transitions
from govwatch.alerts.queries import alerts_by_ids
from govwatch.auth.principal import SYSTEM, Principal
from govwatch.calendar.queries import ordinal
from govwatch.errors import GovwatchError
from govwatch.storage import Database


def orders_of_alert(db: Database, alert_id: str) -> list[dict[str, Any]]:
    """Each order naming ``alert_id`` (by order id), with all the alert ids it names and the
    files its replies carried (``attachments``)."""
    order_ids = [
        str(r[0])
        for r in db.query(
            "SELECT order_id FROM order_alerts WHERE alert_id = ? ORDER BY order_id", [alert_id]
        )
    ]
    files = owner_files(db, "order", order_ids)
    orders = []
    for order_id in order_ids:
        order = get_order(db, order_id, SYSTEM).as_dict()
        order["alert_ids"] = order_alert_ids(db, order_id)
        order["attachments"] = [f.as_dict() for f in files.get(order_id, [])]
        orders.append(order)
    return orders


def read_order(db: Database, principal: Principal, order_id: str, today: date) -> dict[str, Any]:
    """One order for its page: the order, its reply countdown (while unanswered), its alerts,
    its history with the files each reply carried. 404 / 403 as :func:`get_order`."""
    principal.require("orders.read")
    order = get_order(db, order_id, principal)
    ids = order_alert_ids(db, order_id)
    due = None
    if order.state in ("issued", "overdue"):
        try:
            due_ordinal: int | None = ordinal(db, order.reply_due_on, "W")
        except GovwatchError:  # beyond the calendar: the date alone
            due_ordinal = None
        due = countdown(order.reply_due_on, today, due_ordinal, today_ordinal(db, today)).as_dict()
    files = owner_files(db, "order", [order_id]).get(order_id, [])
    return {
        "order": order.as_dict(),
        "countdown": due,
        "alerts": [
            a
            for a in alerts_by_ids(db, principal, ids)
            if principal.covers(a["department_code"], a["org_code"], a["region_code"])
        ],
        "transitions": order_transitions(db, order_id),
        "attachments": [f.as_dict() for f in files],
    }
