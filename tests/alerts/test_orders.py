"""Supervision orders (督办): deadlines in working days, overdue orders as alerts, escalation."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from govwatch.alerts.escalation import check_overdue
from govwatch.alerts.orders import OVERDUE_RULE, act_on_order, get_order, issue_order
from govwatch.alerts.seed import put_alert
from govwatch.alerts.settings import set_setting
from govwatch.alerts.sync import sync_workflow
from govwatch.alerts.workflow import get_state
from govwatch.auth.errors import ConflictError, ForbiddenError
from govwatch.auth.principal import SYSTEM, Principal
from govwatch.ledger import verify
from govwatch.storage import Database

T0 = datetime(2025, 9, 26, 10, 0)  # Friday before National Day
SUP = Principal(name="sup", role="supervisor")
DEPT = Principal(name="dept", role="department", org_code="D1", scope=frozenset({"D1"}))
OTHER = Principal(name="other", role="department", org_code="D2", scope=frozenset({"D2"}))


def test_order_is_due_in_five_working_days_on_the_case_calendar(db: Database) -> None:
    alert = put_alert(db, "C1", "case_overdue", T0, department_code="D1")
    order = issue_order(db, SUP, [alert], T0, content="请核查超期原因")
    # 28 Sep (make-up Sunday), 29, 30 Sep, then 1–8 Oct rest, 9, 10 Oct
    assert order.reply_due_on == date(2025, 10, 10)
    assert (order.state, order.org_code, order.reply_days) == ("issued", "D1", 5)


def test_order_answered_and_accepted_closes(db: Database) -> None:
    alert = put_alert(db, "C1", "case_overdue", T0, department_code="D1")
    order = issue_order(db, SUP, [alert], T0, content="请核查")
    with pytest.raises(ForbiddenError):
        act_on_order(db, OTHER, order.order_id, "reply", T0, text="不是我们的")
    replied = act_on_order(db, DEPT, order.order_id, "reply", T0, text="已核查，系材料补正")
    assert replied.state == "replied"
    with pytest.raises(ConflictError, match="不能"):
        act_on_order(db, DEPT, order.order_id, "reply", T0, text="再回一次")
    closed = act_on_order(db, SUP, order.order_id, "accept", T0)
    assert closed.state == "closed"
    assert verify(db).ok


def test_unanswered_order_becomes_an_alert_then_red_and_late_reply_clears_it(db: Database) -> None:
    alert = put_alert(db, "C1", "case_overdue", T0, department_code="D1")
    order = issue_order(db, SUP, [alert], T0, content="请核查")
    assert check_overdue(db, datetime(2025, 10, 10, 23, 0)) == 0  # due date itself is on time
    assert check_overdue(db, datetime(2025, 10, 11, 9, 0)) == 1
    assert check_overdue(db, datetime(2025, 10, 11, 9, 5)) == 0  # once
    assert get_order(db, order.order_id, SYSTEM).state == "overdue"
    rows = db.query_dicts(
        "SELECT alert_id, level, status, case_id, department_code FROM alerts WHERE rule = ?",
        [OVERDUE_RULE],
    )
    assert [(r["level"], r["status"], r["case_id"], r["department_code"]) for r in rows] == [
        ("yellow", "active", "C1", "D1")
    ]
    # a second reply period (5 W after 10 Oct: 11, 13, 14, 15, 16 Oct) passes
    check_overdue(db, datetime(2025, 10, 16, 20, 0))
    assert db.scalar("SELECT level FROM alerts WHERE rule = ?", [OVERDUE_RULE]) == "yellow"
    check_overdue(db, datetime(2025, 10, 17, 9, 0))
    assert db.scalar("SELECT level FROM alerts WHERE rule = ?", [OVERDUE_RULE]) == "red"
    sync_workflow(db, datetime(2025, 10, 17, 9, 0))
    act_on_order(db, DEPT, order.order_id, "reply", datetime(2025, 10, 17, 10, 0), text="迟复")
    assert db.scalar("SELECT status FROM alerts WHERE rule = ?", [OVERDUE_RULE]) == "cleared"
    state = get_state(db, str(rows[0]["alert_id"]))
    assert state is not None and (state.state, state.close_reason) == ("closed", "auto")
    assert verify(db).ok


def test_returned_reply_gets_a_new_reply_period(db: Database) -> None:
    alert = put_alert(db, "C1", "case_overdue", T0, department_code="D1")
    order = issue_order(db, SUP, [alert], T0, content="请核查")
    act_on_order(db, DEPT, order.order_id, "reply", T0, text="已核查")
    back = act_on_order(
        db, SUP, order.order_id, "return", datetime(2025, 10, 9, 9, 0), text="回复不完整"
    )
    assert (back.state, back.reply_due_on) == ("issued", date(2025, 10, 15))


def test_red_card_triggers_one_automatic_order_per_department(db: Database) -> None:
    a1 = put_alert(db, "C1", "case_overdue", T0, level="red", department_code="D1")
    a2 = put_alert(db, "C2", "case_overdue", T0, level="red", department_code="D1")
    put_alert(db, "C3", "case_overdue", T0, level="yellow", department_code="D1")
    a4 = put_alert(db, "C4", "unlisted_fee", T0, level="red", department_code="D2")
    report = sync_workflow(db, T0)
    assert report.orders_issued == 2
    assert sync_workflow(db, T0).orders_issued == 0
    linked = db.query(
        "SELECT o.org_code, oa.alert_id FROM orders o JOIN order_alerts oa "
        "ON oa.order_id = o.order_id WHERE o.automatic ORDER BY 1, 2"
    )
    assert linked == sorted([("D1", a1), ("D1", a2), ("D2", a4)])


def test_automatic_orders_can_be_switched_off(db: Database) -> None:
    set_setting(db, "auto_order_red", "off", "admin", T0)
    put_alert(db, "C1", "case_overdue", T0, level="red", department_code="D1")
    assert sync_workflow(db, T0).orders_issued == 0
    assert db.scalar("SELECT count(*) FROM orders") == 0
