"""The alert workflow on both engines: every path, every illegal move, one claim per action."""

from __future__ import annotations

import threading
from datetime import date, datetime

import pytest

from govwatch.alerts.seed import put_alert, set_alert_status
from govwatch.alerts.states import ACTIONS, MOVES
from govwatch.alerts.sync import sync_workflow
from govwatch.alerts.workflow import act, decode_attachment, get_state, transitions
from govwatch.auth.errors import ConflictError, ForbiddenError, NotFoundError
from govwatch.auth.principal import Principal
from govwatch.errors import InputError
from govwatch.ledger import verify
from govwatch.storage import Database, connect

T0 = datetime(2025, 10, 9, 10, 0)
SUP = Principal(name="sup", role="supervisor")
DEPT = Principal(name="dept", role="department", org_code="D1", scope=frozenset({"D1"}))
OTHER = Principal(name="other", role="department", org_code="D2", scope=frozenset({"D2"}))


@pytest.fixture
def alert(db: Database) -> str:
    alert_id = put_alert(db, "C1", "case_overdue", T0, department_code="D1", region_code="330102")
    sync_workflow(db, T0)
    return alert_id


def walk(db: Database, alert_id: str, steps: list[tuple[Principal, str, dict[str, object]]]) -> str:
    state = ""
    for i, (who, action, extra) in enumerate(steps):
        result = act(db, who, alert_id, action, T0.replace(hour=11 + i), **extra)  # type: ignore[arg-type]
        state = result.state
    return state


PATHS = {
    "explanation accepted": (
        [(DEPT, "explain", {"reason": "系统故障导致数据延迟"}), (SUP, "accept_explanation", {})],
        "closed",
    ),
    "appeal upheld": (
        [
            (DEPT, "appeal", {"reason": "申请人主动撤回"}),
            (SUP, "uphold_appeal", {"reason": "属实"}),
        ],
        "dismissed",
    ),
    "appeal rejected, rectified, confirmed": (
        [
            (DEPT, "appeal", {"reason": "不认可"}),
            (SUP, "reject_appeal", {"reason": "理由不成立", "due_on": date(2025, 10, 20)}),
            (DEPT, "report_rectified", {"reason": "已整改"}),
            (SUP, "confirm_rectified", {}),
        ],
        "closed",
    ),
    "explained, rectification ordered, returned once": (
        [
            (DEPT, "explain", {"reason": "说明"}),
            (SUP, "require_rectification", {"reason": "需整改"}),
            (DEPT, "report_rectified", {"reason": "已整改"}),
            (SUP, "return_rectification", {"reason": "整改不到位"}),
            (DEPT, "report_rectified", {"reason": "再次整改"}),
            (SUP, "confirm_rectified", {}),
        ],
        "closed",
    ),
    "explained then appealed": (
        [
            (DEPT, "explain", {"reason": "说明"}),
            (DEPT, "appeal", {"reason": "申诉"}),
            (SUP, "uphold_appeal", {"reason": "成立"}),
        ],
        "dismissed",
    ),
    "closed directly by a supervisor": ([(SUP, "close", {"reason": "误报"})], "closed"),
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_workflow_path_reaches_its_end_with_one_row_per_transition(
    db: Database, alert: str, path: str
) -> None:
    steps, end = PATHS[path]
    assert walk(db, alert, steps) == end
    rows = transitions(db, alert)
    assert [r["seq"] for r in rows] == list(range(1, len(steps) + 2))
    assert rows[0]["action"] == "raise"
    assert [r["action"] for r in rows[1:]] == [s[1] for s in steps]
    assert all(r["actor"] and r["acted_at"] and r["reason"] for r in rows)
    assert rows[-1]["to_state"] == end
    assert verify(db).ok
    kinds = [r[0] for r in db.query("SELECT kind FROM ledger ORDER BY seq")]
    assert kinds == ["alert.raise"] + [f"alert.{s[1]}" for s in steps]


def test_rejected_appeal_gets_a_fifteen_working_day_due_date_by_default(
    db: Database, alert: str
) -> None:
    walk(
        db,
        alert,
        [(DEPT, "appeal", {"reason": "不认可"}), (SUP, "reject_appeal", {"reason": "不成立"})],
    )
    state = get_state(db, alert)
    assert state is not None and state.state == "rectifying"
    # 2025-10-09 (Thu) + 15 W: 10, 11 (make-up Sat), 13–17, 20–24, 27–29 Oct
    assert state.due_on == date(2025, 10, 29)


ILLEGAL = [
    (state_path, action)
    for state_path, reached in (
        ([], "open"),
        ([(DEPT, "appeal", {"reason": "x"})], "appealed"),
        ([(SUP, "close", {"reason": "x"})], "closed"),
        ([(DEPT, "appeal", {"reason": "x"}), (SUP, "uphold_appeal", {"reason": "x"})], "dismissed"),
        ([(SUP, "require_rectification", {"reason": "x"})], "rectifying"),
    )
    for action in ACTIONS
    if reached not in MOVES[action].sources
    for state_path in [state_path]
]


@pytest.mark.parametrize(
    "steps, action", ILLEGAL, ids=[f"{a}-after-{len(s)}-steps" for s, a in ILLEGAL]
)
def test_illegal_move_is_refused_and_changes_nothing(
    db: Database, alert: str, steps: list[tuple[Principal, str, dict[str, object]]], action: str
) -> None:
    walk(db, alert, steps)
    before = get_state(db, alert)
    who = DEPT if MOVES[action].by == "department" else SUP
    extra = {"reason": "理由"} if MOVES[action].reason_required else {}
    with pytest.raises(ConflictError, match="不能"):
        act(db, who, alert, action, T0.replace(hour=20), **extra)  # type: ignore[arg-type]
    assert get_state(db, alert) == before
    assert len(transitions(db, alert)) == len(steps) + 1


def test_department_cannot_decide_and_supervisor_cannot_appeal(db: Database, alert: str) -> None:
    with pytest.raises(ForbiddenError, match="监察人员"):
        act(db, DEPT, alert, "close", T0, reason="自己关掉")
    with pytest.raises(ForbiddenError, match="责任部门"):
        act(db, SUP, alert, "appeal", T0, reason="代为申诉")


def test_other_department_is_forbidden_and_unknown_alert_not_found(
    db: Database, alert: str
) -> None:
    with pytest.raises(ForbiddenError):
        act(db, OTHER, alert, "explain", T0, reason="x")
    with pytest.raises(NotFoundError):
        act(db, DEPT, "0" * 64, "explain", T0, reason="x")


def test_reason_is_required_where_the_move_needs_one(db: Database, alert: str) -> None:
    with pytest.raises(InputError, match="理由"):
        act(db, DEPT, alert, "appeal", T0, reason="  ")
    with pytest.raises(InputError, match="无效"):
        act(db, DEPT, alert, "auto_close", T0)


def test_stale_version_is_refused(db: Database, alert: str) -> None:
    act(db, DEPT, alert, "appeal", T0, reason="x", expected_version=1)
    with pytest.raises(ConflictError, match="版本"):
        act(db, SUP, alert, "uphold_appeal", T0, reason="x", expected_version=1)


def test_attachments_are_stored_with_their_digest(db: Database, alert: str) -> None:
    import base64

    file = decode_attachment(
        "说明.txt", "text/plain", base64.b64encode("情况说明".encode()).decode()
    )
    act(db, DEPT, alert, "appeal", T0, reason="见附件", attachments=[file])
    row = transitions(db, alert)[-1]
    assert row["attachments"][0]["name"] == "说明.txt"
    assert row["attachments"][0]["size_bytes"] == len("情况说明".encode())
    with pytest.raises(InputError, match="Base64"):
        decode_attachment("x", "text/plain", "%%%")


def test_two_concurrent_decisions_on_one_appeal_apply_once(db_url: str) -> None:
    setup = connect(db_url)
    alert = put_alert(setup, "C1", "case_overdue", T0, department_code="D1")
    act(setup, DEPT, alert, "appeal", T0, reason="不认可")
    barrier = threading.Barrier(2, timeout=60)  # a side that fails first breaks it
    outcomes: list[str] = []

    def decide(action: str, extra: dict[str, object]) -> None:
        db = connect(db_url, migrate=False)
        try:
            barrier.wait()
            act(db, SUP, alert, action, T0.replace(hour=12), **extra)  # type: ignore[arg-type]
            outcomes.append("applied")
        except ConflictError:
            outcomes.append("refused")
        finally:
            db.close()

    threads = [
        threading.Thread(target=decide, args=("uphold_appeal", {"reason": "成立"})),
        threading.Thread(target=decide, args=("reject_appeal", {"reason": "不成立"})),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["applied", "refused"]
    rows = transitions(setup, alert)
    assert [r["action"] for r in rows][:2] == ["raise", "appeal"]
    assert len(rows) == 3
    assert (
        setup.scalar(
            "SELECT count(*) FROM notifications WHERE kind IN "
            "('alert.uphold_appeal', 'alert.reject_appeal')"
        )
        == 1
    )
    assert verify(setup).ok
    setup.close()


def test_engine_clearing_closes_the_alert_automatically_and_its_return_reopens(
    db: Database, alert: str
) -> None:
    act(db, DEPT, alert, "appeal", T0, reason="x")
    set_alert_status(db, alert, "cleared", T0.replace(hour=12))
    report = sync_workflow(db, T0.replace(hour=12))
    assert report.auto_closed == 1
    state = get_state(db, alert)
    assert state is not None and (state.state, state.close_reason) == ("closed", "auto")
    assert sync_workflow(db, T0.replace(hour=13)).auto_closed == 0  # applies once
    set_alert_status(db, alert, "active", T0.replace(hour=14))
    assert sync_workflow(db, T0.replace(hour=14)).reopened == 1
    rows = transitions(db, alert)
    assert [(r["action"], r["from_state"], r["to_state"]) for r in rows[-2:]] == [
        ("auto_close", "appealed", "closed"),
        ("reopen", "closed", "open"),
    ]
    assert verify(db).ok


def test_dismissed_alert_is_not_reopened_by_the_engine(db: Database, alert: str) -> None:
    walk(db, alert, [(DEPT, "appeal", {"reason": "x"}), (SUP, "uphold_appeal", {"reason": "x"})])
    set_alert_status(db, alert, "cleared", T0.replace(hour=15))
    sync_workflow(db, T0.replace(hour=15))
    set_alert_status(db, alert, "active", T0.replace(hour=16))
    sync_workflow(db, T0.replace(hour=16))
    state = get_state(db, alert)
    assert state is not None and state.state == "dismissed"


def test_sync_raises_workflows_for_new_alerts_once(db: Database) -> None:
    for i in range(3):
        put_alert(db, f"C{i}", "step_overdue", T0, key="审查", department_code="D1")
    assert sync_workflow(db, T0, ["C0", "C1"]).raised == 2
    assert sync_workflow(db, T0).raised == 1
    assert sync_workflow(db, T0).raised == 0
    assert db.scalar("SELECT count(*) FROM alert_transitions WHERE action = 'raise'") == 3
