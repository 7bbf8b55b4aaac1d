"""Whether this year and next have their holiday notice: what the banner, the reminder and
``govwatch doctor`` ask.

The State Council publishes next year's notice in October to December. From the reminder day
(1 November unless ``GOVWATCH_CALENDAR_REMIND_FROM`` says ``MM-DD``) a database without next
year's notice needs action: every deadline that reaches into the year will be provisional
(weekends only) from 1 January. A year is

- ``official``: a notice covers it (the packaged official data, a loaded notice or CSV),
- ``provisional``: inside the calendar table but no notice (weekends are the only rest days),
- ``missing``: outside the calendar table (2000–2035): no date of it can be counted at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from govwatch.calendar.build import FIRST_DAY, LAST_DAY
from govwatch.errors import InputError
from govwatch.storage import Database

REMIND_ENV = "GOVWATCH_CALENDAR_REMIND_FROM"
DEFAULT_REMIND_FROM = "11-01"

State = Literal["official", "provisional", "missing"]
STATE_NAMES: dict[str, str] = {"official": "已导入", "provisional": "暂定", "missing": "缺失"}


def remind_from(year: int) -> date:
    """The day of ``year`` from which next year's missing notice is reported."""
    text = os.environ.get(REMIND_ENV, "").strip() or DEFAULT_REMIND_FROM
    try:
        month, day = (int(part) for part in text.split("-"))
        return date(year, month, day)
    except ValueError:
        raise InputError(
            f"环境变量 {REMIND_ENV}=“{text}”无效：应为 MM-DD（月-日），如 11-01"
        ) from None


def source_label(source: str | None) -> str:
    """Where a year's notice came from, for people: ``notice:notice-2027.txt`` → 通知全文 …"""
    if source is None or source == "provisional":
        return "无（仅按周末计算）"
    if source == "official":
        return "国务院通知（随系统发布）"
    kind, _, name = source.partition(":")
    return {"notice": f"通知全文 {name}", "file": f"CSV 文件 {name}"}.get(kind, source)


@dataclass(frozen=True)
class YearCoverage:
    year: int
    state: State
    source: str | None  # where the notice came from (official, notice:FILE, file:FILE)

    @property
    def state_name(self) -> str:
        return STATE_NAMES[self.state]

    @property
    def source_name(self) -> str:
        return source_label(self.source)

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "state": self.state, "source": self.source}


@dataclass(frozen=True)
class CalendarCoverage:
    """This year's and next year's notice, as of ``today``."""

    today: date
    this_year: YearCoverage
    next_year: YearCoverage
    remind_from: date

    @property
    def missing_years(self) -> list[int]:
        """The years whose notice is wanted now: this year always, next from the reminder day."""
        years = [self.this_year] if self.this_year.state != "official" else []
        if self.today >= self.remind_from and self.next_year.state != "official":
            years.append(self.next_year)
        return [y.year for y in years]

    @property
    def needs_action(self) -> bool:
        return bool(self.missing_years)

    def message(self) -> str:
        """One line: what is covered, or which notice to load and why."""
        if not self.needs_action:
            upcoming = (
                f"，{self.next_year.year} 年{self.next_year.state_name}"
                if self.next_year.state == "official" or self.today >= self.remind_from
                else f"（{self.next_year.year} 年的通知自 {self.remind_from.isoformat()} 起提醒）"
            )
            return f"节假日安排：{self.this_year.year} 年已导入{upcoming}"
        years = "、".join(str(y) for y in self.missing_years)
        if self.this_year.year in self.missing_years:
            why = "本年涉及的期限只按周末计算，均为暂定"
        else:
            why = f"自 {self.next_year.year} 年 1 月 1 日起，涉及该年的期限只按周末计算，均为暂定"
        return (
            f"{years} 年节假日安排尚未导入：{why}；请导入国务院办公厅节假日安排通知"
            "（govwatch calendar load --notice 文件，或网页“工作日历”）"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "this_year": self.this_year.to_dict(),
            "next_year": self.next_year.to_dict(),
            "remind_from": self.remind_from.isoformat(),
            "missing_years": self.missing_years,
            "needs_action": self.needs_action,
            "message": self.message(),
        }


def year_coverage(db: Database, year: int) -> YearCoverage:
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        return YearCoverage(year, "missing", None)
    source = db.scalar("SELECT source FROM calendar_years WHERE year = ?", [year])
    if source is not None:
        return YearCoverage(year, "official", str(source))
    return YearCoverage(year, "provisional", None)


def calendar_coverage(db: Database, today: date) -> CalendarCoverage:
    """This year and next: official, provisional or missing, and whether to act now.

    ``govwatch doctor`` prints :meth:`CalendarCoverage.message` and fails while
    :attr:`CalendarCoverage.needs_action`.
    """
    return CalendarCoverage(
        today=today,
        this_year=year_coverage(db, today.year),
        next_year=year_coverage(db, today.year + 1),
        remind_from=remind_from(today.year),
    )
