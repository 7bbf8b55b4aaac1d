"""The periods of the public disclosure: a month (``2026-06``), a quarter (``2026-Q2``) or a
year (``2026``), each with a stable code that the open data addresses use.

Only complete periods are published: a period's figures are shown from the day after it ends,
so that a download's address always answers the same numbers (the clock is the caller's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from govwatch.errors import InputError

KIND_NAMES = {"month": "月度", "quarter": "季度", "year": "年度"}
QUARTER_NAMES = ("一", "二", "三", "四")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
FIRST_YEAR = 2000
EXPECTED = "应为月（如 2026-06）、季度（如 2026-Q2）或年（如 2026）"


class PeriodError(InputError):
    """A period the public pages cannot show; the message says why, in Chinese."""


@dataclass(frozen=True)
class PublicPeriod:
    kind: str  # month | quarter | year
    code: str  # 2026-06 | 2026-Q2 | 2026
    start: date
    end: date  # the last day, included

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "quarter":
            return f"{self.start.year}年第{QUARTER_NAMES[(self.start.month - 1) // 3]}季度"
        return f"{self.start.year}年"

    @property
    def dates(self) -> str:
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"


def _last_day(year: int, month: int) -> date:
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def month(year: int, number: int) -> PublicPeriod:
    return PublicPeriod(
        "month", f"{year:04d}-{number:02d}", date(year, number, 1), _last_day(year, number)
    )


def quarter(year: int, number: int) -> PublicPeriod:
    first = 3 * (number - 1) + 1
    return PublicPeriod(
        "quarter", f"{year:04d}-Q{number}", date(year, first, 1), _last_day(year, first + 2)
    )


def year(number: int) -> PublicPeriod:
    return PublicPeriod("year", f"{number:04d}", date(number, 1, 1), date(number, 12, 31))


def parse_period(text: str) -> PublicPeriod:
    """``2026-06`` / ``2026-Q2`` / ``2026`` → the period; anything else refused in Chinese."""
    value = text.strip()
    found = _MONTH.match(value) or _QUARTER.match(value) or _YEAR.match(value)
    if found is None or int(found.group(1)) < FIRST_YEAR:
        raise PeriodError(f"统计期间“{text}”无效：{EXPECTED}，年份不早于 {FIRST_YEAR} 年")
    number = int(found.group(1))
    if found.re is _MONTH:
        return month(number, int(found.group(2)))
    if found.re is _QUARTER:
        return quarter(number, int(found.group(2)))
    return year(number)


def require_complete(period: PublicPeriod, today: date) -> PublicPeriod:
    """The period, if it has ended before ``today``; else refused (its figures still change)."""
    if period.end >= today:
        raise PeriodError(
            f"统计期间“{period.label}”尚未结束：公开数据自期间结束后的次日（"
            f"{(period.end + timedelta(days=1)).isoformat()}）起提供"
        )
    return period


def latest_month(today: date) -> PublicPeriod:
    """The latest complete month before ``today`` (the page's default)."""
    last = today.replace(day=1) - timedelta(days=1)
    return month(last.year, last.month)


def recent_periods(
    today: date, months: int = 24, quarters: int = 8, years: int = 5
) -> list[PublicPeriod]:
    """The complete periods the selector offers, latest first: months, quarters, years."""
    out: list[PublicPeriod] = []
    current = latest_month(today)
    for _ in range(months):
        out.append(current)
        before = current.start - timedelta(days=1)
        current = month(before.year, before.month)
    q = quarter(today.year, (today.month - 1) // 3 + 1)
    for _ in range(quarters):
        before = q.start - timedelta(days=1)
        q = quarter(before.year, (before.month - 1) // 3 + 1)
        out.append(q)
    out.extend(year(today.year - k) for k in range(1, years + 1))
    return [p for p in out if p.start.year >= FIRST_YEAR]
