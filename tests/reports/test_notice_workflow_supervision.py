"""Supervision notices in the workflow: the monthly draft on the first working day (once),
a department's notice seen by that department only, the province's by every unit."""

from __future__ import annotations

from datetime import datetime, timedelta

import orjson
import pytest
from click.testing import CliRunner

from govwatch.auth.errors import NotFoundError
from govwatch.auth.users import add_user
from govwatch.cli import cli
from govwatch.errors import InputError
from govwatch.reports.workflow import (
    NoticeInputs,
    approve_notice,
    draft_notice,
    edit_notice,
    get_notice,
    issue_demo_notices,
    issue_notice,
    list_notices,
    notice_of,
    scheduled_drafts,
)
from govwatch.storage import Database, connect
from tests.reports.notice_seed import ADMIN, AT, department, seed


@pytest.fixture()
def seeded(db: Database) -> Database:
    seed(db)
    return db


def test_the_monthly_draft_is_made_once_on_the_first_working_day(seeded: Database) -> None:
    db = seeded
    # 2026-11-01 is a Sunday: the first working day of November is Monday the 2nd
    assert scheduled_drafts(db, datetime(2026, 11, 1, 10)) == []
    made = scheduled_drafts(db, datetime(2026, 11, 2, 8, 30))
    assert len(made) == 1
    assert scheduled_drafts(db, datetime(2026, 11, 2, 8, 31)) == []
    assert scheduled_drafts(db, datetime(2026, 11, 20, 9)) == []
    row = get_notice(db, ADMIN, made[0])
    assert (row["kind"], row["period"], row["status"]) == ("supervision", "2026-10", "draft")
    assert row["drafted_by"] == "system:schedule"
    assert "2026年10月" in notice_of(row).title
    assert db.scalar("SELECT COUNT(*) FROM notices") == 1


def _issue(db: Database, scope: str | None) -> str:
    notice_id = draft_notice(db, ADMIN, NoticeInputs("supervision", "2026-11", scope), AT)
    approve_notice(db, ADMIN, notice_id, AT)
    issue_notice(db, ADMIN, notice_id, AT + timedelta(minutes=1))
    return notice_id


def test_a_departments_notice_is_its_own_and_the_provinces_is_everyones(
    seeded: Database,
) -> None:
    db = seeded
    own = _issue(db, "D1")
    general = _issue(db, None)
    d1, d2 = department("D1"), department("D2")
    assert get_notice(db, d1, own)["notice_id"] == own
    with pytest.raises(NotFoundError, match=f"通报“{own}”不存在"):
        get_notice(db, d2, own)
    assert {r["notice_id"] for r in list_notices(db, d1)} == {own, general}
    assert {r["notice_id"] for r in list_notices(db, d2)} == {general}
    sent = db.query(
        "SELECT recipient_org FROM notifications WHERE kind = 'notice.issued' ORDER BY 1"
    )
    assert sorted(str(r[0]) for r in sent) == ["D1", "None"]
    units = db.query("SELECT unit FROM notice_units WHERE notice_id = ? ORDER BY 1", [general])
    assert [r[0] for r in units] == ["D1", "D2", "D3"]


def test_settings_are_checked_and_rebuild_the_draft(seeded: Database) -> None:
    db = seeded
    notice_id = draft_notice(db, ADMIN, NoticeInputs("supervision", "2026-11"), AT)
    with pytest.raises(
        InputError, match="通报设置“批评标准：每千件办件红牌数超过”应为数字，收到“很多”"
    ):
        edit_notice(db, ADMIN, notice_id, {}, {"criticism_red_per_1000": "很多"}, AT)
    edit_notice(
        db, ADMIN, notice_id, {}, {"doc_number": "政服监〔2026〕30号", "issuer": "市政务办"}, AT
    )
    notice = notice_of(get_notice(db, ADMIN, notice_id))
    assert (notice.doc_number, notice.issuer) == ("政服监〔2026〕30号", "市政务办")


def test_the_demo_issues_a_monthly_and_an_evaluation_notice_seen_by_the_units(
    seeded: Database,
) -> None:
    ids = issue_demo_notices(seeded, AT, ADMIN)
    assert len(ids) == 2
    rows = {r["notice_id"]: r for r in list_notices(seeded, department("D3"))}
    assert set(rows) == set(ids)
    assert {r["kind"] for r in rows.values()} == {"supervision", "evaluation"}
    assert {r["period"] for r in rows.values()} == {"2026-11", None}


def test_the_report_commands_schedule_draft_approve_issue_and_verify(db_url: str) -> None:
    db = connect(db_url)
    try:
        seed(db)
        add_user(db, "admin1", "Admin-pass-2026!", "admin", None, datetime(2026, 1, 1))
    finally:
        db.close()
    runner = CliRunner(env={"GOVWATCH_OPERATOR": "admin1"})

    def gw(*args: str) -> str:
        result = runner.invoke(cli, [*args, "--db", db_url], prog_name="govwatch")
        assert result.exit_code == 0, result.output
        return result.stdout.strip()

    made = gw("report", "schedule", "--at", "2026-11-02 08:30")
    assert len(made.splitlines()) == 1
    assert gw("report", "schedule", "--at", "2026-11-02 09:30") == ""
    notice_id = gw(
        "report", "draft", "--kind", "evaluation", "--round", "R2", "--at", "2026-12-07 10:00"
    )
    gw("report", "approve", notice_id, "--at", "2026-12-07 10:05")
    digest = gw("report", "issue", notice_id, "--at", "2026-12-07 10:10")
    assert len(digest) == 64
    assert orjson.loads(gw("report", "verify", notice_id, "--format", "json"))["ok"] is True
    listed = gw("report", "notices")
    assert "已下发" in listed and "草稿" in listed and "签收 0/3" in listed
