"""Day counting on the calendar table, for Python callers (the clocks themselves run in SQL).

``days_between(db, a, b, unit)`` is spec/time.md's ``days(a, b)``: the days ``d`` of the unit with
``a < d ≤ b`` (negative when ``b`` is before ``a``). ``deadline_on`` is the earliest date ``D``
with ``days(A, D) = n``, moved to the next working day for natural days.

Adding days is one computation (:func:`_nth_day_after`) read two ways, so that no caller has to
guess what happens past the calendar:

- :func:`add_days` is strict: case clocks and review periods need a date the calendar vouches
  for, so a date outside the table is an error.
- :func:`add_workdays` never fails: orders and rectification are due on *some* date even where
  no holiday notice has been published yet, so outside the table weekends are the only rest
  days, and the answer says so (``provisional``), as it does when it crosses a year whose
  holidays are not yet announced.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal, NamedTuple

from govwatch.errors import GovwatchError, InputError
from govwatch.storage import Database

Unit = Literal["W", "N"]


def _unit(unit: str) -> Unit:
    if unit == "W":
        return "W"
    if unit == "N":
        return "N"
    raise InputError(f"时限单位“{unit}”无效：应为 W（工作日）或 N（自然日）")


def _ordinal_column(unit: str) -> str:
    return "workday_ordinal" if _unit(unit) == "W" else "day_ordinal"


def _row(db: Database, on: date, columns: str) -> tuple[object, ...]:
    rows = db.query(f"SELECT {columns} FROM calendar WHERE on_date = ?", [on])
    if not rows:
        raise GovwatchError(
            f"日期 {on.isoformat()} 超出工作日历范围：日历覆盖 2000-01-01 至 2035-12-31"
        )
    return rows[0]


def ordinal(db: Database, on: date, unit: str) -> int:
    """The cumulative count of days of ``unit`` up to and including ``on``."""
    return int(str(_row(db, on, _ordinal_column(unit))[0]))


def is_workday(db: Database, on: date) -> bool:
    return bool(_row(db, on, "is_workday")[0])


def days_between(db: Database, a: date, b: date, unit: str) -> int:
    """``days(a, b)``: days of the unit after ``a`` up to and including ``b``."""
    return ordinal(db, b, unit) - ordinal(db, a, unit)


class DueDate(NamedTuple):
    """A date reached by counting working days, and whether it may still move.

    ``provisional`` is true when a day counted lies in a year without an official holiday
    notice (or beyond the calendar), where weekends stood in for the real rest days.
    """

    on: date
    provisional: bool


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _nth_day_after(db: Database, a: date, n: int, unit: str) -> date | None:
    """The earliest date ``D`` with ``days(a, D) = n``; ``None`` outside the calendar table."""
    column = _ordinal_column(unit)
    condition = "c.is_workday AND " if _unit(unit) == "W" else ""
    found = db.scalar(
        f"SELECT MIN(c.on_date) FROM calendar c WHERE {condition}c.{column} = "
        f"(SELECT s.{column} FROM calendar s WHERE s.on_date = ?) + ?",
        [a, n],
    )
    return None if found is None else _as_date(found)


def add_days(db: Database, a: date, n: int, unit: str) -> date:
    """The earliest date ``D ≥ a`` with ``days(a, D) = n`` (``a`` itself when ``n`` is 0).

    Strict: raises when ``a`` or the result lies outside the calendar table.
    """
    if n < 0:
        raise InputError(f"天数 {n} 无效：应为不小于 0 的整数")
    if n == 0:
        return a
    found = _nth_day_after(db, a, n, unit)
    if found is None:
        ordinal(db, a, unit)  # says so when the start itself is outside the calendar
        raise GovwatchError(f"自 {a.isoformat()} 起 {n} 天超出工作日历范围（至 2035-12-31）")
    return found


def add_workdays(db: Database, on: date, n: int) -> DueDate:
    """``n`` working days after ``on`` (``on`` not counted), marked provisional where uncertain.

    Lenient: never raises for dates outside the calendar table; there weekends are the only
    rest days and the result is provisional. ``n <= 0`` gives ``on`` itself.
    """
    if n <= 0:
        return DueDate(on, False)
    due = _nth_day_after(db, on, n, "W")
    if due is not None:
        provisional = bool(
            db.scalar(
                "SELECT count(*) FROM calendar WHERE on_date > ? AND on_date <= ? AND provisional",
                [on, due],
            )
        )
        return DueDate(due, provisional)
    day, counted = on, 0
    while counted < n:
        day += timedelta(days=1)
        if day.weekday() < 5:
            counted += 1
    return DueDate(day, True)


def deadline_on(db: Database, a: date, n: int, unit: str) -> date:
    """spec/time.md's deadline rule: ``add_days``, then for ``N`` the next working day."""
    due = add_days(db, a, n, unit)
    if _unit(unit) == "N" and n > 0:
        moved = _row(db, due, "next_workday")[0]
        if moved is None:
            raise GovwatchError(f"{due.isoformat()} 之后的工作日超出工作日历范围（至 2035-12-31）")
        return _as_date(moved)
    return due
