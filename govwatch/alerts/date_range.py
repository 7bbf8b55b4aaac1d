"""Date ranges typed by people (lists, the dashboard): read once, refused in Chinese when wrong.

A range is two whole days, both included. An unparseable date, a start after the end, or (where
the caller limits it: the dashboard) a range longer than a year is refused with a
:class:`DateRangeError` saying what was typed and what is expected; it is never replaced by a
default without a word. Pages show the message above the form (status 422), the JSON faces
answer 422 ``{"detail": message}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from govwatch.errors import InputError


class DateRangeError(InputError):
    """A typed date range that cannot be used; the message says why, in Chinese."""


@dataclass(frozen=True)
class DateRange:
    first: date | None
    last: date | None

    @property
    def days(self) -> int | None:
        """How many days the range covers (both ends included); None when open-ended."""
        if self.first is None or self.last is None:
            return None
        return (self.last - self.first).days + 1


def parse_day(text: str | None, what: str) -> date | None:
    """``2025-10-09`` → a date; empty → None; anything else refused naming the field."""
    value = (text or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DateRangeError(
            f"{what}“{value}”不是有效日期：应为 年-月-日，例如 2025-10-09"
        ) from None


def one_year_after(day: date) -> date:
    """The same date a year later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def parse_range(
    first_text: str | None,
    last_text: str | None,
    *,
    first_name: str = "起始日期",
    last_name: str = "截止日期",
    within_year: bool = False,
) -> DateRange:
    """The days typed as ``first_text`` … ``last_text`` (either may be empty: open-ended).

    ``within_year``: the end may be at most one year after the start (the same date a year
    later), and both must be given.
    """
    first = parse_day(first_text, first_name)
    last = parse_day(last_text, last_name)
    if first is not None and last is not None and first > last:
        raise DateRangeError(
            f"{first_name} {first.isoformat()} 晚于{last_name} {last.isoformat()}："
            f"请把{first_name}改为不晚于{last_name}的日期"
        )
    if within_year and first is not None and last is not None and last > one_year_after(first):
        raise DateRangeError(
            f"日期范围 {first.isoformat()} 至 {last.isoformat()} 共 {(last - first).days + 1} 天，"
            f"超过一年：请缩小到一年以内（至多到 {one_year_after(first).isoformat()}）"
        )
    return DateRange(first, last)
