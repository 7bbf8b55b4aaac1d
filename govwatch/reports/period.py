"""Report periods: ``YYYY-MM``, ``YYYY-Qn``, ``YYYY`` or ``FROM..TO`` (dates ``YYYY-MM-DD``).

A period is whole days, both ends included. Its previous period is the one of the same length
just before it: the month, quarter or year before, or for a range the same number of days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from govwatch.errors import InputError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
FORMS = "YYYY-MM（月）、YYYY-Qn（季度）、YYYY（年）或 YYYY-MM-DD..YYYY-MM-DD（日期范围）"


class PeriodError(InputError, ValueError):
    """A period that cannot be read; the message says what was expected, in Chinese."""


@dataclass(frozen=True)
class ReportPeriod:
    kind: str  # "month" | "quarter" | "year" | "range"
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        """The period as the notice names it: 2026年6月, 2026年第二季度, 2026年, or a range."""
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "quarter":
            q = "一二三四"[(self.start.month - 1) // 3]
            return f"{self.start.year}年第{q}季度"
        if self.kind == "year":
            return f"{self.start.year}年"
        return f"{cn_date(self.start)}至{cn_date(self.end)}"

    @property
    def code(self) -> str:
        """The period as typed: 2026-06, 2026-Q2, 2026, 2026-06-01..2026-06-15."""
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def previous(self) -> ReportPeriod:
        """The period of the same length just before this one."""
        if self.kind == "month":
            end = self.start - timedelta(days=1)
            return ReportPeriod("month", end.replace(day=1), end)
        if self.kind == "quarter":
            end = self.start - timedelta(days=1)
            return ReportPeriod("quarter", date(end.year, end.month - 2, 1), end)
        if self.kind == "year":
            y = self.start.year - 1
            return ReportPeriod("year", date(y, 1, 1), date(y, 12, 31))
        end = self.start - timedelta(days=1)
        return ReportPeriod("range", end - timedelta(days=self.days - 1), end)


def cn_date(d: date) -> str:
    """2026年7月1日 (GB/T 9704-2012 writes dates in Arabic numerals, without leading zeros)."""
    return f"{d.year}年{d.month}月{d.day}日"


def _month_end(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)


def parse_period(text: str) -> ReportPeriod:
    """Read a period; a bad one raises :class:`PeriodError` with a Chinese message."""
    value = (text or "").strip()
    try:
        if m := _MONTH.match(value):
            year, month = int(m[1]), int(m[2])
            if not 1 <= month <= 12:
                raise PeriodError(
                    f"统计期间“{value}”的月份应为 01 至 12，实为 {m[2]}；应为 {FORMS}"
                )
            return ReportPeriod("month", date(year, month, 1), _month_end(year, month))
        if m := _QUARTER.match(value):
            year, q = int(m[1]), int(m[2])
            start = date(year, 3 * q - 2, 1)
            return ReportPeriod("quarter", start, _month_end(year, 3 * q))
        if m := _YEAR.match(value):
            year = int(m[1])
            return ReportPeriod("year", date(year, 1, 1), date(year, 12, 31))
        if m := _RANGE.match(value):
            try:
                start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            except ValueError:
                raise PeriodError(f"统计期间“{value}”含不存在的日期；应为 {FORMS}") from None
            if end < start:
                raise PeriodError(f"统计期间“{value}”的结束日期早于开始日期；应为 {FORMS}")
            return ReportPeriod("range", start, end)
    except PeriodError:
        raise
    except ValueError:
        pass
    raise PeriodError(
        f"无法识别统计期间“{value}”；应为 {FORMS}，例如 2026-06、2026-Q2、2026 或 2026-06-01..2026-06-15"
    )
