"""Day counting on the calendar table, for Python callers (the clocks themselves run in SQL).

``days_between(db, a, b, unit)`` is spec/time.md's ``days(a, b)``: the days ``d`` of the unit with
``a < d ≤ b`` (negative when ``b`` is before ``a``). ``deadline_on`` is the earliest date ``D``
with ``days(A, D) = n``, moved to the next working day for natural days.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from govwatch.errors import GovwatchError, InputError
from govwatch.storage.db import Database

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


def is_provisional(db: Database, on: date) -> bool:
    return bool(_row(db, on, "provisional")[0])


def days_between(db: Database, a: date, b: date, unit: str) -> int:
    """``days(a, b)``: days of the unit after ``a`` up to and including ``b``."""
    return ordinal(db, b, unit) - ordinal(db, a, unit)


def add_days(db: Database, a: date, n: int, unit: str) -> date:
    """The earliest date ``D ≥ a`` with ``days(a, D) = n`` (``a`` itself when ``n`` is 0)."""
    if n < 0:
        raise InputError(f"天数 {n} 无效：应为不小于 0 的整数")
    if n == 0:
        return a
    column = _ordinal_column(unit)
    target = ordinal(db, a, unit) + n
    condition = "is_workday AND " if _unit(unit) == "W" else ""
    found = db.scalar(f"SELECT MIN(on_date) FROM calendar WHERE {condition}{column} = ?", [target])
    if found is None:
        raise GovwatchError(f"自 {a.isoformat()} 起 {n} 天超出工作日历范围（至 2035-12-31）")
    return found if isinstance(found, date) else date.fromisoformat(str(found))


def deadline_on(db: Database, a: date, n: int, unit: str) -> date:
    """spec/time.md's deadline rule: ``add_days``, then for ``N`` the next working day."""
    due = add_days(db, a, n, unit)
    if _unit(unit) == "N" and n > 0:
        moved = _row(db, due, "next_workday")[0]
        if moved is None:
            raise GovwatchError(f"{due.isoformat()} 之后的工作日超出工作日历范围（至 2035-12-31）")
        return moved if isinstance(moved, date) else date.fromisoformat(str(moved))
    return due
