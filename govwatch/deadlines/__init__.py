"""Case clocks: pauses, extensions, deadlines, elapsed and remaining days, next moments.

The clocks are SQL views over the event store and the calendar (``views.clock_views``), the same
on DuckDB, PostgreSQL and Spark. See ``docs/deadlines.md``.
"""

from __future__ import annotations

from govwatch.calendar.queries import add_days, days_between, deadline_on
from govwatch.deadlines.next_check import refresh_next_check
from govwatch.deadlines.views import clock_views, install_clock_views, materialize_clock_views

__all__ = [
    "add_days",
    "clock_views",
    "days_between",
    "deadline_on",
    "install_clock_views",
    "materialize_clock_views",
    "refresh_next_check",
]
