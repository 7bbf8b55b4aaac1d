"""Loading a year's notice: coverage, ordinals, and the stored deadlines of open cases."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from govwatch.calendar import is_workday
from govwatch.calendar.store import load_file, status
from govwatch.cli import cli
from govwatch.deadlines import refresh_next_check
from govwatch.errors import InputError
from govwatch.events.cases import rebuild_cases
from govwatch.live.pipeline import load_calendar
from govwatch.storage import Database
from tests.deadlines.clock_builders import add_events, add_item, event

NOTICE_2027 = (
    "date,type\n2027-10-01,holiday\n2027-10-04,holiday\n2027-10-05,holiday\n"
    "2027-10-06,holiday\n2027-10-07,holiday\n2027-10-09,workday\n"
)


def write(tmp_path: Path, text: str, name: str = "notice.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_loading_a_year_covers_it_and_sets_its_days(db: Database, tmp_path: Path) -> None:
    report = load_calendar(db, write(tmp_path, NOTICE_2027), at=datetime(2027, 9, 1))
    assert report.years == [2027]
    by_year = {y.year: y for y in status(db)}
    assert by_year[2027].covered and by_year[2027].source == "file:notice.csv"
    assert not is_workday(db, date(2027, 10, 1))
    assert is_workday(db, date(2027, 10, 9))  # Saturday make-up
    assert date(2027, 10, 9) in report.changed_dates
    # Ordinals after the loaded dates are recomputed: 2028 counts from the new 2027.
    first_2028 = db.scalar("SELECT workday_ordinal FROM calendar WHERE on_date = DATE '2028-01-03'")
    last_2027 = db.scalar(
        "SELECT MAX(workday_ordinal) FROM calendar WHERE on_date < DATE '2028-01-01'"
    )
    assert first_2028 == last_2027 + 1


def test_loading_changes_deadlines_of_touched_open_cases_only(db: Database, tmp_path: Path) -> None:
    add_item(db, "I20", promised=(20, "W"), legal=(20, "W"))
    add_events(db, [
        event("reach", "accept", "2027-09-20 10:00", item_code="I20"),  # deadline in October
        event("before", "accept", "2027-06-01 10:00", item_code="I20"),  # all in June
        event("done", "accept", "2027-09-20 10:00", item_code="I20"),
        event("done", "finish", "2027-09-21 10:00", result="6"),
    ])  # fmt: skip
    rebuild_cases(db, None)
    at = datetime(2027, 9, 25)
    refresh_next_check(db, None, at=at)
    before = dict(db.query("SELECT case_id, promised_deadline FROM case_deadlines"))
    assert db.scalar("SELECT provisional FROM case_deadlines WHERE case_id = 'reach'") is True

    report = load_calendar(db, write(tmp_path, NOTICE_2027), at=at)

    after = dict(db.query("SELECT case_id, promised_deadline FROM case_deadlines"))
    assert report.cases_changed == ["reach"]
    assert after["before"] == before["before"]
    assert after["done"] == before["done"]
    # 20 W from Mon 20 Sep 2027: 5 rest days removed, one Saturday added → 4 working days later.
    assert before["reach"] == date(2027, 10, 18)
    assert after["reach"] == date(2027, 10, 22)
    assert db.scalar("SELECT provisional FROM case_deadlines WHERE case_id = 'reach'") is False
    # Its deadline did not move, but it no longer rests on a guessed year.
    assert db.scalar("SELECT provisional FROM case_deadlines WHERE case_id = 'before'") is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("date,type\n2027-10-01,vacation\n", "第 2 行"),
        ("date,type\n2027-13-01,holiday\n", "第 2 行"),
        ("date,type\n", "没有日期"),
        ("date,type\n2040-01-01,holiday\n", "超出日历范围"),
    ],
)
def test_bad_calendar_files_say_which_line_and_what_was_expected(
    db: Database, tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(InputError, match=expected):
        load_file(db, write(tmp_path, text))


def test_cli_status_show_load(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["calendar", "status", "--db", db_url, "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = orjson.loads(result.stdout)
    assert 2025 in payload["covered"] and 2027 in payload["provisional"]

    result = runner.invoke(cli, ["calendar", "show", "2025", "--db", db_url, "--format", "json"])
    days = {d["date"]: d for d in orjson.loads(result.stdout)}
    assert days["2025-09-28"]["kind"] == "makeup_workday"
    assert days["2025-10-01"] == {
        "date": "2025-10-01", "weekday": "周三", "is_workday": False, "kind": "holiday",
        "name": "国庆节", "source": "official", "provisional": False,
    }  # fmt: skip

    notice = write(tmp_path, NOTICE_2027)
    result = runner.invoke(cli, ["calendar", "load", str(notice), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "2027" in result.stderr
    result = runner.invoke(cli, ["calendar", "status", "--db", db_url])
    assert "已覆盖年份：2004–2027" in result.stdout
