"""Guide and coverage metrics (``guides.*``) from a guide check run (docs/metrics.md).

服务事项覆盖度 and 办事指南准确度 are not typed in: they are counted over the items and findings a
check run stored (:mod:`govwatch.guides.runs`), less the findings an evaluator set aside, by
:func:`govwatch.guides.coverage.coverage`. The run is the round's (``eval_rounds.guide_run_id``,
set by its first collection) or, when none is named, the latest. A run describes the catalog as
of its moment, so the metrics do not depend on the period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from govwatch.evaluation.metrics.definitions import Counts, put_count, unit_expr
from govwatch.guides.coverage import Coverage, coverage
from govwatch.guides.runs import latest_run
from govwatch.storage import Database

# metric id -> the coverage figure it is (govwatch/guides/coverage.py)
FIGURE_OF: Mapping[str, str] = {
    "guides.items_published": "items_published",
    "guides.guides_published": "guides_published",
    "guides.guide_standard": "guide_standard",
    "guides.basic_accuracy": "basic",
    "guides.materials_accuracy": "materials",
    "guides.process_accuracy": "process",
    "guides.forms_accuracy": "forms",
    "guides.fees_accuracy": "fees",
}


def guide_run_for(db: Database, run_id: str | None) -> str | None:
    """The run to count: the one named, else the latest (None when there is none)."""
    if run_id is not None:
        return run_id
    if not db.table_exists("guide_runs"):
        return None
    run = latest_run(db)
    return run.run_id if run is not None else None


def guide_counts(db: Database, kind: str, run_id: str | None, scope: Sequence[str] = ()) -> Counts:
    """Numerators and denominators of every ``guides.*`` metric per unit of ``kind``."""
    out: Counts = {}
    run = guide_run_for(db, run_id)
    if run is None:
        return out
    units: Mapping[str, Coverage] = coverage(db, run, unit_expr(kind, "i"), item_types=scope)
    for unit, c in units.items():
        for metric, figure in FIGURE_OF.items():
            put_count(out, unit, metric, c.numerator(figure), c.items)
    return out
