"""A small province for the page tests: two departments, six cases, live alerts, users, a round.

Moment of the tests: 2025-10-27 10:00 (``AT``). Alerts come from the real rule engine over the
imported events (``evaluate_cases``) and the workflow from ``sync_workflow``; the evaluation
round is written directly (published, with results), as a round would leave it.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from govwatch.alerts.sync import sync_workflow
from govwatch.auth.orgs import add_org
from govwatch.auth.users import add_user
from govwatch.deadlines import refresh_next_check
from govwatch.events.ingest import import_events
from govwatch.items.ingest import import_catalog
from govwatch.rules.live import evaluate_cases
from govwatch.storage import Database

AT = datetime(2025, 10, 27, 10, 0)
PASSWORD = "Demo-pass-2025!"
USERS = {"admin": None, "supervisor": None, "department": "D1", "evaluator": None}
PRESET = Path(__file__).resolve().parents[2] / "govwatch/evaluation/presets/online-service.yaml"


def _item(code: str, dept: str, dept_name: str, region: str) -> dict[str, Any]:
    return {
        "item_code": code,
        "name": f"{dept_name}许可{code}",
        "item_type": "01",
        "department_code": dept,
        "department_name": dept_name,
        "region_code": region,
        "case_kind": "2",
        "legal_limit": 20,
        "promised_limit": 10,
        "steps": [
            {"name": "受理", "limit": 1},
            {"name": "审查", "limit": 5},
            {"name": "决定", "limit": 2},
        ],
        "materials": [{"name": "申请书", "required": True}],
        "online": {
            "depth": 4,
            "unified_identity": True,
            "e_license": False,
            "online_payment": False,
            "delivery": False,
            "max_visits": 1,
        },
    }


ITEMS = [_item("A1", "D1", "市场监管局", "330102"), _item("B1", "D2", "交通运输局", "330203")]


def _ev(eid: str, case: str, kind: str, at: str, **kw: Any) -> dict[str, Any]:
    return {"event_id": eid, "case_id": case, "kind": kind, "occurred_at": at, **kw}


def _case(case: str, item: str, applied: str, **finish: Any) -> list[dict[str, Any]]:
    mats = [{"name": "申请书", "provided": True}]
    rows = [
        _ev(
            f"{case}a",
            case,
            "apply",
            f"{applied}T09:00:00",
            item_code=item,
            channel="2",
            applicant_type="1",
            applicant_name="张三",
            applicant_id="330102199001011234",
            phone="13800001111",
            materials=mats,
        ),
        _ev(f"{case}b", case, "accept", f"{applied}T10:00:00", item_code=item),
        _ev(f"{case}c", case, "step_start", f"{applied}T10:30:00", step="审查"),
    ]
    if finish:
        rows.append(_ev(f"{case}d", case, "step_end", finish["at"], step="审查", action="pass"))
        rows.append(_ev(f"{case}e", case, "finish", finish["at"], result="6"))
    return rows


EVENTS = [
    *_case("C1", "A1", "2025-09-01", at="2025-10-20T10:00:00"),  # finished late: overdue
    *_case("C2", "A1", "2025-10-13"),  # open, near its promised deadline
    *_case("C3", "A1", "2025-09-15"),  # open, past the promised deadline
    *_case("C4", "B1", "2025-10-09", at="2025-10-10T10:00:00"),
    *_case("C5", "B1", "2025-09-10"),  # open and late
    _ev(
        "C3s",
        "C3",
        "supplement_request",
        "2025-09-16T09:00:00",
        materials=["申请书"],
        reason="材料不清晰",
    ),
    _ev("C3r", "C3", "supplement_received", "2025-09-18T09:00:00", materials=["申请书"]),
]


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
    )
    return path


def seed(db: Database, tmp: Path) -> None:
    import_catalog(db, [_jsonl(tmp / "catalog.jsonl", ITEMS)])
    import_events(db, [_jsonl(tmp / "events.jsonl", EVENTS)])
    refresh_next_check(db, None, at=AT)
    evaluate_cases(db, None, AT)
    sync_workflow(db, AT)
    add_org(db, "330000", "浙江省", "province", None, "330000", AT)
    for code, name in (("D1", "市场监管局"), ("D2", "交通运输局")):
        add_org(db, code, name, "department", "330000", None, AT)
    for role, org in USERS.items():
        add_user(db, f"web_{role}", PASSWORD, role, org, AT, display_name=f"测试{role}")
    seed_round(db)


def seed_round(db: Database) -> None:
    text = PRESET.read_text(encoding="utf-8")
    db.execute(
        "INSERT INTO eval_rounds (round_id, name, period_start, period_end, unit_kind, "
        "system_name, system_yaml, system_digest, status, created_by, created_at, computed_at, "
        "published_at, published_by, digest) VALUES (?, ?, ?, ?, 'department', ?, ?, 'x', "
        "'published', 'web_admin', ?, ?, ?, 'web_admin', 'y')",
        [
            "2025Q3",
            "2025年第三季度网上政务服务评估",
            date(2025, 7, 1),
            date(2025, 9, 30),
            "网上政务服务能力评估",
            text,
            AT,
            AT,
            AT,
        ],
    )
    # the evaluator sees the rounds it is commissioned for (docs/security.md)
    db.execute(
        "INSERT INTO eval_commissions (round_id, evaluator_kind, evaluator, indicator, "
        "commissioned_by, commissioned_at) VALUES ('2025Q3', 'user', 'web_evaluator', "
        "'reach.life_events', 'admin:web_admin', ?)",
        [AT],
    )
    results = (("D1", "市场监管局", 86.5, 4, 1, 1, 3), ("D2", "交通运输局", 71.0, 3, 2, 2, 2))
    for unit, name, score, stars, rank, low, high in results:
        db.execute(
            "INSERT INTO eval_units (round_id, unit, unit_name, group_name) "
            "VALUES ('2025Q3', ?, ?, '市级部门')",
            [unit, name],
        )
        db.execute(
            "INSERT INTO eval_results (round_id, unit, group_name, score, stars, rank, "
            "group_rank, coverage, poorly_covered, points, missing, rank_low, rank_high, "
            "star_stability) VALUES ('2025Q3', ?, '市级部门', ?, ?, ?, ?, 1.0, FALSE, ?, '[]', "
            "?, ?, 0.9)",
            [
                unit,
                score,
                stars,
                rank,
                rank,
                json.dumps({"reach.channels": 3.5, "reach.identity": 4.0}),
                low,
                high,
            ],
        )
