"""The working-day calendar the generator plans its cases on (spec/time.md).

Days are integers: the index of a date counted from :data:`EPOCH`. Working days come from the
``chinesecalendar`` package (the State Council notices for 2004–2026), so generated cases fall
on the same working days the supervision calendar uses.

Every event of a generated case lies on a working day, so most arithmetic is done on
*ordinals*: the position of a working day in the list of working days. For unit ``W`` the
number of days between two working days is the difference of their ordinals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

from govwatch.errors import InputError

EPOCH = date(2024, 12, 1)
LAST = date(2026, 12, 31)


@dataclass(frozen=True)
class WorkCalendar:
    """Working days between :data:`EPOCH` and :data:`LAST`, with cumulative counts.

    ``cum[i]`` is the number of working days with index ``<= i``; ``workdays[k]`` is the day
    index of working-day ordinal ``k``; ``iso[i]`` and ``compact[i]`` are the date as text.
    """

    is_work: tuple[bool, ...]
    cum: tuple[int, ...]
    workdays: tuple[int, ...]
    iso: tuple[str, ...]
    compact: tuple[str, ...]

    @property
    def last_index(self) -> int:
        return len(self.is_work) - 1

    def index(self, day: date) -> int:
        idx = (day - EPOCH).days
        if not 0 <= idx <= self.last_index:
            raise InputError(f"日期 {day} 超出生成器日历范围（{EPOCH} 至 {LAST}）")
        return idx

    def ordinal(self, idx: int) -> int:
        """Ordinal of a working day (for a rest day: of the last working day before it)."""
        return self.cum[idx] - 1

    def next_ordinal(self, idx: int) -> int:
        """Ordinal of the first working day on or after day ``idx``."""
        return self.cum[idx] - 1 if self.is_work[idx] else self.cum[idx]

    def days(self, start: int, end: int, unit: str) -> int:
        """``days(a, b)`` of spec/time.md: days ``d`` of the unit with ``a < d <= b``."""
        if unit == "W":
            return self.cum[end] - self.cum[start]
        return end - start

    def deadline(self, accepted: int, limit: int, unit: str) -> int:
        """Day index of the deadline for ``limit`` days (pauses already added) from ``accepted``."""
        if limit == 0:
            return accepted
        if unit == "W":
            return self.workdays[self.cum[accepted] + limit - 1]
        day = accepted + limit
        while not self.is_work[day]:
            day += 1
        return day

    def deadline_ordinal(self, accepted_ordinal: int, limit: int, unit: str) -> int:
        """The deadline of a case accepted on a working day, as a working-day ordinal."""
        if unit == "W":
            return accepted_ordinal + limit
        return self.ordinal(self.deadline(self.workdays[accepted_ordinal], limit, unit))

    def natural_days(self, start_ordinal: int, end_ordinal: int) -> int:
        return self.workdays[end_ordinal] - self.workdays[start_ordinal]


def build_calendar(first: date = EPOCH, last: date = LAST) -> WorkCalendar:
    """Read the official calendar for ``first``..``last`` (both must be covered years)."""
    if first != EPOCH:
        raise InputError(f"生成器日历应从 {EPOCH} 开始")
    n = (last - first).days + 1
    is_work: list[bool] = []
    cum: list[int] = []
    workdays: list[int] = []
    iso: list[str] = []
    compact: list[str] = []
    count = 0
    for i in range(n):
        day = first + timedelta(days=i)
        try:
            working = bool(chinese_calendar.is_workday(day))
        except NotImplementedError as exc:
            raise InputError(
                f"chinesecalendar 未覆盖 {day.year} 年，生成窗口应在已发布通知的年份内"
            ) from exc
        if working:
            count += 1
            workdays.append(i)
        is_work.append(working)
        cum.append(count)
        text = day.isoformat()
        iso.append(text)
        compact.append(text.replace("-", ""))
    return WorkCalendar(tuple(is_work), tuple(cum), tuple(workdays), tuple(iso), tuple(compact))
