"""Rectification demands worked to the end, on DuckDB and PostgreSQL: raised at publication with
an owner and a due date on the working-day calendar, none for an indicator that only lacks
data (flagged instead), replied with files, returned and confirmed (ledgered), overdue on the
calendar, followed up by the next round, and seen by a department for its own units only."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import orjson
import pytest

from govwatch.alerts.attachments import Attachment, store_attachments
from govwatch.auth.errors import ForbiddenError, NotFoundError
from govwatch.auth.orgs import add_org
from govwatch.auth.users import add_user
from govwatch.errors import GovwatchError, InputError
from govwatch.evaluation.rounds.lifecycle import compute_round, follow_up
from govwatch.evaluation.rounds.rectification import (
    OWNER_KIND,
    DemandFilter,
    confirm,
    demand_file,
    demand_id_of,
    get_demand,
    list_demands,
    list_gaps,
    move_due,
    owed_count,
    reply,
    return_demand,
    set_round_days,
)
from govwatch.evaluation.rounds.values import submit_value
from govwatch.storage import Database

from .rectification_seed import (
    ADMIN,
    ADMIN_ACTOR,
    D102,
    D203,
    EVALUATOR,
    PUBLISHED_AT,
    ROUND,
    SUPERVISOR,
    SYSTEM,
    create,
    publish,
)

PDF = b"%PDF-1.4 rectification report\n"


@pytest.fixture
def published(db: Database) -> Database:
    add_org(db, "330102", "上城区", "department", None, None, PUBLISHED_AT)
    add_org(db, "330203", "海曙区", "department", None, None, PUBLISHED_AT)
    add_user(db, "d102", "Pass-word-2025!", "department", "330102", PUBLISHED_AT)
    create(db)
    publish(db)
    return db


def _nth_workday_after(db: Database, day: date, n: int) -> date:
    """The n-th working day after ``day``, read from the calendar table itself."""
    found = db.scalar(
        f"SELECT on_date FROM calendar WHERE on_date > ? AND is_workday ORDER BY on_date "
        f"LIMIT 1 OFFSET {n - 1}",
        [day],
    )
    return found if isinstance(found, date) else date.fromisoformat(str(found))


def _store(demand_id: str, files: list[Attachment], at: datetime):  # type: ignore[no-untyped-def]
    return lambda tx: store_attachments(tx, OWNER_KIND, demand_id, files, "d102", at)


def test_publication_raises_demands_with_owner_and_due_date(published: Database) -> None:
    db = published
    rows = db.query_dicts(
        "SELECT d.unit, d.indicator, d.indicator_name, d.points_lost, d.owner_org, d.owner_user, "
        "d.due_days, d.due_on, d.status, d.demand_id FROM eval_rectifications d "
        "WHERE d.round_id = ? ORDER BY d.unit, d.indicator",
        [ROUND],
    )
    results = {
        r["unit"]: (orjson.loads(r["points"]), set(orjson.loads(r["missing"])))
        for r in db.query_dicts("SELECT unit, points, missing FROM eval_results")
    }
    weights = {"channels": 40.0, "service": 30.0, "guide": 30.0}
    expected_due = _nth_workday_after(db, PUBLISHED_AT.date(), 15)
    d102_user = db.scalar("SELECT user_id FROM users WHERE username = 'd102'")
    for r in rows:
        points, missing = results[r["unit"]]
        assert r["indicator"] not in missing
        assert r["points_lost"] == pytest.approx(weights[r["indicator"]] - points[r["indicator"]])
        assert r["owner_org"] == r["unit"]
        assert r["owner_user"] == (d102_user if r["unit"] == "330102" else None)
        assert (r["due_days"], r["due_on"], r["status"]) == (15, expected_due, "open")
        assert r["demand_id"] == demand_id_of(ROUND, r["unit"], r["indicator"])
    assert [(r["unit"], r["indicator"]) for r in rows] == [
        ("330102", "channels"),
        ("330102", "guide"),
        ("330203", "service"),
    ]
    assert rows[0]["indicator_name"] == "多渠道服务"
    assert "eval_rectifications" not in SYSTEM  # (the system is plain YAML)
    raised = db.query("SELECT payload FROM ledger WHERE kind = 'rectification.raise'")
    assert len(raised) == 1 and len(orjson.loads(raised[0][0])["demands"]) == 3


def test_an_indicator_that_only_lacks_data_is_flagged_not_demanded(published: Database) -> None:
    db = published
    assert not db.scalar(
        "SELECT COUNT(*) FROM eval_rectifications WHERE unit = '330102' AND indicator = 'service'"
    )
    gaps = list_gaps(db, ADMIN, ROUND)
    assert [(g["unit"], g["indicator"], g["indicator_name"], g["points_lost"]) for g in gaps] == [
        ("330102", "service", "服务满意度自评", 30.0)
    ]
    assert list_gaps(db, D203, ROUND) == []
    assert [g["unit"] for g in list_gaps(db, D102, ROUND)] == ["330102"]


def test_reply_with_a_file_returned_then_replied_again_and_confirmed(published: Database) -> None:
    db = published
    guide = demand_id_of(ROUND, "330102", "guide")
    t = datetime(2025, 11, 20, 10)
    assert owed_count(db, D102) == 2 and owed_count(db, ADMIN) == 0
    reply(
        db,
        D102,
        guide,
        "已在门户公布全部办事指南",
        t,
        _store(guide, [Attachment("整改报告.pdf", "", PDF)], t),
    )
    shown = get_demand(db, D102, guide, t.date())
    assert shown["status"] == "replied" and shown["shown_status"] == "已回复"
    assert [(f["name"], f["size_bytes"]) for f in shown["files"]] == [("整改报告.pdf", len(PDF))]
    name, content = demand_file(db, D102, guide, shown["files"][0]["attachment_id"])
    assert (name, content) == ("整改报告.pdf", PDF)
    assert owed_count(db, D102) == 1 and owed_count(db, ADMIN) == 1
    with pytest.raises(InputError, match="退回理由"):
        return_demand(db, ADMIN, guide, " ", t)
    return_demand(db, ADMIN, guide, "未附公布页面截图", t + timedelta(hours=1))
    assert get_demand(db, ADMIN, guide, t.date())["status_name"] == "已退回"
    reply(db, D102, guide, "补充截图", t + timedelta(days=1))
    confirm(db, ADMIN, guide, t + timedelta(days=2), "整改到位")
    final = get_demand(db, SUPERVISOR, guide, t.date() + timedelta(days=2))
    assert final["status"] == "confirmed" and final["decision_reason"] == "整改到位"
    assert [h["action"] for h in final["history"]] == [
        "raise", "reply", "return", "reply", "confirm",
    ]  # fmt: skip
    assert final["history"][1]["attachments"][0]["name"] == "整改报告.pdf"
    ledger = db.query_dicts(
        "SELECT kind, actor, payload FROM ledger WHERE ref = ? ORDER BY seq",
        [f"rectification:{guide}"],
    )
    assert [(r["kind"], r["actor"]) for r in ledger] == [
        ("rectification.reply", "d102"),
        ("rectification.return", "admin1"),
        ("rectification.reply", "d102"),
        ("rectification.confirm", "admin1"),
    ]
    sha = db.scalar("SELECT sha256 FROM attachments WHERE owner_id = ?", [guide])
    assert orjson.loads(ledger[0]["payload"])["attachments"] == [sha]
    with pytest.raises(InputError, match="已确认"):
        reply(db, D102, guide, "再回复", t + timedelta(days=3))


def test_a_bad_file_is_refused_and_nothing_changes(published: Database) -> None:
    db = published
    guide = demand_id_of(ROUND, "330102", "guide")
    t = datetime(2025, 11, 20, 10)
    with pytest.raises(InputError, match="内容不是PDF"):
        reply(
            db, D102, guide, "见附件", t, _store(guide, [Attachment("报告.pdf", "", b"MZ...")], t)
        )
    assert get_demand(db, D102, guide, t.date())["status"] == "open"
    assert not db.scalar("SELECT COUNT(*) FROM attachments WHERE owner_id = ?", [guide])


def test_who_may_act_and_see(published: Database) -> None:
    db = published
    t = datetime(2025, 11, 20, 10)
    other = demand_id_of(ROUND, "330203", "service")
    with pytest.raises(NotFoundError):
        get_demand(db, D102, other, t.date())
    with pytest.raises(NotFoundError):
        reply(db, D102, other, "代答", t)
    with pytest.raises(ForbiddenError, match="部门账号"):
        reply(db, ADMIN, other, "代答", t)
    reply(db, D203, other, "已整改", t)
    with pytest.raises(ForbiddenError, match="需要管理员角色"):
        confirm(db, SUPERVISOR, other, t)
    with pytest.raises(ForbiddenError, match="需要管理员角色"):
        confirm(db, D203, other, t)
    with pytest.raises(ForbiddenError):
        list_demands(db, EVALUATOR, t.date())
    assert {d["unit"] for d in list_demands(db, D102, t.date())} == {"330102"}
    assert {d["unit"] for d in list_demands(db, SUPERVISOR, t.date())} == {"330102", "330203"}


def test_overdue_on_the_working_day_calendar(published: Database) -> None:
    db = published
    due = _nth_workday_after(db, PUBLISHED_AT.date(), 15)
    next_workday = _nth_workday_after(db, due, 1)
    on_due = list_demands(db, ADMIN, due)
    assert {d["overdue"] for d in on_due} == {False}
    assert {d["countdown"] for d in on_due} == {"今日到期"}
    before = list_demands(db, ADMIN, _prev_workday(db, due, 2))
    assert {d["countdown"] for d in before} == {"剩余 2 个工作日"}
    service = demand_id_of(ROUND, "330203", "service")
    reply(db, D203, service, "已整改", datetime.combine(due, datetime.min.time()))
    confirm(db, ADMIN, service, datetime.combine(due, datetime.min.time()))
    late = list_demands(db, ADMIN, next_workday)
    assert [(d["unit"], d["overdue"], d["shown_status"]) for d in late][:2] == [
        ("330102", True, "已超期"),
        ("330102", True, "已超期"),
    ]
    assert late[-1]["demand_id"] == service and not late[-1]["overdue"]
    assert late[0]["countdown"] == "已超期 1 个工作日"
    overdue = list_demands(db, ADMIN, next_workday, DemandFilter(status="overdue"))
    assert {d["demand_id"] for d in overdue} == {
        demand_id_of(ROUND, "330102", "guide"),
        demand_id_of(ROUND, "330102", "channels"),
    }
    with pytest.raises(InputError, match="整改状态"):
        DemandFilter(status="late")


def _prev_workday(db: Database, day: date, n: int) -> date:
    found = db.scalar(
        f"SELECT on_date FROM calendar WHERE on_date < ? AND is_workday ORDER BY on_date DESC "
        f"LIMIT 1 OFFSET {n - 1}",
        [day],
    )
    return found if isinstance(found, date) else date.fromisoformat(str(found))


def test_the_administrator_moves_a_due_date_with_a_reason(published: Database) -> None:
    db = published
    guide = demand_id_of(ROUND, "330102", "guide")
    t = datetime(2025, 11, 20, 10)
    with pytest.raises(InputError, match="理由"):
        move_due(db, ADMIN, guide, date(2025, 12, 31), "", t)
    with pytest.raises(ForbiddenError):
        move_due(db, D102, guide, date(2025, 12, 31), "延期", t)
    move_due(db, ADMIN, guide, date(2025, 12, 31), "涉及系统改造", t)
    shown = get_demand(db, ADMIN, guide, t.date())
    assert shown["due_on"] == "2025-12-31" and shown["status"] == "open"
    assert shown["history"][-1]["action"] == "due"


def test_the_next_round_follows_up_each_demand(published: Database) -> None:
    db = published
    create(db, "2025-11", previous_round_id=ROUND)
    t = datetime(2025, 12, 5, 10)
    a = ADMIN_ACTOR  # (after the fill deadline: the administration enters, with a note)
    submit_value(db, "2025-11", "330102", "channels", 0.5, a, t, "补录")  # the same: not improved
    submit_value(db, "2025-11", "330102", "service", 1, a, t, "补录")
    submit_value(db, "2025-11", "330203", "service", 0.9, a, t, "补录")  # 6 → 27: improved
    submit_value(db, "2025-11", "330102", "guide", "是", a, t, "核查")  # 0 → 30
    compute_round(db, "2025-11", ADMIN_ACTOR, t)
    guide = demand_id_of(ROUND, "330102", "guide")
    reply(db, D102, guide, "已公布", t)
    assert follow_up(db, "2025-11") == 3
    follow = {
        d["indicator"]: (d["follow_result"], d["follow_name"], d["status"])
        for d in list_demands(db, ADMIN, t.date(), DemandFilter(round_id=ROUND))
    }
    assert follow == {
        "guide": ("improved", "已改进", "replied"),
        "channels": ("not_improved", "未改进", "open"),
        "service": ("improved", "已改进", "open"),
    }


def test_the_round_sets_the_rectification_period_before_publishing(db: Database) -> None:
    create(db)
    t = datetime(2025, 11, 4, 9)
    with pytest.raises(ForbiddenError, match="管理员"):
        set_round_days(db, SUPERVISOR, ROUND, 10, t)
    with pytest.raises(InputError, match="1 至 250"):
        set_round_days(db, ADMIN, ROUND, 0, t)
    set_round_days(db, ADMIN, ROUND, 10, t)
    publish(db)
    due = {r[0] for r in db.query("SELECT DISTINCT due_on FROM eval_rectifications")}
    assert due == {_nth_workday_after(db, PUBLISHED_AT.date(), 10)}
    assert db.scalar("SELECT COUNT(*) FROM ledger WHERE kind = 'round.rectify_days'") == 1
    with pytest.raises(GovwatchError, match="已发布"):
        set_round_days(db, ADMIN, ROUND, 20, t)
