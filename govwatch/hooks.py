"""What happens after the events of some cases changed: their clocks and their rules.

The import calls :func:`cases_changed` with the cases it touched (None: all cases). Clocks
(``next_check_at``) and live rule evaluation are wired here so that every path that changes
events (file import, HTTP API, quarantine retry, calendar or catalog change) does the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from govwatch.storage import Database


def cases_changed(db: Database, case_ids: Sequence[str] | None) -> None:
    """Recompute stored deadlines and re-evaluate rules of these cases (all when None)."""
    from govwatch import timeutil
    from govwatch.alerts.sync import sync_workflow
    from govwatch.deadlines import refresh_next_check
    from govwatch.rules.live import evaluate_cases

    at = timeutil.now()
    refresh_next_check(db, case_ids, at=at)
    evaluate_cases(db, case_ids, at)
    # alerts raised or cleared above enter (or leave) the handling workflow at once; automatic
    # orders for red cards come with the sweeper's sync (one order per department and sweep,
    # gathering the red cards of every case changed meanwhile), not with each batch
    sync_workflow(db, at, case_ids, orders=case_ids is None)
