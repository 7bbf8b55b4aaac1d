"""The supervision orders an alert belongs to, as the alert page and the API show them."""

from __future__ import annotations

from typing import Any

from govwatch.alerts.orders import get_order, order_alert_ids
from govwatch.auth.principal import SYSTEM
from govwatch.storage import Database


def orders_of_alert(db: Database, alert_id: str) -> list[dict[str, Any]]:
    """Each order naming ``alert_id`` (by order id), with all the alert ids it names."""
    order_ids = [
        str(r[0])
        for r in db.query(
            "SELECT order_id FROM order_alerts WHERE alert_id = ? ORDER BY order_id", [alert_id]
        )
    ]
    orders = []
    for order_id in order_ids:
        order = get_order(db, order_id, SYSTEM).as_dict()
        order["alert_ids"] = order_alert_ids(db, order_id)
        orders.append(order)
    return orders
