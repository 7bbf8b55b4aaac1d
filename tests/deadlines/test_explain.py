"""``govwatch deadline``: the spec's JSON exactly, and the day-by-day account."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from govwatch.cli import cli
from govwatch.deadlines.explain import explain_case, render_text
from govwatch.errors import GovwatchError
from govwatch.storage import Database
from tests.deadlines.clock_builders import add_events, add_item, event

CATALOG = {
    "item_code": "I20W",
    "name": "食品经营许可",
    "department_code": "D1",
    "region_code": "330100",
    "case_kind": "2",
    "legal_limit": 20,
    "legal_limit_unit": "W",
    "promised_limit": 20,
    "promised_limit_unit": "W",
}
EVENTS = [
    {
        "event_id": "a1",
        "case_id": "c2",
        "item_code": "I20W",
        "kind": "accept",
        "occurred_at": "2025-09-26T10:00:00",
    },
    {
        "event_id": "a2",
        "case_id": "c2",
        "kind": "special_start",
        "occurred_at": "2025-10-09T14:00:00",
        "procedure_kind": "2",
        "procedure_type": "检测",
        "limit": 10,
        "limit_unit": "W",
        "reason": "送检",
        "approved_by": "张三",
    },
    {
        "event_id": "a3",
        "case_id": "c2",
        "kind": "special_end",
        "occurred_at": "2025-10-15T09:00:00",
        "result": "合格",
    },
]


def example_2(db: Database) -> None:
    add_item(db, "I20W")
    add_events(db, [
        event("c2", "accept", "2025-09-26 10:00", item_code="I20W"),
        event("c2", "special_start", "2025-10-09 14:00", procedure_kind="2", limit_days=10,
              limit_unit="W"),
        event("c2", "special_end", "2025-10-15 09:00"),
    ])  # fmt: skip


def test_explanation_is_exactly_the_spec_json(db: Database) -> None:
    example_2(db)
    payload = explain_case(db, "c2", datetime(2025, 11, 3, 10, 0)).payload
    limit = {"limit": 20, "unit": "W", "deadline": "2025-11-06", "elapsed": 17, "remaining": 3,
             "overdue": False}  # fmt: skip
    assert payload == {
        "case_id": "c2", "status": "open", "accepted_on": "2025-09-26", "paused_days": 5,
        "provisional": False, "promised": limit, "legal": limit,
        "pauses": [{"kind": "special", "from": "2025-10-09", "to": "2025-10-15", "days": 5}],
    }  # fmt: skip


def test_explanation_during_a_pause_says_paused_and_pause_has_no_end(db: Database) -> None:
    example_2(db)
    explanation = explain_case(db, "c2", datetime(2025, 10, 13, 10, 0))
    assert explanation.payload["status"] == "paused"
    assert explanation.payload["pauses"][0]["to"] is None
    assert explanation.payload["pauses"][0]["days"] == 3  # 10, 11 (make-up Saturday), 13 Oct
    text = render_text(db, explanation)
    assert "暂停中" in text
    assert "2025-10-11 周六 暂停（特别程序），不计" in text


def test_day_by_day_account_names_skipped_days_and_why(db: Database) -> None:
    example_2(db)
    text = render_text(db, explain_case(db, "c2", datetime(2025, 11, 3, 10, 0)))
    assert "2025-09-28 周日 第 1 天（调休上班）" in text
    assert "2025-10-01 周三 休息日：放假（国庆节），不计" in text
    assert "2025-10-10 周五 暂停（特别程序），不计" in text
    assert "2025-11-03 周一 第 17 天  ← 今日" in text
    assert "2025-11-06 周四 第 20 天  ← 承诺与法定期限" in text


def test_case_without_accept_is_an_error_that_says_so(db: Database) -> None:
    add_events(db, [event("c9", "apply", "2025-09-26 10:00", item_code="I20W")])
    with pytest.raises(GovwatchError, match="没有受理"):
        explain_case(db, "c9", datetime(2025, 10, 1))
    with pytest.raises(GovwatchError, match="没有办件"):
        explain_case(db, "nope", datetime(2025, 10, 1))


def test_cli_deadline_reads_catalog_and_events_files(tmp_path: Path) -> None:
    catalog, events = tmp_path / "catalog.jsonl", tmp_path / "events.jsonl"
    catalog.write_bytes(orjson.dumps(CATALOG) + b"\n")
    events.write_bytes(b"\n".join(orjson.dumps(e) for e in EVENTS) + b"\n")
    args = ["deadline", "--catalog", str(catalog), "--events", str(events), "--case", "c2",
            "--at", "2025-11-03T10:00"]  # fmt: skip
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = orjson.loads(result.stdout)
    assert payload["promised"]["deadline"] == "2025-11-06"
    assert payload["pauses"] == [
        {"kind": "special", "from": "2025-10-09", "to": "2025-10-15", "days": 5}
    ]
    result = CliRunner().invoke(cli, args)
    assert "逐日计时" in result.stdout
