"""The working-day calendar: official holiday notices as data, administrator corrections, status.

The calendar is a table (migration 010) with one row per date from 2000-01-01 to 2035-12-31 and
cumulative ordinals, so that the number of working or natural days between two dates is a
subtraction on every engine. See ``docs/calendar.md``.
"""

from __future__ import annotations

from govwatch.calendar.build import FIRST_DAY, LAST_DAY, rebuild
from govwatch.calendar.queries import (
    DueDate,
    Unit,
    add_days,
    add_workdays,
    days_between,
    deadline_on,
    is_workday,
)

__all__ = [
    "FIRST_DAY",
    "LAST_DAY",
    "DueDate",
    "Unit",
    "add_days",
    "add_workdays",
    "days_between",
    "deadline_on",
    "is_workday",
    "rebuild",
]
