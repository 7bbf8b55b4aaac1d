"""Rules that failed during live evaluation, kept for the administrator (``rule_failures``).

The live engine (:func:`govwatch.rules.live.evaluate_cases`) runs every rule on its own: a
rule whose query fails is skipped, its alerts are left as they were, and the failure is
recorded here, one row per rule (first and last failure, how many, the catalog version,
the cases evaluated, the engine's message). The rules page shows the row beside the rule.
A whole-store evaluation (after every catalog change) that runs the rule without error
deletes its row: the rule works on all the data there is.

Recording never stops supervision: a failure to record is logged and forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from govwatch.rules.engine import RuleFailure
from govwatch.storage import Database

log = logging.getLogger("govwatch.rules.failures")


def record_failures(
    db: Database,
    failures: Sequence[RuleFailure],
    at: datetime,
    version: int,
    cases: int | None,
) -> None:
    """Add these failures to their rules' rows (``cases`` None: every case was evaluated)."""
    if not failures or not db.table_exists("rule_failures"):
        return
    try:
        with db.transaction():
            for failure in failures:
                held = db.query(
                    "SELECT first_failed_at, failures FROM rule_failures WHERE rule = ?",
                    [failure.rule],
                )
                first, count = (held[0][0], int(held[0][1])) if held else (at, 0)
                db.execute("DELETE FROM rule_failures WHERE rule = ?", [failure.rule])
                db.execute(
                    "INSERT INTO rule_failures (rule, custom, catalog_version, first_failed_at, "
                    "last_failed_at, failures, cases, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        failure.rule,
                        failure.custom,
                        version,
                        min(first, at),
                        at,
                        count + 1,
                        cases,
                        failure.message,
                    ],
                )
    except Exception:  # the evaluation itself succeeded: never let its record undo that
        log.exception("could not record the failures of rules %s", [f.rule for f in failures])


def clear_failures(db: Database, rules: Iterable[str]) -> None:
    """Forget the failures of rules that have just run without error over every case."""
    names = sorted(set(rules))
    if not names or not db.table_exists("rule_failures"):
        return
    try:
        if db.scalar("SELECT count(*) FROM rule_failures WHERE rule = ANY(?)", [names]):
            db.execute("DELETE FROM rule_failures WHERE rule = ANY(?)", [names])
    except Exception:
        log.exception("could not clear the failures of rules %s", names)


def list_failures(db: Database) -> dict[str, dict[str, Any]]:
    """The recorded failure of each rule that has one, by rule id."""
    if not db.table_exists("rule_failures"):
        return {}
    rows = db.query_dicts(
        "SELECT rule, custom, catalog_version, first_failed_at, last_failed_at, failures, "
        "cases, message FROM rule_failures ORDER BY rule"
    )
    return {str(r["rule"]): r for r in rows}
