"""Building items and events directly in the tables, for clock tests (no importer needed)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from govwatch.events.fields import KIND_ORDER
from govwatch.storage import Database

_EVENT_COLUMNS = (
    "event_id",
    "case_id",
    "item_code",
    "kind",
    "kind_order",
    "occurred_at",
    "case_kind",
    "step",
    "procedure_kind",
    "procedure_type",
    "limit_days",
    "limit_unit",
    "result",
)
_ids = itertools.count(1)


def add_item(
    db: Database,
    item_code: str,
    *,
    promised: tuple[int | None, str] = (20, "W"),
    legal: tuple[int | None, str] = (20, "W"),
    case_kind: str = "2",
    steps: Iterable[tuple[str, int | None, str]] = (),
) -> None:
    db.execute(
        "INSERT INTO items (item_code, name, department_code, region_code, case_kind, "
        "legal_limit, legal_limit_unit, promised_limit, promised_limit_unit, doc) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            item_code,
            f"事项{item_code}",
            "D1",
            "330100",
            case_kind,
            legal[0],
            legal[1],
            promised[0],
            promised[1],
            "{}",
        ],
    )
    for seq, (name, limit, unit) in enumerate(steps, start=1):
        db.execute(
            "INSERT INTO item_steps (item_code, seq, name, limit_days, unit) "
            "VALUES (?, ?, ?, ?, ?)",
            [item_code, seq, name, limit, unit],
        )


def event(case_id: str, kind: str, at: str | datetime, **fields: Any) -> dict[str, Any]:
    occurred = at if isinstance(at, datetime) else datetime.fromisoformat(at)
    row = {
        "event_id": f"e{next(_ids):08d}",
        "case_id": case_id,
        "kind": kind,
        "kind_order": KIND_ORDER[kind],
        "occurred_at": occurred,
    }
    row.update(fields)
    return row


def add_events(db: Database, rows: Iterable[Mapping[str, Any]]) -> None:
    values = [[r.get(c) for c in _EVENT_COLUMNS] for r in rows]
    marks = ", ".join("?" for _ in _EVENT_COLUMNS)
    db.executemany(f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)}) VALUES ({marks})", values)
