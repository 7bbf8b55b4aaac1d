"""A small, obviously-correct clock, written from spec/time.md alone: it walks day by day.

It shares nothing with the SQL views but the calendar's ``is_workday``/``provisional`` flags
and the event order ``(occurred_at, kind_order, event_id)``. Slow by design.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

ONE = timedelta(days=1)
STARTS = {"supplement_request": "supplement", "suspend": "suspension", "special_start": "special"}
ENDS = {"supplement_received": "supplement", "resume": "suspension", "special_end": "special"}


@dataclass(frozen=True)
class Day:
    workday: bool
    provisional: bool


def counts(cal: dict[date, Day], d: date, unit: str) -> bool:
    return unit == "N" or cal[d].workday


def days(cal: dict[date, Day], a: date, b: date, unit: str) -> int:
    """days(a, b): the days d of the unit with a < d <= b (negative when b < a)."""
    if b < a:
        return -days(cal, b, a, unit)
    n, d = 0, a + ONE
    while d <= b:
        n += counts(cal, d, unit)
        d += ONE
    return n


def deadline(cal: dict[date, Day], a: date, total: int, unit: str) -> date:
    if total == 0:
        return a
    d, n = a, 0
    while n < total:
        d += ONE
        n += counts(cal, d, unit)
    if unit == "N":
        while not cal[d].workday:
            d += ONE
    return d


def reference_clock(
    cal: dict[date, Day], item: dict[str, Any] | None, events: list[dict[str, Any]], at: datetime
) -> dict[str, Any] | None:
    """The case_clock row of one case at ``at`` (None when it has no accept by then)."""
    evs = sorted(
        (e for e in events if e["occurred_at"] <= at),
        key=lambda e: (e["occurred_at"], e["kind_order"], e["event_id"]),
    )
    accepts = [e for e in evs if e["kind"] == "accept"]
    if not accepts:
        return None
    accept = accepts[0]
    a = accept["occurred_at"].date()
    finish = next((e["occurred_at"] for e in evs if e["kind"] == "finish"), None)
    term = next((e["occurred_at"] for e in evs if e["kind"] in ("terminate", "reject")), None)
    if finish is not None and (term is None or finish <= term):
        status, end = "finished", finish
    elif term is not None:
        status, end = "terminated", term
    else:
        status, end = "open", None
    clock_on = max(end.date(), a) if end is not None else at.date()

    pauses: list[tuple[date, date, bool]] = []
    for i, e in enumerate(evs):
        kind = STARTS.get(e["kind"])
        if kind is None or (e["kind"] == "special_start" and e.get("procedure_kind") != "2"):
            continue
        close = next((x for x in evs[i + 1 :] if ENDS.get(x["kind"]) == kind), None)
        until = close["occurred_at"].date() if close else at.date()
        pauses.append((e["occurred_at"].date(), until, close is None))
    paused_now = status == "open" and any(open_ for *_, open_ in pauses)
    extension = sum(
        e.get("limit_days") or 0
        for e in evs
        if e["kind"] == "special_start" and e.get("procedure_kind") == "1"
    )

    def paused_days(unit: str) -> int:
        paused: set[date] = set()
        for s, u, _ in pauses:
            d = max(s, a) + ONE
            while d <= min(u, clock_on):
                if counts(cal, d, unit):
                    paused.add(d)
                d += ONE
        return len(paused)

    kind = accept.get("case_kind") or (item or {}).get("case_kind")
    row: dict[str, Any] = {"status": "paused" if paused_now else status, "accepted_on": a}
    last = clock_on
    for which in ("promised", "legal"):
        if item is None:
            limit, unit = None, None
        else:
            limit = item[f"{which}_limit"]
            if kind == "1":
                limit = 0 if which == "promised" else (limit or 0)
            unit = item[f"{which}_unit"]
        if limit is None or unit is None:
            row.update(
                {
                    f"{which}_deadline": None,
                    f"{which}_elapsed": None,
                    f"{which}_remaining": None,
                    f"{which}_overdue": False,
                }
            )
            continue
        p = paused_days(unit)
        due = deadline(cal, a, limit + extension + p, unit)
        elapsed = days(cal, a, clock_on, unit) - p
        overdue = status != "terminated" and clock_on > due
        row.update(
            {
                f"{which}_deadline": due,
                f"{which}_elapsed": elapsed,
                f"{which}_remaining": limit + extension - elapsed,
                f"{which}_overdue": overdue,
                f"{which}_days_late": max(1, days(cal, due, clock_on, unit)) if overdue else 0,
                f"paused_days_{which}": p,
            }
        )
        last = max(last, due)
    span = (a + timedelta(days=i) for i in range((last - a).days + 1))
    row["provisional"] = any(cal[d].provisional for d in span)
    return row
