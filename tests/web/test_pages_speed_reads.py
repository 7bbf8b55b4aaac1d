"""What the pages show stays the same when they read less (issue 14 item 10), on both engines:
the menu's to-do badge counted without the due dates equals the to-do list's length, the
inbox's two counts from one query equal the counts one by one and stay per reader, an answer
waiting for review shows the department's latest words, and a table seen once is still
forgotten when it is dropped.

Working days of autumn 2025 (the official notice): 1–8 October rest.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from govwatch.alerts.desk import DeskFilter, desk_list
from govwatch.alerts.notify import count_notifications, inbox_counts, mark_read
from govwatch.alerts.orders import issue_order
from govwatch.alerts.queries import AlertFilter, list_alerts
from govwatch.alerts.seed import put_alert
from govwatch.alerts.settings import set_setting
from govwatch.alerts.sync import sync_workflow
from govwatch.alerts.waiting import waiting_counts
from govwatch.alerts.workflow import act
from govwatch.alerts.workspace import submitted_list, todo_list
from govwatch.auth.principal import Principal
from govwatch.storage import Database

T0 = datetime(2025, 9, 26, 10, 0)  # Friday before National Day
SUP = Principal(name="sup", role="supervisor", user_id="u-sup")
DEPT = Principal(name="dept", role="department", org_code="D1", scope=frozenset({"D1"}))
DEPT2 = Principal(name="dept-b", role="department", org_code="D1", scope=frozenset({"D1"}))
OTHER = Principal(name="other", role="department", org_code="D2", scope=frozenset({"D2"}))


@pytest.fixture(autouse=True)
def no_automatic_orders(db: Database) -> None:
    """Orders here are issued by hand (red cards would otherwise get one each sync)."""
    set_setting(db, "auto_order_red", "off", "test", T0)


def _alert(db: Database, case: str, dept: str = "D1", rule: str = "case_overdue") -> str:
    alert_id = put_alert(db, case, rule, T0, department_code=dept, level="yellow")
    sync_workflow(db, T0)
    return alert_id


def test_the_to_do_badge_equals_the_length_of_the_list(db: Database) -> None:
    owed = [_alert(db, f"C{i}") for i in range(4)]
    _alert(db, "C9", dept="D2")  # another department's
    _alert(db, "C8", rule="order_overdue")  # stands for an order: not listed
    issue_order(db, SUP, owed[:2], T0, content="请说明")  # an order to answer, its alerts too
    act(db, DEPT, owed[3], "explain", T0, reason="已核实")  # answered: waits for review
    today = (T0 + timedelta(days=20)).date()
    listed = todo_list(db, DEPT, today)
    assert {r["ref_id"] for r in listed.rows if r["kind"] != "order"} == set(owed[:3])
    assert waiting_counts(db, DEPT).todo == listed.total == 4  # the order and three alerts
    assert waiting_counts(db, OTHER).todo == todo_list(db, OTHER, today).total == 1


def test_inbox_counts_in_one_query_equal_the_counts_and_stay_per_reader(db: Database) -> None:
    first, second = _alert(db, "C1"), _alert(db, "C2")
    issue_order(db, SUP, [first], T0, content="请说明")
    issue_order(db, SUP, [second], T0, content="请说明")
    total = count_notifications(db, DEPT)
    assert inbox_counts(db, DEPT) == (total, count_notifications(db, DEPT, unread_only=True))
    assert total >= 2
    for row in db.query_dicts(
        "SELECT notification_id FROM notifications WHERE kind = 'order.issued'"
    ):
        mark_read(db, DEPT, str(row["notification_id"]), T0)
    assert inbox_counts(db, DEPT) == (total, total - 2)
    assert inbox_counts(db, DEPT2) == (total, total)  # a colleague has read nothing
    assert inbox_counts(db, OTHER) == (0, 0)


def test_an_answer_waiting_for_review_shows_the_latest_words(db: Database) -> None:
    alert_id = _alert(db, "C1")
    act(db, DEPT, alert_id, "explain", T0, reason="系统延迟登记")
    act(db, DEPT, alert_id, "appeal", T0 + timedelta(hours=2), reason="已补充登记记录")
    decide = desk_list(db, SUP, "decide", T0.date(), DeskFilter())
    assert [r["answer"]["reason"] for r in decide.rows] == ["已补充登记记录"]
    submitted = submitted_list(db, DEPT, T0.date())
    assert [r["alert"]["answer"]["reason"] for r in submitted.rows] == ["已补充登记记录"]


def test_a_table_seen_once_is_forgotten_when_dropped(db: Database) -> None:
    db.execute("CREATE TABLE speed_probe (x INTEGER)")
    assert db.table_exists("speed_probe")
    assert db.table_exists("speed_probe")  # (remembered)
    db.execute("DROP TABLE speed_probe")
    assert not db.table_exists("speed_probe")


def test_pages_of_the_newest_first_list_follow_each_other_through_ties(db: Database) -> None:
    """Pages further down are read between their newest and oldest moments (DuckDB): moments
    shared by several alerts (ties, ordered by id) neither repeat nor lose a row."""
    at = [T0 - timedelta(hours=h) for h in (0, 1, 1, 1, 1, 2, 3, 3, 3, 4, 5)]
    for i, moment in enumerate(at):
        put_alert(db, f"C{i:02d}", "case_overdue", moment, department_code="D1")
    whole = list_alerts(db, SUP, AlertFilter(), 100, 0)
    assert len(whole) == len(at)
    paged = [
        row for offset in range(0, 12, 3) for row in list_alerts(db, SUP, AlertFilter(), 3, offset)
    ]
    assert [r["alert_id"] for r in paged] == [r["alert_id"] for r in whole]
    keys = [(r["last_seen_at"], r["alert_id"]) for r in whole]
    assert keys == sorted(keys, key=lambda k: (-k[0].timestamp(), k[1]))
    assert list_alerts(db, SUP, AlertFilter(), 3, 30) == []
