"""Working-day deadlines for orders and rectification, on the case-clock calendar table.

``add_workdays(db, on, n)`` is the earliest date ``D`` with ``days(on, D) = n`` working days
(spec/time.md: the start date is not counted). Where the ``calendar`` table does not reach
(or does not exist yet), weekends are rest days and the result is marked provisional.
"""

from __future__ import annotations

from datetime import date, timedelta

from govwatch.storage import Database


def add_workdays(db: Database, on: date, n: int) -> tuple[date, bool]:
    """(due date, provisional)."""
    if n <= 0:
        return on, False
    # the calendar table comes with migration 010; beyond its range, weekends only
    rows = db.query(
        "SELECT c.on_date, c.provisional FROM calendar c "
        "WHERE c.is_workday AND c.workday_ordinal = "
        "(SELECT s.workday_ordinal FROM calendar s WHERE s.on_date = ?) + ? "
        "ORDER BY c.on_date LIMIT 1",
        [on, n],
    )
    if rows:
        due = rows[0][0]
        due = due if isinstance(due, date) else date.fromisoformat(str(due))
        provisional = bool(
            db.scalar(
                "SELECT count(*) FROM calendar WHERE on_date > ? AND on_date <= ? AND provisional",
                [on, due],
            )
        )
        return due, provisional
    day, counted = on, 0
    while counted < n:
        day += timedelta(days=1)
        if day.weekday() < 5:
            counted += 1
    return day, True
