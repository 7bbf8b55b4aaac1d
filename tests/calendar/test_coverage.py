"""Calendar coverage (this year and next) and the once-a-year reminder that a notice is missing.

``calendar_coverage`` is what ``govwatch doctor``, the page banner and the sweeper's reminder
read; the reminder is written through the notifications (in-app, webhooks) exactly once per
missing year, whatever the number of sweeps.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine

from govwatch.alerts.notify import list_notifications
from govwatch.auth.principal import Principal
from govwatch.calendar.coverage import REMIND_ENV, calendar_coverage
from govwatch.calendar.notice import parse_notice
from govwatch.errors import InputError
from govwatch.live.calendar_reminder import KIND, remind_calendar
from govwatch.live.pipeline import load_calendar
from govwatch.live.sweeper import sweep_once
from govwatch.storage import Database
from govwatch.timeutil import SHANGHAI
from tests.calendar.test_notice import NOTICE_2027

ADMIN = Principal(name="a", role="admin")
SUPERVISOR = Principal(name="s", role="supervisor")
DEPARTMENT = Principal(name="d", role="department", org_code="D1", scope=frozenset({"D1"}))


def test_next_year_is_wanted_from_the_reminder_day(db: Database) -> None:
    before = calendar_coverage(db, date(2026, 10, 31))
    assert before.this_year.state == "official" and before.next_year.state == "provisional"
    assert not before.needs_action and "2026 年已导入" in before.message()

    due = calendar_coverage(db, date(2026, 11, 15))
    assert due.needs_action and due.missing_years == [2027]
    assert due.message().startswith("2027 年节假日安排尚未导入：自 2027 年 1 月 1 日起")
    assert due.to_dict()["next_year"] == {"year": 2027, "state": "provisional", "source": None}

    load_calendar(db, parse_notice(NOTICE_2027, label="notice-2027.txt"))
    loaded = calendar_coverage(db, date(2026, 11, 15))
    assert not loaded.needs_action
    assert loaded.next_year.source == "notice:notice-2027.txt"


def test_this_year_without_its_notice_needs_action_all_year(db: Database) -> None:
    january = calendar_coverage(db, date(2027, 1, 10))
    assert january.this_year.state == "provisional" and january.missing_years == [2027]
    assert "本年涉及的期限只按周末计算" in january.message()
    beyond = calendar_coverage(db, date(2035, 11, 20))
    assert beyond.next_year.state == "missing" and 2036 in beyond.missing_years


def test_the_reminder_day_is_a_setting(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REMIND_ENV, "12-01")
    assert not calendar_coverage(db, date(2026, 11, 15)).needs_action
    assert calendar_coverage(db, date(2026, 12, 1)).needs_action
    monkeypatch.setenv(REMIND_ENV, "11/01")
    with pytest.raises(InputError, match=f"{REMIND_ENV}=“11/01”无效：应为 MM-DD"):
        calendar_coverage(db, date(2026, 11, 15))


def test_the_reminder_notifies_administrators_and_supervisors_once_a_year(db: Database) -> None:
    at = datetime(2026, 11, 15, 9, 0)
    assert remind_calendar(db, datetime(2026, 10, 31, 9, 0)) == []
    assert remind_calendar(db, at) == [2027]
    assert remind_calendar(db, datetime(2026, 11, 16, 9, 0)) == []  # one a year, not a sweep
    for reader in (ADMIN, SUPERVISOR):
        found = [n for n in list_notifications(db, reader) if n["kind"] == KIND]
        assert len(found) == 1 and "2027 年节假日安排尚未导入" in found[0]["message"]
        assert found[0]["ref"] == "/calendar?year=2027"
    assert not [n for n in list_notifications(db, DEPARTMENT) if n["kind"] == KIND]


def test_the_sweeper_reminds(db: Database) -> None:
    with time_machine.travel(datetime(2026, 11, 15, 9, 0, tzinfo=SHANGHAI), tick=False):
        sweep_once(db)
        sweep_once(db)
    assert db.scalar("SELECT count(*) FROM notifications WHERE kind = ?", [KIND]) == 1
