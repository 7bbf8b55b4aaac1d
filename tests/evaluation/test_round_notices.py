"""Notices of a round's events on DuckDB and PostgreSQL: collection opened, a fill deadline
nearing (2 working days before, on the calendar) and passed, review opened, an appeal decided,
published, a rectification demand nearing its due date and passed — each in the inbox of the
units concerned (and of the overseers) and as a webhook event, each once."""

from __future__ import annotations

from datetime import date, datetime, time

import orjson
import pytest
from click.testing import CliRunner

from govwatch.alerts.notify import add_webhook, deliver_due, list_notifications
from govwatch.auth.users import add_user
from govwatch.cli import cli
from govwatch.evaluation.rounds.lifecycle import (
    compute_round,
    decide_appeal,
    open_review,
    submit_appeal,
)
from govwatch.evaluation.rounds.rectification import demand_id_of, reply
from govwatch.evaluation.rounds.round_notices import (
    due_round_notices,
    on_appeal_decided,
    on_collection_opened,
    on_review_opened,
)
from govwatch.evaluation.rounds.values import Actor, submit_value
from govwatch.live import sweeper
from govwatch.storage import Database, connect

from .rectification_seed import (
    ADMIN,
    ADMIN_ACTOR,
    D102,
    D203,
    PUBLISHED_AT,
    ROUND,
    SUPERVISOR,
    create,
    publish,
)

FILL_DEADLINE = datetime(2025, 11, 10, 18)  # a Monday


def _keys(db: Database) -> list[str]:
    return sorted(str(r[0]) for r in db.query("SELECT dedupe_key FROM notifications"))


def _workday_before(db: Database, day: date, n: int) -> date:
    found = db.scalar(
        f"SELECT on_date FROM calendar WHERE on_date < ? AND is_workday ORDER BY on_date DESC "
        f"LIMIT 1 OFFSET {n - 1}",
        [day],
    )
    return found if isinstance(found, date) else date.fromisoformat(str(found))


def _workday_after(db: Database, day: date, n: int) -> date:
    found = db.scalar(
        f"SELECT on_date FROM calendar WHERE on_date > ? AND is_workday ORDER BY on_date "
        f"LIMIT 1 OFFSET {n - 1}",
        [day],
    )
    return found if isinstance(found, date) else date.fromisoformat(str(found))


def test_collection_and_review_opened_reach_each_unit_once(db: Database) -> None:
    create(db)
    at = datetime(2025, 11, 3, 10)
    sent = on_collection_opened(db, ROUND, at)
    assert sorted(sent) == [
        f"round.collection_opened:{ROUND}",
        f"round.collection_opened:{ROUND}:330102",
        f"round.collection_opened:{ROUND}:330203",
    ]
    assert on_collection_opened(db, ROUND, at) == []
    mine = list_notifications(db, D102)
    assert [n["kind"] for n in mine] == ["round.collection_opened"]
    assert "2025-11-10 18:00 前" in mine[0]["message"] and "T" not in mine[0]["message"]
    assert mine[0]["ref"] == f"/evaluations/{ROUND}/fill"
    assert [n["kind"] for n in list_notifications(db, ADMIN)] == ["round.collection_opened"]
    publish(db)  # (computes and opens review on the way)
    assert f"round.review_opened:{ROUND}" in _keys(db)  # opening review told the units
    assert on_review_opened(db, ROUND, at) == []
    assert "round.review_opened" in {n["kind"] for n in list_notifications(db, D203)}


def test_fill_deadline_nears_two_working_days_before_and_passes_once(db: Database) -> None:
    create(db)
    hook, _ = add_webhook(
        db, "https://93.184.216.34/hook", "round.*", None, "admin1", FILL_DEADLINE
    )
    soon = datetime.combine(_workday_before(db, FILL_DEADLINE.date(), 2), time(9))
    earlier = datetime.combine(_workday_before(db, FILL_DEADLINE.date(), 3), time(9))
    assert due_round_notices(db, earlier) == []
    first = due_round_notices(db, soon)
    # neither unit has filled anything yet: both are told, each once
    assert sorted(first) == [
        f"round.fill_due_soon:{ROUND}:330102",
        f"round.fill_due_soon:{ROUND}:330203",
    ]
    assert due_round_notices(db, soon) == []
    message = list_notifications(db, D102)[0]["message"]
    assert "多渠道服务" in message and "服务满意度自评" in message and "指南公布" not in message
    passed = due_round_notices(db, datetime(2025, 11, 10, 18, 1))
    assert sorted(passed) == [
        f"round.fill_overdue:{ROUND}",
        f"round.fill_overdue:{ROUND}:330102",
        f"round.fill_overdue:{ROUND}:330203",
    ]
    assert due_round_notices(db, datetime(2025, 11, 11, 9)) == []
    deliveries = db.query_dicts(
        "SELECT kind, payload FROM webhook_deliveries WHERE webhook_id = ? ORDER BY kind, "
        "dedupe_key",
        [hook],
    )
    assert [d["kind"] for d in deliveries] == ["round.fill_due_soon"] * 2 + [
        "round.fill_overdue"
    ] * 3
    body = orjson.loads(deliveries[0]["payload"])
    assert body["data"]["round_id"] == ROUND and body["kind"] == "round.fill_due_soon"
    sent: list[str] = []

    def receiver(url: str, payload: bytes, headers: dict[str, str]) -> int:
        sent.append(headers["X-Govwatch-Event"])
        return 200

    assert deliver_due(db, datetime(2025, 11, 11, 9), sender=receiver) == 5
    assert sorted(sent) == sorted(d["kind"] for d in deliveries)


def test_published_round_and_decided_appeal_are_told_once(db: Database) -> None:
    create(db)
    publish(db)
    keys = _keys(db)
    assert f"round.published:{ROUND}:330102" in keys and f"round.published:{ROUND}" in keys
    d102 = [n for n in list_notifications(db, D102) if n["kind"] == "round.published"]
    assert len(d102) == 1 and "2 项整改要求" in d102[0]["message"]
    assert d102[0]["ref"] == f"/rectifications?round={ROUND}"
    overseers = [n for n in list_notifications(db, SUPERVISOR) if n["kind"] == "round.published"]
    assert len(overseers) == 1 and "3 项" in overseers[0]["message"]


def test_an_appeal_decision_reaches_its_unit_once(db: Database) -> None:
    create(db)
    t = datetime(2025, 11, 5, 10)
    submit_value(db, ROUND, "330102", "channels", 0.5, Actor("d102", "department", "330102"), t)
    compute_round(db, ROUND, ADMIN_ACTOR, datetime(2025, 11, 12, 10))
    open_review(db, ROUND, ADMIN_ACTOR, datetime(2025, 11, 12, 11))
    appeal = submit_appeal(
        db, ROUND, "330102", "渠道数统计有误", Actor("d102", "department", "330102"),
        datetime(2025, 11, 12, 12), indicator="channels",
    )  # fmt: skip
    decide_appeal(db, appeal, False, "证据不足", ADMIN_ACTOR, datetime(2025, 11, 12, 13))
    assert f"round.appeal_decided:{appeal}" in _keys(db)  # the decision itself tells the unit
    assert on_appeal_decided(db, appeal, datetime(2025, 11, 12, 14)) == []
    told = [n for n in list_notifications(db, D102) if n["kind"] == "round.appeal_decided"]
    assert len(told) == 1 and "多渠道服务" in told[0]["message"] and "未采纳" in told[0]["message"]
    assert not [n for n in list_notifications(db, D203) if n["kind"] == "round.appeal_decided"]


def test_rectification_due_dates_near_and_pass_once(db: Database) -> None:
    create(db)
    publish(db)
    due = _workday_after(db, PUBLISHED_AT.date(), 15)
    soon = datetime.combine(_workday_before(db, due, 2), time(9))
    assert [k for k in due_round_notices(db, datetime.combine(_workday_before(db, due, 3), time(9)))
            if k.startswith("rectification")] == []  # fmt: skip
    near = [k for k in due_round_notices(db, soon) if k.startswith("rectification")]
    assert sorted(near) == [
        f"rectification.due_soon:{ROUND}:330102:{due.isoformat()}",
        f"rectification.due_soon:{ROUND}:330203:{due.isoformat()}",
    ]
    assert due_round_notices(db, soon) == []
    # 330203 replies before the due date: past it, only 330102 is told (and the overseers)
    service = demand_id_of(ROUND, "330203", "service")
    reply(db, D203, service, "已整改", soon)
    late = datetime.combine(_workday_after(db, due, 1), time(9))
    passed = [k for k in due_round_notices(db, late) if k.startswith("rectification")]
    assert sorted(passed) == [
        f"rectification.overdue:{ROUND}:{due.isoformat()}",
        f"rectification.overdue:{ROUND}:330102:{due.isoformat()}",
    ]
    assert due_round_notices(db, late) == []
    told = [n for n in list_notifications(db, D102) if n["kind"] == "rectification.overdue"]
    assert "指南公布" in told[0]["message"] and "多渠道服务" in told[0]["message"]
    overseer = [n for n in list_notifications(db, ADMIN) if n["kind"] == "rectification.overdue"]
    assert "3 项整改要求已超期未确认" in overseer[0]["message"]


def test_the_remind_command_sends_what_is_due_once(db_url: str) -> None:
    db = connect(db_url)
    try:
        create(db)
        add_user(db, "admin1", "Admin-pass-2025!", "admin", None, PUBLISHED_AT)
        add_user(db, "sup1", "Super-pass-2025!", "supervisor", None, PUBLISHED_AT)
    finally:
        db.close()
    runner = CliRunner()
    args = ["evaluation", "remind", "--db", db_url, "--at", "2025-11-10 18:30", "--format", "json"]
    first = runner.invoke(cli, [*args, "--as", "admin1"])
    assert first.exit_code == 0, first.output
    assert len(orjson.loads(first.stdout)["sent"]) == 3
    again = runner.invoke(cli, [*args, "--as", "admin1"])
    assert orjson.loads(again.stdout)["sent"] == []
    refused = runner.invoke(cli, [*args, "--as", "sup1"])
    assert refused.exit_code != 0 and "管理员" in refused.output


def test_the_sweeper_tick_sends_the_due_round_notices_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    create(db)
    monkeypatch.setattr(sweeper, "now", lambda: datetime(2025, 11, 10, 18, 30))
    sweeper.sweep_once(db)
    fill = [k for k in _keys(db) if k.startswith("round.fill_overdue")]
    assert len(fill) == 3
    sweeper.sweep_once(db)
    assert [k for k in _keys(db) if k.startswith("round.fill_overdue")] == fill
