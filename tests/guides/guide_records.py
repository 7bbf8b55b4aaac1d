"""A hand-written catalog record whose guide publishes every element right, and case events.

``record(**changes)`` is the 食品经营许可-like item ``T0001`` (行政许可, applied for): three steps,
two materials (a form with its blank form and sample, and an ID card), a fee of 50 元, promised
10 working days of a legal 20. ``guide(record)`` is its guide; tests change one thing each.
``case(...)`` writes one case's events on working days of March 2025 (no holiday in it).
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

import chinese_calendar

STEPS = [
    {"name": "受理", "limit": 1, "unit": "W", "mandatory": True},
    {"name": "审查", "limit": 3, "unit": "W", "mandatory": True},
    {"name": "决定", "limit": 2, "unit": "W", "mandatory": True},
]
MATERIALS = [
    {"name": "申请表", "required": True, "originals": 1, "copies": 0},
    {"name": "居民身份证", "required": True, "originals": 1, "copies": 1},
]
FEE = {"basis": "《食品经营许可收费标准》", "amount": 50.0}

GUIDE: dict[str, Any] = {
    "published": True,
    "url": "https://zwfw.example.test/guide/T0001.html",
    "name": "测试许可",
    "item_code": "T0001",
    "base_code": "010001000",
    "item_type": "01",
    "basis": "《中华人民共和国行政许可法》",
    "department": "测试市市场监督管理局",
    "level": "4",
    "conditions": "符合《中华人民共和国行政许可法》规定的条件",
    "legal_limit": 20,
    "legal_limit_unit": "W",
    "promised_limit": 10,
    "promised_limit_unit": "W",
    "place": "测试市政务服务中心",
    "hours": "工作日 09:00-12:00，13:30-17:30",
    "phone": "0571-87001234",
    "complaint_phone": "12345",
    "materials": [
        {"name": "申请表", "required": True, "originals": 1, "copies": 0,
         "form": {"url": "/downloads/T0001/1-form.docx", "status": 200},
         "sample": {"url": "/downloads/T0001/1-sample.pdf", "status": 200}},
        {"name": "居民身份证", "required": True, "originals": 1, "copies": 1},
    ],
    "process": [{"name": "受理", "limit": 1, "unit": "W"}, {"name": "审查", "limit": 3, "unit": "W"},
                {"name": "决定", "limit": 2, "unit": "W"}],
    "fee": {"charged": True, **FEE},
    "online_depth": 4,
    "online_url": "https://zwfw.example.test/online/T0001",
}  # fmt: skip


def record(code: str = "T0001", **changes: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "item_code": code, "base_code": "010001000", "name": "测试许可", "item_type": "01",
        "department_code": "DEPT1", "department_name": "测试市市场监督管理局",
        "region_code": "330102", "level": "4", "case_kind": "2",
        "legal_limit": 20, "legal_limit_unit": "W", "promised_limit": 10,
        "promised_limit_unit": "W", "steps": copy.deepcopy(STEPS),
        "materials": copy.deepcopy(MATERIALS), "fee": dict(FEE),
        "guide": {**copy.deepcopy(GUIDE), "item_code": code},
    }  # fmt: skip
    rec.update(changes)
    return rec


def workday(n: int, start: date = date(2025, 3, 3)) -> date:
    """The ``n``-th working day after ``start`` (a Monday; ``n`` = 0 is ``start``)."""
    day = start
    while n > 0:
        day += timedelta(days=1)
        if chinese_calendar.is_workday(day):
            n -= 1
    return day


def _at(day: date, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00+08:00"


def case(
    case_id: str,
    code: str = "T0001",
    *,
    materials: tuple[str, ...] = ("申请表", "居民身份证"),
    steps: tuple[str, ...] = ("受理", "审查", "决定"),
    paid: float | None = 50.0,
    finish_day: int | None = 5,
    pause: tuple[int, int] | None = None,
) -> list[dict[str, Any]]:
    """A case accepted on working day 0; steps one a day from day 1 (step ``i`` on day
    ``1 + i``, started at 09:00 and passed at 10:00), an optional supplement pause from day
    ``pause[0]`` to ``pause[1]``, a payment and a finish on ``finish_day`` (None: still open)."""
    events: list[dict[str, Any]] = []

    def add(kind: str, when: str, **fields: Any) -> None:
        events.append({"event_id": f"{case_id}-{len(events):02d}", "case_id": case_id,
                       "kind": kind, "occurred_at": when, **fields})  # fmt: skip

    add("apply", _at(workday(0), 9), item_code=code, applicant_type="1", channel="1",
        materials=[{"name": m, "provided": True} for m in materials])  # fmt: skip
    add("accept", _at(workday(0), 10), item_code=code, case_kind="2", actor="C01")
    for i, step in enumerate(steps):
        add("step_start", _at(workday(1 + i), 9), step=step, actor="S01")
        add("step_end", _at(workday(1 + i), 10), step=step, action="pass", actor="S01")
    if pause is not None:
        add("supplement_request", _at(workday(pause[0]), 15), materials=["居民身份证"])
        add("supplement_received", _at(workday(pause[1]), 15), materials=["居民身份证"])
    if finish_day is not None:
        if paid is not None:
            add("payment", _at(workday(finish_day), 11), amount=paid, fee_item="许可费")
        add("finish", _at(workday(finish_day), 16), result="6", actor="S02")
    events.sort(key=lambda e: e["occurred_at"])
    return events
