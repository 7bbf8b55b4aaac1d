"""A case's clock drawn as a timeline: days (working and rest), steps, pauses, deadlines, alerts
(each where its anomaly arose), every label in Chinese.

Pure geometry: :func:`build_timeline` turns facts read from the database into positioned
shapes that ``case.html`` draws as inline SVG (no script needed, readable without colour:
every shape has a title and the same facts are listed in a table beside it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from govwatch.vocabulary import EVENT_KIND_NAMES, PAUSE_KIND_NAMES, label, level_name, rule_name

# A pause: the event that starts it -> (the event that ends it, what paused the clock).
PAUSES = {
    "supplement_request": ("supplement_received", PAUSE_KIND_NAMES["supplement"]),
    "special_start": ("special_end", PAUSE_KIND_NAMES["special"]),
    "suspend": ("resume", PAUSE_KIND_NAMES["suspension"]),
}
WIDTH = 960
LEFT = 8
MAX_DAYS = 400


@dataclass(frozen=True)
class Band:
    x: float
    width: float
    row: int
    label: str
    kind: str


@dataclass(frozen=True)
class Mark:
    x: float
    row: int
    label: str
    kind: str


@dataclass(frozen=True)
class Timeline:
    start: date
    days: int
    day_width: float
    rest: tuple[Band, ...]
    ticks: tuple[Mark, ...]
    bands: tuple[Band, ...]
    marks: tuple[Mark, ...]
    lines: tuple[Mark, ...]
    height: int


def _x(start: date, moment: date | datetime, day_width: float) -> float:
    if isinstance(moment, datetime):
        offset = (moment - datetime.combine(start, datetime.min.time())).total_seconds() / 86400
    else:
        offset = (moment - start).days
    return LEFT + offset * day_width


def build_timeline(
    events: Sequence[Mapping[str, Any]],
    deadlines: Mapping[str, date | None],
    rest_days: set[date] | None,
    alerts: Sequence[Mapping[str, Any]],
    at: datetime,
) -> Timeline | None:
    """Lay out a case: row 0 events, row 1 pauses, row 2 steps, row 3 alerts; None if no events."""
    if not events:
        return None
    first = min(e["occurred_at"] for e in events).date()
    ends = [max(e["occurred_at"] for e in events).date()]
    ends += [d for d in deadlines.values() if d is not None]
    finished = any(e["kind"] in ("finish", "terminate", "reject") for e in events)
    if not finished:
        ends.append(at.date())
    last = min(max(ends), first + timedelta(days=MAX_DAYS))
    days = (last - first).days + 2
    dw = (WIDTH - 2 * LEFT) / days
    rest: list[Band] = []
    ticks: list[Mark] = []
    for i in range(days):
        day = first + timedelta(days=i)
        is_rest = day in rest_days if rest_days is not None else day.weekday() >= 5
        if is_rest:
            rest.append(Band(_x(first, day, dw), dw, 0, f"{day.isoformat()} 休息日", "rest"))
        if days <= 31 or day.day in (1, 11, 21):
            ticks.append(Mark(_x(first, day, dw), 0, f"{day.month}/{day.day}", "tick"))
    bands: list[Band] = []
    marks: list[Mark] = []
    open_pause: dict[str, datetime] = {}
    open_step: dict[str, datetime] = {}
    end_at = max(e["occurred_at"] for e in events) if finished else at
    for e in events:
        kind, moment = str(e["kind"]), e["occurred_at"]
        marks.append(
            Mark(
                _x(first, moment, dw),
                0,
                f"{moment:%Y-%m-%d %H:%M} {label(EVENT_KIND_NAMES, kind)}"
                + (f"：{e['step']}" if e.get("step") else ""),
                kind,
            )
        )
        if kind in PAUSES:
            open_pause[kind] = moment
        for start_kind, (end_kind, name) in PAUSES.items():
            if kind == end_kind and start_kind in open_pause:
                began = open_pause.pop(start_kind)
                bands.append(
                    Band(
                        _x(first, began, dw),
                        max(2.0, _x(first, moment, dw) - _x(first, began, dw)),
                        1,
                        f"{name} {began:%m-%d}–{moment:%m-%d}",
                        "pause",
                    )
                )
        if kind == "step_start" and e.get("step"):
            open_step[str(e["step"])] = moment
        if kind == "step_end" and e.get("step") and str(e["step"]) in open_step:
            began = open_step.pop(str(e["step"]))
            bands.append(
                Band(
                    _x(first, began, dw),
                    max(2.0, _x(first, moment, dw) - _x(first, began, dw)),
                    2,
                    f"环节 {e['step']} {began:%m-%d}–{moment:%m-%d}",
                    "step",
                )
            )
    for start_kind, began in open_pause.items():
        bands.append(
            Band(
                _x(first, began, dw),
                max(2.0, _x(first, end_at, dw) - _x(first, began, dw)),
                1,
                f"{PAUSES[start_kind][1]} {began:%m-%d} 起（未结束）",
                "pause open",
            )
        )
    for step, began in open_step.items():
        bands.append(
            Band(
                _x(first, began, dw),
                max(2.0, _x(first, end_at, dw) - _x(first, began, dw)),
                2,
                f"环节 {step} {began:%m-%d} 起（进行中）",
                "step open",
            )
        )
    lines = [
        Mark(_x(first, d + timedelta(days=1), dw), 0, f"{name} {d.isoformat()}", key)
        for key, name in (("promised", "承诺期限"), ("legal", "法定期限"))
        if (d := deadlines.get(key)) is not None and d <= last + timedelta(days=1)
    ]
    lines.append(Mark(_x(first, at, dw), 0, f"当前 {at:%Y-%m-%d %H:%M}", "now"))
    for a in alerts:
        # placed when the anomaly arose (the deadline passed, the event happened), or, for an
        # alert without that moment, when govwatch found it
        arose, seen = a.get("occurred_at"), a.get("first_seen_at")
        when, what = (arose, "异常发生") if isinstance(arose, datetime) else (seen, "发现")
        if isinstance(when, datetime):
            name = f"{rule_name(str(a['rule']))}（{level_name(a['level'])}）"
            marks.append(
                Mark(
                    _x(first, when, dw),
                    3,
                    f"{when:%Y-%m-%d %H:%M} {what} {name}",
                    f"alert {a['level']}",
                )
            )
    return Timeline(
        first, days, dw, tuple(rest), tuple(ticks), tuple(bands), tuple(marks), tuple(lines), 150
    )
