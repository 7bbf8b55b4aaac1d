"""Keep the workflow in step with the rule engine's alerts, and escalate.

- an alert without a workflow gets one, an alert the engine cleared is closed automatically, an
  auto-closed alert whose condition came back is reopened (:mod:`govwatch.alerts.reconcile`);
- red cards get automatic orders (setting ``auto_order_red``), and overdue orders raise alerts;
- on a whole sweep (``case_ids`` None), overdue rectifications rise one level (``escalate``)
  (:mod:`govwatch.alerts.escalation`).

The reconciliation is a module of its own because answering an order (``orders.py``) closes the
alerts the answer cleared, and escalation issues orders: both build on it, and this module on
both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from govwatch.alerts.escalation import auto_orders, check_overdue, escalate_rectification
from govwatch.alerts.reconcile import SYNC_LOCK, reconcile
from govwatch.storage import Database


@dataclass(frozen=True)
class SyncReport:
    raised: int
    auto_closed: int
    reopened: int
    orders_issued: int
    orders_overdue: int
    rectifications_overdue: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def sync_workflow(
    db: Database, at: datetime, case_ids: Sequence[str] | None = None, *, orders: bool = True
) -> SyncReport:
    """Bring the workflow of these cases' alerts (all alerts when None) in step with the engine."""
    with SYNC_LOCK:
        ids = None if case_ids is None else sorted(set(case_ids))
        totals = list(reconcile(db, at, ids))
        issued = overdue = late_fixes = 0
        if orders:
            if case_ids is None:  # the passing of time: the sweeper's whole sync
                overdue = check_overdue(db, at)
                # before automatic orders, so that an alert it turns red gets its order now
                late_fixes = escalate_rectification(db, at)
            issued = auto_orders(db, at, None if ids is None else ids)
            if overdue:
                for i, n in enumerate(reconcile(db, at, None)):
                    totals[i] += n
        return SyncReport(totals[0], totals[1], totals[2], issued, overdue, late_fixes)
