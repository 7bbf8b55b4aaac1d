"""``govwatch doctor``: one line per check, ✗ and exit code 1 when something needs action.

The calendar check is the one issue 19 names: on 2026-11-15 a database without 2027's holiday
notice fails and names 2027; once a 2027 calendar is loaded it passes. Time is frozen; the
database is real, on both engines.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest
import time_machine
from click.testing import CliRunner, Result

from govwatch.cli import cli
from govwatch.live.health import Check, check_database, run_checks
from govwatch.storage import connect
from govwatch.timeutil import SHANGHAI

NOV_15 = datetime(2026, 11, 15, 10, 0, tzinfo=SHANGHAI)


def doctor(db_url: str, *more: str) -> Result:
    return CliRunner().invoke(cli, ["doctor", "--db", db_url, *more])


def line_of(result: Result, title: str) -> str:
    return next(line for line in result.stdout.splitlines() if f" {title}：" in line)


def write_2027(tmp_path: Path) -> Path:
    # the dates a 2027 notice would name; doctor asks only that the year is covered
    path = tmp_path / "2027.csv"
    path.write_text(
        "date,type,name\n2027-01-01,holiday,元旦\n2027-02-05,holiday,春节\n"
        "2027-02-06,holiday,春节\n2027-02-07,workday,春节调休上班\n",
        encoding="utf-8",
    )
    return path


def test_doctor_names_next_year_until_its_calendar_is_loaded(db_url: str, tmp_path: Path) -> None:
    connect(db_url).close()
    with time_machine.travel(NOV_15, tick=False):
        before = doctor(db_url)
        assert before.exit_code == 1, before.output
        calendar = line_of(before, "工作日历")
        assert calendar.startswith("✗") and "2027" in calendar
        assert "govwatch calendar load" in calendar
        # every other check is fine or only advisory on a fresh database
        others = [ln for ln in before.stdout.splitlines() if " 工作日历：" not in ln]
        assert others and not [ln for ln in others if ln.startswith("✗")]

        loaded = CliRunner().invoke(
            cli, ["calendar", "load", str(write_2027(tmp_path)), "--db", db_url]
        )
        assert loaded.exit_code == 0, loaded.output

        after = doctor(db_url)
        assert after.exit_code == 0, after.output
        assert line_of(after, "工作日历").startswith("✓")
        assert "2027" in line_of(after, "工作日历")


def test_next_year_is_not_asked_for_before_november(db_url: str) -> None:
    connect(db_url).close()
    with time_machine.travel(datetime(2026, 10, 15, 10, 0, tzinfo=SHANGHAI), tick=False):
        result = doctor(db_url)
    assert result.exit_code == 0, result.output
    calendar = line_of(result, "工作日历")
    assert calendar.startswith("✓") and "2026-11-01" in calendar


def test_this_year_without_a_notice_fails_in_january(db_url: str) -> None:
    connect(db_url).close()
    with time_machine.travel(datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI), tick=False):
        result = doctor(db_url)
    assert result.exit_code == 1
    calendar = line_of(result, "工作日历")
    assert calendar.startswith("✗") and "2027" in calendar


def test_json_lists_every_check_with_its_status(db_url: str) -> None:
    connect(db_url).close()
    with time_machine.travel(NOV_15, tick=False):
        result = doctor(db_url, "--format", "json")
    assert result.exit_code == 1
    report = orjson.loads(result.stdout)
    keys = [c["key"] for c in report["checks"]]
    expected = ["database", "calendar", "live_queue", "sweep", "ledger", "fonts", "pdf", "versions"]
    assert [k for k in keys if k != "disk"] == expected
    assert ("disk" in keys) == db_url.startswith("duckdb")
    assert report["needs_action"] is True
    assert {c["key"] for c in report["checks"] if c["status"] == "fail"} == {"calendar"}
    versions = next(c for c in report["checks"] if c["key"] == "versions")
    assert "DuckDB" in versions["detail"]
    assert ("PostgreSQL" in versions["detail"]) == db_url.startswith("postgresql")


def test_a_missing_duckdb_file_is_reported_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "govwatch.duckdb"
    result = doctor(f"duckdb:///{path}")
    assert result.exit_code == 1
    assert line_of(result, "数据库").startswith("✗") and "不存在" in line_of(result, "数据库")
    assert not path.exists() and not path.parent.exists()


def test_unapplied_migrations_need_action(db_url: str) -> None:
    db = connect(db_url)
    try:
        last = db.scalar("SELECT MAX(version) FROM schema_migrations")
        db.execute("DELETE FROM schema_migrations WHERE version = ?", [last])
    finally:
        db.close()
    result = doctor(db_url)
    assert result.exit_code == 1
    database = line_of(result, "数据库")
    assert database.startswith("✗") and "1 个迁移未应用" in database and f"{last:03d}" in database


def test_waiting_queue_and_unswept_cases_need_action(db_url: str) -> None:
    db = connect(db_url)
    at = datetime(2026, 6, 1, 10, 0)
    try:
        db.execute(
            "INSERT INTO live_pending (case_id, token, queued_at) VALUES (?, ?, ?)",
            ["C-1", "t", at - timedelta(hours=1)],
        )
        db.execute(
            "INSERT INTO rule_schedule (case_id, next_check_at) VALUES (?, ?)",
            ["C-2", at - timedelta(minutes=30)],
        )
        report = check_database(db, at)
        fresh = check_database(db, at - timedelta(minutes=25))  # the same, moments earlier
    finally:
        db.close()
    by_key = {c.key: c for c in report.checks}
    assert by_key["live_queue"].status == "fail" and "1 小时" in by_key["live_queue"].detail
    assert by_key["sweep"].status == "fail" and "30 分钟" in by_key["sweep"].detail
    assert "govwatch serve" in by_key["sweep"].action
    earlier = {c.key: c for c in fresh.checks}
    assert earlier["sweep"].status == "ok"  # due 5 minutes ago: within the sweeper's pace
    assert earlier["live_queue"].status == "fail"  # queued 35 minutes before


def test_checks_are_frozen_dataclasses_for_the_web_page(db_url: str) -> None:
    connect(db_url).close()
    report = run_checks(db_url, datetime(2026, 6, 1, 10, 0))
    assert all(isinstance(c, Check) for c in report.checks)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.checks[0].status = "ok"  # type: ignore[misc]
    assert report.checks[0].line().startswith(report.checks[0].mark)
