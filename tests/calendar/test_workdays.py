"""The one working-day arithmetic: strict ``add_days`` and lenient, marked ``add_workdays``.

Both count on the calendar table (spec/time.md: the start date is not counted); they differ only
past what the calendar vouches for, and each says so.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from govwatch.calendar import DueDate, add_days, add_workdays
from govwatch.errors import GovwatchError, InputError
from govwatch.storage import Database


def test_workdays_in_an_announced_year_are_final(db: Database) -> None:
    # National Day 2025: 1–8 October rest, Saturday 11 October a make-up working day
    due = add_workdays(db, date(2025, 9, 26), 20)
    assert due == DueDate(date(2025, 10, 30), provisional=False)
    assert add_days(db, date(2025, 9, 26), 20, "W") == due.on


def test_workdays_into_an_unannounced_year_are_provisional(db: Database) -> None:
    start = date(2026, 12, 28)
    due = add_workdays(db, start, 5)
    assert due.provisional
    assert due.on == add_days(db, start, 5, "W")
    assert due.on.year == 2027


def test_workdays_within_an_announced_year_stay_final_near_its_end(db: Database) -> None:
    assert not add_workdays(db, date(2026, 12, 1), 3).provisional


def test_beyond_the_calendar_weekends_are_the_rest_days_and_marked(db: Database) -> None:
    start = date(2035, 12, 28)  # a Friday; the table ends on Monday 31 December 2035
    due = add_workdays(db, start, 3)
    assert due == DueDate(date(2036, 1, 2), provisional=True)
    with pytest.raises(GovwatchError, match="超出工作日历范围"):
        add_days(db, start, 3, "W")


def test_a_start_outside_the_calendar_is_refused_by_the_strict_form(db: Database) -> None:
    start = date(2036, 3, 2)
    with pytest.raises(GovwatchError, match="日期 2036-03-02 超出工作日历范围"):
        add_days(db, start, 1, "W")
    due = add_workdays(db, start, 1)
    assert due == DueDate(start + timedelta(days=1), provisional=True)


def test_zero_days_is_the_start_and_negative_days_are_refused(db: Database) -> None:
    on = date(2025, 10, 1)
    assert add_workdays(db, on, 0) == DueDate(on, provisional=False)
    assert add_days(db, on, 0, "W") == on
    with pytest.raises(InputError):
        add_days(db, on, -1, "W")


def test_natural_days_count_every_date(db: Database) -> None:
    assert add_days(db, date(2025, 9, 30), 3, "N") == date(2025, 10, 3)
