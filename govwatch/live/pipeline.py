"""What happens after the events of some cases changed: their clocks and their rules.

The import calls :func:`cases_changed` with the cases it touched (None: all cases). Clocks
(``next_check_at``) and live rule evaluation are wired here so that every path that changes
events (file import, HTTP API, quarantine retry, calendar or catalog change) does the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from govwatch.storage import Database


def cases_changed(
    db: Database,
    case_ids: Sequence[str] | None,
    *,
    on_alerts: Callable[[], None] | None = None,
    deadlines: bool = True,
) -> None:
    """Re-evaluate rules of these cases (all when None), then recompute their stored deadlines.

    Alerts come first, so that ``on_alerts`` (the live evaluator's waiters) is told as soon as
    they are written; the stored next moments only serve the sweeper, which reads them later.
    Rules compute their own clocks, so neither step depends on the other. ``deadlines``
    False leaves that last step to the caller (the live evaluator defers it under load).
    """
    from govwatch import timeutil
    from govwatch.alerts.sync import sync_workflow
    from govwatch.deadlines import refresh_next_check
    from govwatch.rules.live import evaluate_cases

    at = timeutil.now()
    evaluate_cases(db, case_ids, at)
    # alerts raised or cleared above enter (or leave) the handling workflow at once; automatic
    # orders for red cards come with the sweeper's sync (one order per department and sweep,
    # gathering the red cards of every case changed meanwhile), not with each batch
    sync_workflow(db, at, case_ids, orders=case_ids is None)
    if on_alerts is not None:
        on_alerts()
    if deadlines:
        refresh_next_check(db, case_ids, at=at)
