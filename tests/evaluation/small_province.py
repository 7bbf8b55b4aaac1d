"""A small hand-made province for metric tests: three items, five cases, ratings, alerts.

Period: October 2025, measured at 2025-11-30. Expected values are worked out by hand in
test_eval_metrics.py from the facts listed here.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from govwatch.evaluation.metrics.supply import Period
from govwatch.events.ingest import import_events
from govwatch.items.ingest import import_catalog
from govwatch.storage import Database

PERIOD = Period(date(2025, 10, 1), date(2025, 10, 31), datetime(2025, 11, 30))


def _item(code: str, region: str, dept: str, depth: int, **kw: Any) -> dict[str, Any]:
    online = {
        "depth": depth,
        "unified_identity": kw.pop("identity", False),
        "e_license": kw.pop("e_license", False),
        "online_payment": kw.pop("pay", False),
        "delivery": False,
        "max_visits": kw.pop("visits", 1),
    }
    return {
        "item_code": code,
        "name": f"事项{code}",
        "item_type": kw.pop("item_type", "01"),
        "department_code": dept,
        "region_code": region,
        "case_kind": kw.pop("kind", "2"),
        "legal_limit": kw.pop("legal", 20),
        "promised_limit": kw.pop("promised", 10),
        "online": online,
        **kw,
    }


ITEMS = [
    # 330102 / D1: A1 depth 5, identity, e-licence, free, 0 visits, 20 → 10 W
    _item("A1", "330102", "D1", 5, identity=True, e_license=True, visits=0),
    # 330102 / D1: A2 depth 3, identity, fee paid online, 1 visit, 20 → 15 W
    _item(
        "A2",
        "330102",
        "D1",
        3,
        identity=True,
        pay=True,
        visits=1,
        promised=15,
        fee={"basis": "规定", "amount": 50.0},
    ),
    # 330203 / D2: B1 (公共服务, type 20) depth 4, instant, fee not payable online, 2 visits, 0 → 0
    _item(
        "B1",
        "330203",
        "D2",
        4,
        item_type="20",
        visits=2,
        kind="1",
        legal=0,
        promised=0,
        fee={"basis": "规定", "amount": 10.0},
    ),
]


def _ev(eid: str, case: str, kind: str, at: str, **kw: Any) -> dict[str, Any]:
    return {"event_id": eid, "case_id": case, "kind": kind, "occurred_at": at, **kw}


EVENTS = [
    # c1: A1 online (PC), accepted and finished on time in October, rated 非常满意
    _ev("c1a", "c1", "apply", "2025-10-09T09:00:00", item_code="A1", channel="2"),
    _ev("c1b", "c1", "accept", "2025-10-09T10:00:00", item_code="A1"),
    _ev("c1c", "c1", "finish", "2025-10-10T10:00:00", result="6"),
    _ev("c1r", "c1", "rating", "2025-10-10T11:00:00", level="1", channel="PC端"),
    # c2: A1 at the window, applied in September, finished late on 20 October, rated 非常不满意
    _ev("c2a", "c2", "apply", "2025-09-01T09:00:00", item_code="A1", channel="1"),
    _ev("c2b", "c2", "accept", "2025-09-01T10:00:00", item_code="A1"),
    _ev("c2c", "c2", "finish", "2025-10-20T10:00:00", result="6"),
    _ev("c2r", "c2", "rating", "2025-10-21T09:00:00", level="5", channel="短信"),
    # c3: A2 on mobile, open, rated 不满意 on 13 October
    _ev("c3a", "c3", "apply", "2025-10-10T09:00:00", item_code="A2", channel="3"),
    _ev("c3b", "c3", "accept", "2025-10-10T10:00:00", item_code="A2"),
    _ev("c3r", "c3", "rating", "2025-10-13T09:00:00", level="4", channel="移动端"),
    # c4: B1 online, instant, finished the same day, rated 满意
    _ev("c4a", "c4", "apply", "2025-10-15T09:00:00", item_code="B1", channel="2"),
    _ev("c4b", "c4", "accept", "2025-10-15T09:30:00", item_code="B1"),
    _ev("c4c", "c4", "finish", "2025-10-15T11:00:00", result="0", license_no="L1"),
    _ev("c4r", "c4", "rating", "2025-10-15T12:00:00", level="2", channel="PC端"),
    # c5: B1 at the window, instant, finished a day late
    _ev("c5a", "c5", "apply", "2025-10-16T09:00:00", item_code="B1", channel="1"),
    _ev("c5b", "c5", "accept", "2025-10-16T09:30:00", item_code="B1"),
    _ev("c5c", "c5", "finish", "2025-10-17T11:00:00", result="0", license_no="L2"),
]

# (alert_id, case_id, rule, class, level)
ALERTS = [
    ("al1", "c2", "case_overdue", "timeliness", "red"),
    ("al2", "c2", "repeated_supplement", "process", "yellow"),
    ("al3", "c3", "missing_materials", "content", "yellow"),
    ("al4", "c3", "materials_beyond_guide", "content", "yellow"),
    ("al5", "c5", "case_overdue", "timeliness", "yellow"),
    ("al6", "c1", "near_deadline", "timeliness", "warning"),
]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
    )
    return path


def load(db: Database, tmp: Path) -> None:
    import_catalog(db, [write_jsonl(tmp / "catalog.jsonl", ITEMS)])
    import_events(db, [write_jsonl(tmp / "events.jsonl", EVENTS)])
    # alerts exactly as listed, whatever the live rules would have raised
    db.execute("DELETE FROM alerts")
    for alert_id, case_id, rule, cls, level in ALERTS:
        seen = datetime(2025, 10, 25)
        db.execute(
            "INSERT INTO alerts (alert_id, case_id, rule, rule_class, rule_type, key, level,"
            " status, message, evidence, catalog_version, first_seen_at, last_seen_at, level_changed_at)"
            " VALUES (?, ?, ?, ?, ?, '', ?, 'active', '', '{}', 1, ?, ?, ?)",
            [alert_id, case_id, rule, cls, rule, level, seen, seen, seen],
        )
