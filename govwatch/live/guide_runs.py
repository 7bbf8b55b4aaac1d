"""What follows a guide check run: the item-information alerts and their handling.

One function per trigger, as :mod:`govwatch.live.pipeline` (whose table this module extends):

==============================  =========================  =====================================
trigger                         function (faces call it)   what follows
==============================  =========================  =====================================
a guide check run (``govwatch   :func:`guide_check_run`    the run is stored
guides run``, the /guides                                  (:mod:`govwatch.guides.runs`); the
page, ``govwatch demo``)                                   item rules run over it
                                                           (:mod:`govwatch.rules.item_rules`),
                                                           raising, updating and clearing the
                                                           item alerts; their workflow follows
                                                           (:func:`govwatch.alerts.reconcile.
                                                           reconcile` on their pseudo cases)
the item rules' settings        :func:`item_rules_changed` the same over the latest run (the
changed                                                    rule catalog's re-evaluation of cases
                                                           leaves item alerts alone)
==============================  =========================  =====================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from govwatch.alerts.reconcile import SYNC_LOCK, reconcile
from govwatch.guides.runs import GuideRun, latest_run, run_guide_checks
from govwatch.rules.catalog import current
from govwatch.rules.item_rules import evaluate_items, item_alert_cases, reconcile_items
from govwatch.storage import Database


@dataclass(frozen=True)
class GuideRunOutcome:
    run: GuideRun
    alerts: dict[str, int]  # raised, level, cleared, reopened


def item_alerts(db: Database, run: GuideRun, at: datetime) -> dict[str, int]:
    """The item rules over a stored run, then the handling of their alerts."""
    catalog = current(db)
    counts = reconcile_items(
        db, evaluate_items(db, run.run_id, catalog.settings), at, catalog.version
    )
    cases = item_alert_cases(db)
    if cases:
        with SYNC_LOCK:
            reconcile(db, at, cases)
    return counts


def guide_check_run(
    db: Database, at: datetime, who: str, *, source: str = "catalog", folder: Path | None = None
) -> GuideRunOutcome:
    """Check every guide as of ``at``, keep the run as ``who``'s, and raise or clear the item
    alerts it shows."""
    run = run_guide_checks(db, at, who, source=source, folder=folder)
    return GuideRunOutcome(run, item_alerts(db, run, at))


def item_rules_changed(db: Database, at: datetime) -> dict[str, int]:
    """The item rules again over the latest run (their settings changed); nothing without a
    run."""
    run = latest_run(db)
    if run is None:
        return {"raised": 0, "level": 0, "cleared": 0, "reopened": 0}
    return item_alerts(db, run, at)
