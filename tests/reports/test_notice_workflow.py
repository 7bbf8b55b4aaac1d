"""The notice workflow: draft → approved → issued (frozen, digest in the ledger, sent to the
units), who sees which notice, and 签收. Evaluation notices here; the supervision notice's
schedule and scoping in test_notice_workflow_supervision.py."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from govwatch.auth.errors import ForbiddenError, NotFoundError
from govwatch.errors import InputError
from govwatch.ledger import verify
from govwatch.reports.workflow import (
    NoticeInputs,
    NoticeStateError,
    acknowledge,
    acknowledgements,
    approve_notice,
    draft_notice,
    edit_notice,
    get_notice,
    issue_notice,
    list_notices,
    notice_of,
    unacknowledged_count,
    verify_notice,
)
from govwatch.storage import Database
from tests.reports.notice_seed import ADMIN, AT, SUPERVISOR, department, seed

EVAL = NoticeInputs("evaluation", round_id="R2")


@pytest.fixture()
def seeded(db: Database) -> Database:
    seed(db)
    return db


def _issued(db: Database) -> str:
    notice_id = draft_notice(db, ADMIN, EVAL, AT)
    approve_notice(db, ADMIN, notice_id, AT + timedelta(minutes=5))
    issue_notice(db, ADMIN, notice_id, AT + timedelta(minutes=10))
    return notice_id


def test_a_draft_is_edited_rebuilt_and_an_edit_sends_an_approved_one_back(db: Database) -> None:
    seed(db)
    notice_id = draft_notice(db, ADMIN, EVAL, AT)
    row = get_notice(db, ADMIN, notice_id)
    assert row["status"] == "draft" and row["doc_number"] == "政服评〔2026〕1号"
    approve_notice(db, ADMIN, notice_id, AT)
    edit_notice(
        db, ADMIN, notice_id, {"closing": "请抓好整改。"},
        {"doc_number": "政服评〔2026〕9号", "addressees": "各市直单位"}, AT,
    )  # fmt: skip
    row = get_notice(db, ADMIN, notice_id)
    notice = notice_of(row)
    assert row["status"] == "draft" and row["approved_at"] is None
    assert notice.doc_number == "政服评〔2026〕9号" and notice.addressees == "各市直单位"
    assert notice.sections[-1].paragraphs[-1] == "请抓好整改。"
    with pytest.raises(InputError, match="通报模板项“nothing”不存在"):
        edit_notice(db, ADMIN, notice_id, {"nothing": "x"}, {}, AT)


def test_only_an_administrator_drafts_approves_and_issues(seeded: Database) -> None:
    with pytest.raises(ForbiddenError, match="只有管理员可以起草通报"):
        draft_notice(seeded, SUPERVISOR, EVAL, AT)
    notice_id = draft_notice(seeded, ADMIN, EVAL, AT)
    with pytest.raises(ForbiddenError, match="只有管理员可以审核通报"):
        approve_notice(seeded, department("D1"), notice_id, AT)
    with pytest.raises(NoticeStateError, match="须先审核通过才能下发"):
        issue_notice(seeded, ADMIN, notice_id, AT)


def test_an_issued_notice_refuses_edits_and_its_digest_verifies(seeded: Database) -> None:
    db = seeded
    notice_id = _issued(db)
    with pytest.raises(NoticeStateError, match="已于 2026-12-07 10:10 下发，内容已冻结，不能修改"):
        edit_notice(db, ADMIN, notice_id, {"closing": "改"}, {}, AT)
    with pytest.raises(NoticeStateError, match="只有草稿可以审核通过"):
        approve_notice(db, ADMIN, notice_id, AT)
    check = verify_notice(db, notice_id)
    assert check.ok and check.stored == check.ledgered
    assert verify(db).ok
    body = str(db.scalar("SELECT body FROM notices WHERE notice_id = ?", [notice_id]))
    db.execute(
        "UPDATE notices SET body = ? WHERE notice_id = ?",
        [body.replace("政务服务管理办公室", "某办公室"), notice_id],
    )
    assert not verify_notice(db, notice_id).ok
    # rewriting the row's digest too does not help: the ledger keeps the one issued
    tampered = str(db.scalar("SELECT body FROM notices WHERE notice_id = ?", [notice_id]))
    db.execute(
        "UPDATE notices SET digest = ? WHERE notice_id = ?",
        [hashlib.sha256(tampered.encode()).hexdigest(), notice_id],
    )
    check = verify_notice(db, notice_id)
    assert check.stored == check.recomputed and not check.ok


def test_issuing_sends_it_to_the_units_who_acknowledge_it(seeded: Database) -> None:
    db = seeded
    notice_id = _issued(db)
    message, ref = db.query("SELECT message, ref FROM notifications WHERE kind = 'notice.issued'")[
        0
    ]
    assert ref == f"/notices/{notice_id}" and "政服评〔2026〕1号" in message
    d1 = department("D1")
    assert unacknowledged_count(db, d1) == 1
    assert unacknowledged_count(db, ADMIN) == 1
    assert acknowledge(db, d1, notice_id, AT + timedelta(hours=1)) is True
    assert acknowledge(db, d1, notice_id, AT + timedelta(hours=2)) is False
    assert unacknowledged_count(db, d1) == 0
    acks = {a["unit"]: a for a in acknowledgements(db, notice_id)}
    assert set(acks) == {"D1", "D2", "D3"}
    assert acks["D1"]["acked_by"] == "user-D1" and acks["D2"]["acked_at"] is None
    listed = list_notices(db, ADMIN)[0]
    assert (listed["addressed"], listed["acked"]) == (3, 1)
    with pytest.raises(ForbiddenError, match="签收由收文单位"):
        acknowledge(db, ADMIN, notice_id, AT)


def test_units_see_issued_notices_only(seeded: Database) -> None:
    db = seeded
    draft_id = draft_notice(db, ADMIN, EVAL, AT)
    d2 = department("D2")
    with pytest.raises(NotFoundError, match=f"通报“{draft_id}”不存在"):
        get_notice(db, d2, draft_id)
    with pytest.raises(NotFoundError):
        acknowledge(db, d2, draft_id, AT)
    assert list_notices(db, d2) == []
    issued_id = _issued(db)
    assert [r["notice_id"] for r in list_notices(db, d2)] == [issued_id]
    assert {r["notice_id"] for r in list_notices(db, SUPERVISOR)} == {draft_id, issued_id}
