"""Escalation on both engines: overdue-order alerts keep a history, overdue rectification rises
one level once per due date, and automatic orders claim each red alert once across connections.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import orjson
import pytest

from govwatch.alerts.escalation import auto_orders, check_overdue, escalate_rectification
from govwatch.alerts.orders import OVERDUE_RULE, act_on_order, issue_order
from govwatch.alerts.seed import put_alert
from govwatch.alerts.sync import sync_workflow
from govwatch.alerts.workflow import act, get_state, transitions
from govwatch.auth.errors import ConflictError
from govwatch.auth.principal import Principal
from govwatch.ledger import verify
from govwatch.storage import Database, connect

T0 = datetime(2025, 9, 26, 10, 0)  # Friday before National Day
SUP = Principal(name="sup", role="supervisor")
DEPT = Principal(name="dept", role="department", org_code="D1", scope=frozenset({"D1"}))


def history(db: Database, alert_id: str) -> list[tuple[int, str, str]]:
    return [
        (int(r[0]), str(r[1]), str(r[2]))
        for r in db.query(
            "SELECT seq, change, level FROM alert_history WHERE alert_id = ? ORDER BY seq",
            [alert_id],
        )
    ]


def ledger(db: Database, kind: str, ref: str) -> list[dict[str, Any]]:
    return [
        orjson.loads(r[0])
        for r in db.query(
            "SELECT payload FROM ledger WHERE kind = ? AND ref = ? ORDER BY seq", [kind, ref]
        )
    ]


def overdue_alert(db: Database) -> str:
    return str(db.scalar("SELECT alert_id FROM alerts WHERE rule = ?", [OVERDUE_RULE]))


@contextmanager
def two_connections(db_url: str) -> Iterator[tuple[Database, Database, Database]]:
    """A setup connection and two more for two threads: on DuckDB two cursors of one connection
    (one process holds the file), on PostgreSQL two connections."""
    setup = connect(db_url)
    if setup.dialect == "duckdb":
        pair = (
            Database("duckdb", setup.raw.cursor(), db_url),
            Database("duckdb", setup.raw.cursor(), db_url),
        )
    else:
        pair = (connect(db_url, migrate=False), connect(db_url, migrate=False))
    try:
        yield setup, pair[0], pair[1]
    finally:
        for one in pair:
            one.close()
        setup.close()


def run_both(pair: tuple[Database, Database], step: Callable[[Database], int]) -> list[int]:
    """Run ``step`` on both connections at once (released together by a barrier)."""
    barrier = threading.Barrier(2, timeout=60)  # a side that fails first breaks it
    results: list[int] = []
    errors: list[BaseException] = []

    def run(db: Database) -> None:
        try:
            barrier.wait()
            results.append(step(db))
        except BaseException as exc:  # surfaced in the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(db,)) for db in pair]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


# -- 1. overdue orders: their alerts keep a history like the engine's -------------------------


def test_overdue_order_alert_history_records_raise_red_and_clear(db: Database) -> None:
    alert = put_alert(db, "C1", "case_overdue", T0, department_code="D1")
    order = issue_order(db, SUP, [alert], T0, content="请核查")
    check_overdue(db, datetime(2025, 10, 11, 9, 0))
    overdue = overdue_alert(db)
    assert history(db, overdue) == [(1, "raised", "yellow")]
    # the sweeper runs again and again: nothing more to record
    check_overdue(db, datetime(2025, 10, 11, 9, 5))
    check_overdue(db, datetime(2025, 10, 16, 20, 0))
    assert history(db, overdue) == [(1, "raised", "yellow")]
    # the second reply period (11, 13–16 Oct) has passed
    check_overdue(db, datetime(2025, 10, 17, 9, 0))
    check_overdue(db, datetime(2025, 10, 17, 9, 5))
    assert history(db, overdue) == [(1, "raised", "yellow"), (2, "level", "red")]
    reply_at = datetime(2025, 10, 17, 10, 0)
    act_on_order(db, DEPT, order.order_id, "reply", reply_at, text="迟复")
    assert history(db, overdue) == [
        (1, "raised", "yellow"),
        (2, "level", "red"),
        (3, "cleared", "red"),
    ]
    rows = db.query_dicts(
        "SELECT changed_at, message, catalog_version FROM alert_history WHERE alert_id = ? "
        "ORDER BY seq",
        [overdue],
    )
    assert [r["changed_at"] for r in rows] == [
        datetime(2025, 10, 11, 9, 0),
        datetime(2025, 10, 17, 9, 0),
        reply_at,
    ]
    assert order.order_id in rows[0]["message"] and "红牌" in rows[1]["message"]
    assert "回复" in rows[2]["message"]
    changes = ledger(db, "alert.condition", overdue)
    assert [(c["seq"], c["change"], c["level"]) for c in changes] == history(db, overdue)
    assert {c["order_id"] for c in changes} == {order.order_id}
    state = get_state(db, overdue)
    assert state is not None and (state.state, state.close_reason) == ("closed", "auto")
    assert verify(db).ok


def test_returned_order_overdue_again_reopens_its_alert(db: Database) -> None:
    alert = put_alert(db, "C1", "case_overdue", T0, department_code="D1")
    order = issue_order(db, SUP, [alert], T0, content="请核查")
    sync_workflow(db, datetime(2025, 10, 11, 9, 0))  # overdue: the alert is raised
    overdue = overdue_alert(db)
    act_on_order(db, DEPT, order.order_id, "reply", datetime(2025, 10, 13, 9, 0), text="迟复")
    returned = act_on_order(
        db, SUP, order.order_id, "return", datetime(2025, 10, 14, 9, 0), text="回复不完整"
    )
    assert returned.reply_due_on == date(2025, 10, 21)  # 15, 16, 17, 20, 21 Oct
    sync_workflow(db, datetime(2025, 10, 21, 20, 0))
    assert db.scalar("SELECT status FROM alerts WHERE alert_id = ?", [overdue]) == "cleared"
    again = datetime(2025, 10, 22, 9, 0)
    report = sync_workflow(db, again)
    assert report.orders_overdue == 1
    assert history(db, overdue) == [
        (1, "raised", "yellow"),
        (2, "cleared", "yellow"),
        (3, "reopened", "yellow"),
    ]
    row = db.query_dicts(
        "SELECT status, cleared_at, message FROM alerts WHERE alert_id = ?", [overdue]
    )
    assert (row[0]["status"], row[0]["cleared_at"]) == ("active", None)
    assert "2025-10-21" in row[0]["message"]  # the new reply date
    state = get_state(db, overdue)
    assert state is not None and state.state == "open"
    assert [t["action"] for t in transitions(db, overdue)] == ["raise", "auto_close", "reopen"]
    assert verify(db).ok


def test_two_sweepers_turn_an_overdue_alert_red_once(db_url: str) -> None:
    with two_connections(db_url) as (setup, one, two):
        alert = put_alert(setup, "C1", "case_overdue", T0, department_code="D1")
        issue_order(setup, SUP, [alert], T0, content="请核查")
        run_both((one, two), lambda db: check_overdue(db, datetime(2025, 10, 11, 9, 0)))
        run_both((one, two), lambda db: check_overdue(db, datetime(2025, 10, 17, 9, 0)))
        overdue = overdue_alert(setup)
        assert history(setup, overdue) == [(1, "raised", "yellow"), (2, "level", "red")]
        assert len(ledger(setup, "alert.condition", overdue)) == 2
        assert verify(setup).ok


# -- 2. rectification past its due date rises one level ---------------------------------------


def rectifying(db: Database, level: str, due_on: date, case_id: str = "C1") -> str:
    alert = put_alert(
        db, case_id, "step_overdue", T0, key="审查", level=level, department_code="D1"
    )
    sync_workflow(db, T0)
    act(db, SUP, alert, "require_rectification", T0, reason="限期整改", due_on=due_on)
    return alert


def test_overdue_rectification_rises_one_level_once_per_due_date(db: Database) -> None:
    alert = rectifying(db, "yellow", date(2025, 10, 10))
    assert sync_workflow(db, datetime(2025, 10, 10, 23, 0)).rectifications_overdue == 0
    late = datetime(2025, 10, 11, 9, 0)
    report = sync_workflow(db, late)
    assert report.rectifications_overdue == 1
    assert db.scalar("SELECT level FROM alerts WHERE alert_id = ?", [alert]) == "red"
    assert history(db, alert) == [(1, "level", "red")]
    last = transitions(db, alert)[-1]
    assert (last["action"], last["from_state"], last["to_state"]) == (
        "escalate",
        "rectifying",
        "rectifying",
    )
    assert (last["actor"], last["actor_role"], last["acted_at"]) == ("system", "system", late)
    assert last["due_on"] == date(2025, 10, 10)
    assert "2025-10-10" in last["reason"] and "黄牌升为红牌" in last["reason"]
    entry = ledger(db, "alert.escalate", alert)
    assert [(e["seq"], e["level_from"], e["level_to"]) for e in entry] == [(3, "yellow", "red")]
    notified = db.query("SELECT recipient_role FROM notifications WHERE kind = 'alert.escalate'")
    assert sorted(r[0] for r in notified) == ["department", "supervisor"]
    # a red card now: it gets its automatic order in the same sweep
    assert report.orders_issued == 1
    # repeated sweeps of the same passing change nothing
    for hour in (10, 11, 12):
        assert sync_workflow(db, late.replace(hour=hour)).rectifications_overdue == 0
    assert len(transitions(db, alert)) == 3
    assert history(db, alert) == [(1, "level", "red")]
    state = get_state(db, alert)
    assert state is not None and (state.state, state.version) == ("rectifying", 3)
    assert verify(db).ok


def test_each_passed_due_date_escalates_again_and_red_stays_red(db: Database) -> None:
    alert = rectifying(db, "warning", date(2025, 10, 10))
    sync_workflow(db, datetime(2025, 10, 11, 9, 0))
    assert db.scalar("SELECT level FROM alerts WHERE alert_id = ?", [alert]) == "yellow"
    assert db.scalar("SELECT count(*) FROM orders") == 0  # yellow: no automatic order
    act(db, DEPT, alert, "report_rectified", datetime(2025, 10, 13, 9, 0), reason="已整改")
    act(
        db,
        SUP,
        alert,
        "return_rectification",
        datetime(2025, 10, 14, 9, 0),
        reason="整改不到位",
        due_on=date(2025, 10, 16),
    )
    assert sync_workflow(db, datetime(2025, 10, 16, 9, 0)).rectifications_overdue == 0
    assert sync_workflow(db, datetime(2025, 10, 17, 9, 0)).rectifications_overdue == 1
    assert db.scalar("SELECT level FROM alerts WHERE alert_id = ?", [alert]) == "red"
    act(db, DEPT, alert, "report_rectified", datetime(2025, 10, 20, 9, 0), reason="再次整改")
    act(
        db,
        SUP,
        alert,
        "return_rectification",
        datetime(2025, 10, 20, 10, 0),
        reason="仍不到位",
        due_on=date(2025, 10, 21),
    )
    assert sync_workflow(db, datetime(2025, 10, 22, 9, 0)).rectifications_overdue == 1
    assert db.scalar("SELECT level FROM alerts WHERE alert_id = ?", [alert]) == "red"
    # the third passing is recorded, but there is no level above red to record in the history
    assert history(db, alert) == [(1, "level", "yellow"), (2, "level", "red")]
    escalations = [t for t in transitions(db, alert) if t["action"] == "escalate"]
    assert [t["due_on"] for t in escalations] == [
        date(2025, 10, 10),
        date(2025, 10, 16),
        date(2025, 10, 21),
    ]
    assert "最高等级" in escalations[-1]["reason"]
    assert [(e["level_from"], e["level_to"]) for e in ledger(db, "alert.escalate", alert)] == [
        ("warning", "yellow"),
        ("yellow", "red"),
        ("red", "red"),
    ]
    assert verify(db).ok


def test_reported_rectification_is_not_escalated_and_escalation_bumps_the_version(
    db: Database,
) -> None:
    reported = rectifying(db, "yellow", date(2025, 10, 10), "C1")
    act(db, DEPT, reported, "report_rectified", datetime(2025, 10, 10, 9, 0), reason="已整改")
    waiting = rectifying(db, "yellow", date(2025, 10, 10), "C2")
    before = get_state(db, waiting)
    assert before is not None
    assert escalate_rectification(db, datetime(2025, 10, 11, 9, 0)) == 1
    assert db.scalar("SELECT level FROM alerts WHERE alert_id = ?", [reported]) == "yellow"
    # a department acting on the page it loaded before the escalation is told to refresh
    with pytest.raises(ConflictError, match="版本"):
        act(
            db,
            DEPT,
            waiting,
            "report_rectified",
            datetime(2025, 10, 11, 10, 0),
            reason="已整改",
            expected_version=before.version,
        )


def test_two_sweepers_escalate_an_overdue_rectification_once(db_url: str) -> None:
    with two_connections(db_url) as (setup, one, two):
        alerts = [rectifying(setup, "yellow", date(2025, 10, 10), f"C{i}") for i in range(5)]
        counts = run_both(
            (one, two), lambda db: escalate_rectification(db, datetime(2025, 10, 11, 9, 0))
        )
        assert sorted(counts) == [0, 5]
        for alert in alerts:
            assert history(setup, alert) == [(1, "level", "red")]
            assert [t["action"] for t in transitions(setup, alert)].count("escalate") == 1
        assert verify(setup).ok


# -- 3. automatic orders: one per red alert, whatever runs at the same time -------------------


def test_concurrent_automatic_orders_put_each_red_alert_under_one_order(db_url: str) -> None:
    with two_connections(db_url) as (setup, one, two):
        red = [
            put_alert(setup, f"C{d}-{i}", "case_overdue", T0, level="red", department_code=f"D{d}")
            for d in range(12)
            for i in range(3)
        ]
        issued = run_both((one, two), lambda db: auto_orders(db, T0))
        assert sum(issued) == 12  # one order per department, by one sweeper or the other
        per_alert = dict(
            setup.query(
                "SELECT oa.alert_id, count(*) FROM order_alerts oa "
                "JOIN orders o ON o.order_id = oa.order_id WHERE o.automatic GROUP BY oa.alert_id"
            )
        )
        assert per_alert == {alert: 1 for alert in red}
        assert setup.scalar("SELECT count(*) FROM orders") == 12
        assert setup.scalar("SELECT count(DISTINCT org_code) FROM orders") == 12
        # the claim records the order on the workflow row, and each alert was raised once
        assert (
            setup.scalar(
                "SELECT count(*) FROM alert_workflow w JOIN order_alerts oa "
                "ON oa.alert_id = w.alert_id AND oa.order_id = w.order_id"
            )
            == 36
        )
        assert setup.scalar("SELECT count(*) FROM alert_transitions") == 36
        assert verify(setup).ok
        # and again, later: nothing left to put under an order
        assert auto_orders(setup, T0.replace(hour=11)) == 0


def test_alert_under_a_manual_order_gets_no_automatic_one(db: Database) -> None:
    alert = put_alert(db, "C1", "case_overdue", T0, level="red", department_code="D1")
    manual = issue_order(db, SUP, [alert], T0, content="请核查")
    state = db.scalar("SELECT order_id FROM alert_workflow WHERE alert_id = ?", [alert])
    assert state == manual.order_id
    assert auto_orders(db, T0) == 0


def test_an_overdue_order_alert_turning_red_tells_the_department_and_supervisors_once(
    db: Database,
) -> None:
    alert = put_alert(db, "C1", "case_overdue", T0, department_code="D1")
    issue_order(db, SUP, [alert], T0, content="请核查")
    check_overdue(db, datetime(2025, 10, 11, 9, 0))
    overdue = overdue_alert(db)

    def red_notices() -> list[tuple[str | None, str | None, str]]:
        return sorted(
            (r[0], r[1], str(r[2]))
            for r in db.query(
                "SELECT recipient_role, recipient_org, message FROM notifications "
                "WHERE kind = 'alert.red' AND ref = ?",
                [overdue],
            )
        )

    assert red_notices() == []  # yellow is not news of this kind
    for minute in (0, 5):  # the sweeper runs again: nothing twice
        check_overdue(db, datetime(2025, 10, 17, 9, minute))
    notices = red_notices()
    assert [(role, org) for role, org, _ in notices] == [("department", "D1"), ("supervisor", None)]
    assert all("红牌" in message and "C1" in message for _, _, message in notices)
