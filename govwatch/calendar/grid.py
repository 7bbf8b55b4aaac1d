"""A year as twelve month grids (weeks from Monday), for the calendar page and its preview.

Each day is one of ``workday``, ``weekend``, ``holiday`` (a rest day a notice names) or
``makeup_workday`` (a weekend day a notice makes a working day), the kinds of
:func:`govwatch.calendar.store.show`, with the festival's name. The same grid shows a year as
stored and a notice before it is saved (:func:`notice_kinds`), so the administrator compares
like with like.
"""

from __future__ import annotations

import calendar as pycalendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from govwatch.calendar.notice import HOLIDAY, NoticeDay

Kinds = Mapping[date, tuple[str, str | None]]  # date -> (kind, festival name)


@dataclass(frozen=True)
class Day:
    on: date
    kind: str
    name: str | None
    changed: bool = False  # differs from the calendar as stored (preview only)

    @property
    def rest(self) -> bool:
        return self.kind in ("holiday", "weekend")


@dataclass(frozen=True)
class Span:
    """A run of consecutive days of one kind and festival: 1月1日–3日 元旦 放假."""

    first: date
    last: date
    kind: str
    name: str | None

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    weeks: list[list[Day | None]]  # Monday first; None pads the first and last week
    spans: list[Span]  # the month's named days (holidays, make-up working days), in order


def plain_kind(on: date) -> str:
    return "weekend" if on.weekday() >= 5 else "workday"


def notice_kinds(days: Iterable[NoticeDay]) -> dict[date, tuple[str, str | None]]:
    """The kinds a notice gives the dates it names."""
    out: dict[date, tuple[str, str | None]] = {}
    for d in days:
        if d.day_type == HOLIDAY:
            out[d.on_date] = ("holiday", d.name)
        else:
            kind = "makeup_workday" if d.on_date.weekday() >= 5 else "workday"
            out[d.on_date] = (kind, d.name)
    return out


def year_grid(year: int, kinds: Kinds, stored: Kinds | None = None) -> list[Month]:
    """Twelve months of ``year``; days not in ``kinds`` are weekdays or weekends.

    ``stored``: the kinds as the calendar holds them now, to mark the days a load would change.
    """
    months = []
    for month in range(1, 13):
        weeks: list[list[Day | None]] = []
        for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            row: list[Day | None] = []
            for on in week:
                if on.month != month:
                    row.append(None)
                    continue
                kind, name = kinds.get(on, (plain_kind(on), None))
                before = (stored.get(on, (plain_kind(on), None))[0]) if stored is not None else kind
                row.append(Day(on, kind, name, changed=_rest(before) != _rest(kind)))
            weeks.append(row)
        months.append(Month(year, month, weeks, _spans(year, month, kinds)))
    return months


def _rest(kind: str) -> bool:
    return kind in ("holiday", "weekend")


def _spans(year: int, month: int, kinds: Kinds) -> list[Span]:
    named = sorted(
        (on, kind, name)
        for on, (kind, name) in kinds.items()
        if on.year == year and on.month == month and kind in ("holiday", "makeup_workday")
    )
    spans: list[Span] = []
    for on, kind, name in named:
        last = spans[-1] if spans else None
        if last and last.kind == kind and last.name == name and last.last + timedelta(1) == on:
            spans[-1] = Span(last.first, on, kind, name)
        else:
            spans.append(Span(on, on, kind, name))
    return spans
