"""The desks on both engines (issue 14 items 3 and 4): 督办台's lists and counts, 今日待办's
working-day countdown and order (overdue first), the menu's counts, bulk actions, the inbox
read per reader, and what an attachment may be.

Working days of autumn 2025 (the official notice): 1–8 October rest, Sunday 28 September and
Saturday 11 October make-up working days.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from govwatch.alerts.attachments import (
    MAX_ATTACHMENT_BYTES,
    MAX_FILES,
    Attachment,
    check_attachment,
    check_attachments,
)
from govwatch.alerts.countdown import Countdown
from govwatch.alerts.desk import DeskFilter, desk_counts, desk_list
from govwatch.alerts.desk_actions import accept_replies, issue_orders, plan_accepts, plan_orders
from govwatch.alerts.notify import count_notifications, list_notifications, mark_all_read, mark_read
from govwatch.alerts.orders import act_on_order, get_order, issue_order, order_transitions
from govwatch.alerts.seed import put_alert
from govwatch.alerts.settings import set_setting
from govwatch.alerts.sync import sync_workflow
from govwatch.alerts.waiting import waiting_counts
from govwatch.alerts.workflow import act, attachment, done_message, transitions
from govwatch.alerts.workspace import alert_due, department_workspace, todo_list
from govwatch.auth.errors import ConflictError, ForbiddenError
from govwatch.auth.principal import SYSTEM, Principal
from govwatch.calendar.queries import add_workdays, days_between
from govwatch.errors import InputError
from govwatch.ledger import verify
from govwatch.storage import Database

T0 = datetime(2025, 9, 26, 10, 0)  # Friday before National Day
SUP = Principal(name="sup", role="supervisor", user_id="u-sup")
DEPT = Principal(name="dept", role="department", org_code="D1", scope=frozenset({"D1"}))
DEPT2 = Principal(name="dept-b", role="department", org_code="D1", scope=frozenset({"D1"}))
OTHER = Principal(name="other", role="department", org_code="D2", scope=frozenset({"D2"}))
PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


@pytest.fixture(autouse=True)
def no_automatic_orders(db: Database) -> None:
    """Orders in these tests are issued by hand (red cards would otherwise get one each sync)."""
    set_setting(db, "auto_order_red", "off", "test", T0)


def _alert(db: Database, case: str, at: datetime, dept: str = "D1", level: str = "yellow") -> str:
    alert_id = put_alert(db, case, "case_overdue", at, department_code=dept, level=level)
    sync_workflow(db, at)
    return alert_id


# -- the countdown ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "today", "left", "text", "tone"),
    [
        (date(2025, 10, 10), date(2025, 9, 26), 5, "剩余 5 个工作日", "ok"),
        (date(2025, 10, 10), date(2025, 10, 9), 1, "剩余 1 个工作日", "soon"),
        (date(2025, 10, 10), date(2025, 10, 10), 0, "今日到期", "soon"),
        (date(2025, 10, 10), date(2025, 10, 14), -3, "已超期 3 个工作日", "overdue"),
        (date(2025, 10, 10), date(2025, 10, 12), -1, "已超期 1 个工作日", "overdue"),
        (None, date(2025, 10, 12), None, "无期限", "ok"),
    ],
)
def test_countdown_says_working_days_left_or_overdue(
    due: date | None, today: date, left: int | None, text: str, tone: str
) -> None:
    cd = Countdown(due, today, left)
    assert (cd.text, cd.tone) == (text, tone)


def test_todo_countdown_is_the_calendars_own_working_day_count(db: Database) -> None:
    """Each row's countdown equals calendar.queries.days_between on the same dates, across the
    National Day rest days and both make-up working days."""
    at = datetime(2025, 9, 29, 9, 0)  # due 5 W later: 30 Sep, 9, 10, 11 (Saturday), 13 Oct
    _alert(db, "C1", at)
    for today in (date(2025, 9, 30), date(2025, 10, 8), date(2025, 10, 11), date(2025, 10, 20)):
        row = todo_list(db, DEPT, today).rows[0]
        due = row["due_on"]
        assert due == add_workdays(db, at.date(), 5).on == date(2025, 10, 13)
        expected = days_between(db, today, due, "W")
        assert row["countdown"]["workdays_left"] == expected
    assert todo_list(db, DEPT, date(2025, 10, 8)).rows[0]["countdown"]["text"] == "剩余 4 个工作日"
    assert todo_list(db, DEPT, date(2025, 10, 15)).rows[0]["countdown"]["text"] == (
        "已超期 2 个工作日"  # 14 and 15 October
    )


# -- 今日待办 ---------------------------------------------------------------------------------


def test_todo_lists_what_the_department_owes_overdue_first_then_red_first(db: Database) -> None:
    old = _alert(db, "C-old", datetime(2025, 9, 1, 9, 0))  # due 8 Sep: long overdue
    yellow = _alert(db, "C-yellow", T0)  # due 10 Oct
    red = _alert(db, "C-red", T0, level="red")  # due 10 Oct, red first on the day
    ordered = _alert(db, "C-ordered", datetime(2025, 9, 29, 9, 0))
    order = issue_order(db, SUP, [ordered], datetime(2025, 9, 29, 9, 0), content="请说明")
    rect = _alert(db, "C-rect", T0)
    act(db, SUP, rect, "require_rectification", T0, reason="整改", due_on=date(2025, 10, 9))
    explained = _alert(db, "C-explained", T0)
    act(db, DEPT, explained, "explain", T0, reason="已说明")
    _alert(db, "C-other", T0, dept="D2")

    page = todo_list(db, DEPT, date(2025, 10, 9))
    got = [(r["kind"], r["ref_id"], r["due_on"]) for r in page.rows]
    assert got == [
        ("open", old, date(2025, 9, 8)),
        ("rectifying", rect, date(2025, 10, 9)),
        ("open", red, date(2025, 10, 10)),
        ("open", yellow, date(2025, 10, 10)),
        ("order", order.order_id, date(2025, 10, 13)),
        ("open", ordered, date(2025, 10, 13)),  # an alert under an open order: the order's date
    ]
    assert page.rows[0]["countdown"]["overdue"] and page.rows[0]["countdown"]["tone"] == "overdue"
    assert page.total == 6
    data = department_workspace(db, DEPT, date(2025, 10, 9))
    assert data["overdue"] == 1
    assert [r["ref_id"] for r in data["submitted"]["rows"]] == [explained]
    assert alert_due(db, DEPT, red, date(2025, 10, 9))["text"] == "剩余 1 个工作日"
    assert alert_due(db, DEPT, explained, date(2025, 10, 9))["owed"] is False


def test_an_answered_order_leaves_the_todo_list_and_shows_as_submitted(db: Database) -> None:
    alert = _alert(db, "C1", T0)
    order = issue_order(db, SUP, [alert], T0, content="请说明")
    today = date(2025, 10, 9)
    assert order.order_id in [r["ref_id"] for r in todo_list(db, DEPT, today).rows]
    act_on_order(db, DEPT, order.order_id, "reply", T0, text="已说明")
    assert order.order_id not in [r["ref_id"] for r in todo_list(db, DEPT, today).rows]
    submitted = department_workspace(db, DEPT, today)["submitted"]["rows"]
    assert [r["ref_id"] for r in submitted] == [order.order_id]


def test_todo_pages_have_numbers_and_totals_beyond_a_hundred(db: Database) -> None:
    for i in range(7):
        _alert(db, f"C{i}", datetime(2025, 9, 1 + i, 9, 0))
    pages = [todo_list(db, DEPT, date(2025, 10, 9), page=p, page_size=3) for p in (1, 2, 3)]
    assert [(p.total, p.pages, len(p.rows)) for p in pages] == [(7, 3, 3), (7, 3, 3), (7, 3, 1)]
    ids = [r["ref_id"] for p in pages for r in p.rows]
    assert len(set(ids)) == 7
    dues = [r["due_on"] for p in pages for r in p.rows]
    assert dues == sorted(dues)
    past = todo_list(db, DEPT, date(2025, 10, 9), page=4, page_size=3)
    assert (past.rows, past.total, past.overdue) == ([], 7, 7)
    assert pages[0].overdue == 7
    issue = desk_list(db, SUP, "issue", date(2025, 10, 9), DeskFilter(), page=3, page_size=3)
    assert (len(issue.rows), issue.total, issue.pages) == (1, 7, 3)
    assert desk_list(db, SUP, "issue", date(2025, 10, 9), DeskFilter(), page=9).total == 7


# -- 督办台 -----------------------------------------------------------------------------------


def test_desk_lists_and_their_counts(db: Database) -> None:
    late = _alert(db, "C-late", T0)
    soon = _alert(db, "C-soon", T0)
    red = _alert(db, "C-red", T0, level="red")
    warning = _alert(db, "C-warn", T0, level="warning")
    appealed = _alert(db, "C-appeal", T0)
    o_late = issue_order(db, SUP, [late], datetime(2025, 9, 1, 9), content="早先的督办")
    o_soon = issue_order(db, SUP, [soon], T0, content="新的督办")
    act(db, DEPT, appealed, "appeal", T0, reason="不认可")
    replied = _alert(db, "C-replied", T0, dept="D2")
    o_replied = issue_order(db, SUP, [replied], T0, content="请回复")
    act_on_order(db, OTHER, o_replied.order_id, "reply", T0, text="已整改")

    today = date(2025, 10, 9)
    follow = desk_list(db, SUP, "follow", today, DeskFilter())
    assert [r["order_id"] for r in follow.rows] == [o_late.order_id, o_soon.order_id]
    assert follow.rows[0]["countdown"]["overdue"]
    assert follow.rows[1]["countdown"]["text"] == "剩余 1 个工作日"
    assert [r["order_id"] for r in desk_list(db, SUP, "replies", today, DeskFilter()).rows] == [
        o_replied.order_id
    ]
    decide = desk_list(db, SUP, "decide", today, DeskFilter())
    assert [r["alert_id"] for r in decide.rows] == [appealed]
    assert decide.rows[0]["answer"]["reason"] == "不认可"
    issue = desk_list(db, SUP, "issue", today, DeskFilter())
    assert [r["alert_id"] for r in issue.rows] == [red]  # not ordered, not decided, not a warning
    warnings = desk_list(db, SUP, "issue", today, DeskFilter(level="warning"))
    assert [r["alert_id"] for r in warnings.rows] == [warning]
    only_d2 = desk_list(db, SUP, "follow", today, DeskFilter(org_code="D2"))
    assert only_d2.total == 0

    counts = desk_counts(db, SUP)
    assert counts == {"follow": 2, "replies": 1, "decide": 1, "issue": 1}
    with pytest.raises(ForbiddenError):
        desk_list(db, DEPT, "follow", today, DeskFilter())


def test_menu_counts_equal_the_totals_the_pages_show(db: Database) -> None:
    a = _alert(db, "C1", T0)
    b = _alert(db, "C2", T0)
    _alert(db, "C3", T0, dept="D2")
    order = issue_order(db, SUP, [a], T0, content="请说明")
    act(db, DEPT, b, "explain", T0, reason="说明")
    act_on_order(db, DEPT, order.order_id, "reply", T0, text="已回复")
    today = date(2025, 10, 9)

    sup = waiting_counts(db, SUP)
    counts = desk_counts(db, SUP)
    assert sup.desk == counts["replies"] + counts["decide"] == 2
    assert sup.unread == count_notifications(db, SUP, unread_only=True) > 0
    dept = waiting_counts(db, DEPT)
    assert dept.desk == 0
    assert dept.todo == todo_list(db, DEPT, today).total == 1  # only a: b is explained
    assert dept.unread == count_notifications(db, DEPT, unread_only=True)
    assert waiting_counts(db, OTHER).todo == 1
    assert waiting_counts(db, Principal(name="public", role="public")).unread == 0


# -- bulk actions ------------------------------------------------------------------------------


def test_bulk_issue_makes_one_order_per_department_after_a_plan(db: Database) -> None:
    a = _alert(db, "C1", T0)
    b = _alert(db, "C2", T0)
    c = _alert(db, "C3", T0, dept="D2")
    plans = plan_orders(db, SUP, [a, b, c], T0)
    assert [(p.org_code, len(p.alerts), p.reply_due_on) for p in plans] == [
        ("D1", 2, date(2025, 10, 10)),
        ("D2", 1, date(2025, 10, 10)),
    ]
    orders = issue_orders(db, SUP, [a, b, c], T0, content="请一并说明")
    assert sorted((o.org_code, o.state) for o in orders) == [("D1", "issued"), ("D2", "issued")]
    assert desk_counts(db, SUP)["issue"] == 0
    assert desk_counts(db, SUP)["follow"] == 2
    with pytest.raises(ConflictError, match="已督办过"):
        plan_orders(db, SUP, [a], T0)
    with pytest.raises(ForbiddenError):
        plan_orders(db, DEPT, [a], T0)
    assert verify(db).ok


def test_bulk_issue_is_all_or_nothing(db: Database) -> None:
    a = _alert(db, "C1", T0)
    b = _alert(db, "C2", T0, dept="D2")
    issue_order(db, SUP, [b], T0, content="先督办了")
    before = db.scalar("SELECT COUNT(*) FROM orders")
    with pytest.raises(ConflictError, match="C2"):
        issue_orders(db, SUP, [a, b], T0, content="一起督办")
    assert db.scalar("SELECT COUNT(*) FROM orders") == before
    assert db.scalar("SELECT order_id FROM alert_workflow WHERE alert_id = ?", [a]) is None
    with pytest.raises(InputError, match="勾选"):
        plan_orders(db, SUP, [], T0)
    with pytest.raises(InputError, match="督办内容"):
        issue_orders(db, SUP, [a], T0, content="  ")


def test_bulk_accept_accepts_each_confirmed_reply_and_reports_the_others(db: Database) -> None:
    ids = [_alert(db, f"C{i}", T0) for i in range(3)]
    orders = [issue_order(db, SUP, [i], T0, content="请回复") for i in ids]
    for o in orders:
        act_on_order(db, DEPT, o.order_id, "reply", T0, text="已整改")
    plans = plan_accepts(db, SUP, [o.order_id for o in orders])
    refs = [f"{p.order.order_id}:{p.expected_version}" for p in plans]
    # meanwhile the third reply is returned and answered again: its confirmed version is stale
    third = orders[2].order_id
    act_on_order(db, SUP, third, "return", T0, text="请补充")
    act_on_order(db, DEPT, third, "reply", T0, text="补充后的回复")
    result = accept_replies(db, SUP, refs, T0, "同意")
    assert sorted(result.done) == sorted([orders[0].order_id, orders[1].order_id])
    assert [r[0] for r in result.refused] == [third]
    assert "版本" in result.refused[0][1]
    assert get_order(db, third, SYSTEM).state == "replied"
    assert {get_order(db, o, SYSTEM).state for o in result.done} == {"closed"}
    with pytest.raises(ConflictError, match="不是待审核"):
        plan_accepts(db, SUP, [orders[0].order_id])


# -- attachments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("程序.exe", b"MZ\x90\x00", "类型不允许"),
        ("说明.pdf", b"MZ\x90\x00", "内容不是PDF"),
        ("照片.png", b"%PDF-1.4", "内容不是PNG"),
        ("空.pdf", b"", "空文件"),
        ("大.pdf", b"%PDF-" + b"0" * MAX_ATTACHMENT_BYTES, "超过 5.0 MB 上限"),
        ("乱码.txt", b"\xff\xfe\x00\xd8\x00\x00\xff", "不是可读的文本文件"),
        ("无扩展名", b"%PDF-1.4", "类型不允许"),
    ],
)
def test_attachments_are_refused_in_chinese(name: str, content: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_attachment(Attachment(name, "application/octet-stream", content))


def test_attachment_type_comes_from_the_name_and_there_is_a_count_limit() -> None:
    checked = check_attachment(Attachment("整改报告.PDF", "text/html", PDF))
    assert (checked.name, checked.content_type) == ("整改报告.PDF", "application/pdf")
    assert check_attachment(Attachment("说明.txt", "", "情况说明".encode("gb18030"))).content
    with pytest.raises(InputError, match=f"最多上传 {MAX_FILES} 个"):
        check_attachments([Attachment(f"{i}.pdf", "", PDF) for i in range(MAX_FILES + 1)])


def test_answers_and_order_replies_carry_files_readable_only_in_scope(db: Database) -> None:
    alert = _alert(db, "C1", T0)
    act(
        db,
        DEPT,
        alert,
        "explain",
        T0,
        reason="见附件",
        attachments=[Attachment("说明.pdf", "", PDF)],
    )
    ref = transitions(db, alert)[-1]["attachments"][0]
    assert (ref["name"], ref["size_text"]) == ("说明.pdf", f"{len(PDF)} 字节")
    meta, content = attachment(db, SUP, ref["attachment_id"])
    assert (meta["name"], content) == ("说明.pdf", PDF)
    with pytest.raises(ForbiddenError):
        attachment(db, OTHER, ref["attachment_id"])
    with pytest.raises(InputError, match="不带附件"):
        act(db, SUP, alert, "accept_explanation", T0, attachments=[Attachment("a.pdf", "", PDF)])

    other = _alert(db, "C2", T0)
    order = issue_order(db, SUP, [other], T0, content="请回复")
    act_on_order(
        db, DEPT, order.order_id, "reply", T0, text="见照片",
        attachments=[Attachment("现场.png", "image/png", PNG)],
    )  # fmt: skip
    reply = order_transitions(db, order.order_id)[-1]
    assert (reply["action_name"], reply["attachments"][0]["name"]) == ("回复督办", "现场.png")
    meta, content = attachment(db, DEPT, reply["attachments"][0]["attachment_id"])
    assert content == PNG
    with pytest.raises(ForbiddenError):
        attachment(db, OTHER, reply["attachments"][0]["attachment_id"])
    with pytest.raises(InputError, match="类型不允许"):
        act_on_order(
            db, DEPT, order.order_id, "reply", T0, text="x",
            attachments=[Attachment("a.exe", "", b"MZ")],
        )  # fmt: skip
    assert verify(db).ok


# -- the inbox and the messages -----------------------------------------------------------------


def test_each_reader_has_an_inbox_of_their_own(db: Database) -> None:
    a = _alert(db, "C1", T0)
    b = _alert(db, "C2", T0)
    issue_order(db, SUP, [a], T0, content="请说明")
    issue_order(db, SUP, [b], T0, content="请说明")
    assert count_notifications(db, DEPT, unread_only=True) == 2
    first = list_notifications(db, DEPT)[0]
    mark_read(db, DEPT, first["notification_id"], T0)
    mark_read(db, DEPT, first["notification_id"], T0)  # again: nothing changes
    assert count_notifications(db, DEPT, unread_only=True) == 1
    assert count_notifications(db, DEPT2, unread_only=True) == 2  # a colleague has not read it
    assert list_notifications(db, DEPT)[0]["read_at"] == T0
    assert list_notifications(db, DEPT2)[0]["read_at"] is None
    assert mark_all_read(db, DEPT2, T0) == 2
    assert count_notifications(db, DEPT2, unread_only=True) == 0
    assert count_notifications(db, OTHER) == 0


def test_messages_are_chinese() -> None:
    assert done_message("explain") == "已提交情况说明"
    assert done_message("appeal") == "已申诉"
    assert done_message("uphold_appeal") == "已认定申诉成立"
