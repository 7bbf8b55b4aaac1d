"""Departments and evaluators working a round (issue 13 items 1-3, 5), on DuckDB and
PostgreSQL: commissioning limits an evaluator, a department fills with evidence until the
deadline, evaluators verify others' values (never their own), a sheet imports row by row, a
unit appeals with a file within the window; every action is in the ledger under its user."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import openpyxl
import pytest

from govwatch.auth.errors import NotFoundError
from govwatch.auth.principal import Principal
from govwatch.errors import GovwatchError
from govwatch.evaluation.rounds.commission import (
    CommissionError,
    Evaluator,
    commission,
    commissioned_leaves,
)
from govwatch.evaluation.rounds.lifecycle import compute_round, open_review
from govwatch.evaluation.rounds.review import appeal_files, submit_appeal
from govwatch.evaluation.rounds.values import (
    EvidenceFile,
    add_evidence_files,
    submit_value,
    verify_value,
)
from govwatch.evaluation.rounds.views import RoundViewer, list_rounds, round_summary
from govwatch.evaluation.rounds.work import (
    check_sheet,
    fill_todo,
    import_values,
    read_sheet,
)
from govwatch.storage import Database

from .round_work_seed import ADMIN, AT, D1, D2, DEADLINE, EV1, EV2, PDF, PNG, seed_work


@pytest.fixture
def work(db: Database) -> Database:
    seed_work(db)
    return db


def ledger(db: Database, kind: str) -> list[tuple[str, str]]:
    return [
        (str(a), str(r))
        for a, r in db.query("SELECT actor, ref FROM ledger WHERE kind = ? ORDER BY seq", [kind])
    ]


def test_commissioning_limits_an_evaluator_to_its_indicators_and_its_rounds(
    work: Database,
) -> None:
    assert commissioned_leaves(work, "R1", EV1) == {"guide"}
    assert commissioned_leaves(work, "R1", EV2) == {"site"}  # through its organisation
    submit_value(work, "R1", "D1", "guide", "是", EV1, AT)
    with pytest.raises(GovwatchError, match=r"未受托录入指标“网站可用”.*指南公布"):
        submit_value(work, "R1", "D1", "site", "是", EV1, AT)
    with pytest.raises(GovwatchError, match="未受托录入指标“指南公布”"):
        submit_value(work, "R2", "D1", "guide", "是", EV1, AT)
    seen = [r["round_id"] for r in list_rounds(work, RoundViewer.of_actor(EV1))]
    assert seen == ["R1"]
    with pytest.raises(NotFoundError):
        round_summary(work, "R2", RoundViewer.of_principal(Principal("ev1", "evaluator")))
    assert ledger(work, "round.commission") == [("admin:w_admin", "round:R1")] * 2
    assert ledger(work, "round.value") == [("evaluator:ev1", "round:R1")]


def test_only_the_administrator_commissions_and_only_check_survey_or_rating_leaves(
    work: Database,
) -> None:
    with pytest.raises(CommissionError, match="需要管理员角色"):
        commission(work, "R2", Evaluator("user", "ev3"), ["guide"], EV1, AT)
    with pytest.raises(GovwatchError, match="“多渠道服务”由部门填报"):
        commission(work, "R2", Evaluator("user", "ev3"), ["channels"], ADMIN, AT)
    with pytest.raises(GovwatchError, match="不是第三方评估人员"):
        commission(work, "R2", Evaluator("user", "w_d1"), ["guide"], ADMIN, AT)


def test_a_department_fills_with_an_attachment_and_is_refused_after_the_deadline(
    work: Database,
) -> None:
    assert [(r["unit"], [p["id"] for p in r["pending"]]) for r in fill_todo(work, D1, AT)] == [
        ("D1", ["channels"]),
        ("D1", ["channels"]),
    ]
    submit_value(work, "R1", "D1", "channels", "85%", D1, AT, "三个渠道")
    stored = add_evidence_files(
        work, "R1", "D1", "channels", [EvidenceFile("截图.png", "image/png", PNG)], D1, AT
    )
    row = work.query_dicts(
        "SELECT file_name, size_bytes, sha256, content_type, uploaded_by FROM eval_evidence"
    )[0]
    assert row == {
        "file_name": "截图.png",
        "size_bytes": len(PNG),
        "sha256": hashlib.sha256(PNG).hexdigest(),
        "content_type": "image/png",
        "uploaded_by": "department:w_d1",
    }
    assert stored[0]["sha256"] == row["sha256"]
    assert [r["round_id"] for r in fill_todo(work, D1, AT)] == ["R2"]
    late = DEADLINE + timedelta(minutes=1)
    with pytest.raises(GovwatchError, match="填报已于 2025-11-10 18:00 截止"):
        submit_value(work, "R1", "D1", "channels", "90%", D1, late)
    with pytest.raises(GovwatchError, match="截止"):
        add_evidence_files(
            work, "R1", "D1", "channels", [EvidenceFile("a.pdf", "application/pdf", PDF)], D1, late
        )
    assert fill_todo(work, D1, late) == []
    assert ledger(work, "round.value") == [("department:w_d1", "round:R1")]
    assert ledger(work, "round.evidence") == [("department:w_d1", "round:R1")]


def test_a_department_cannot_fill_another_unit_nor_a_check_indicator(work: Database) -> None:
    with pytest.raises(GovwatchError, match="只能为本单位（D1）填报，不能为单位“D2”"):
        submit_value(work, "R1", "D2", "channels", 0.5, D1, AT)
    with pytest.raises(GovwatchError, match="“指南公布”的数据来源是 check，不由部门填报"):
        submit_value(work, "R1", "D1", "guide", "是", D1, AT)
    with pytest.raises(GovwatchError, match="不能核验"):
        verify_value(work, "R1", "D1", "channels", D1, AT)
    assert work.scalar("SELECT COUNT(*) FROM eval_values") == 0


def test_an_evaluator_verifies_or_disputes_others_values_never_its_own(work: Database) -> None:
    submit_value(work, "R1", "D1", "channels", 0.8, D1, AT)
    submit_value(work, "R1", "D2", "channels", 0.4, D2, AT)
    submit_value(work, "R1", "D1", "guide", "是", EV1, AT)
    with pytest.raises(GovwatchError, match="是你本人录入的，不能自己核验"):
        verify_value(work, "R1", "D1", "guide", EV1, AT)
    with pytest.raises(GovwatchError, match="提出异议须填写说明"):
        verify_value(work, "R1", "D2", "channels", EV1, AT, disputed=True)
    verify_value(work, "R1", "D1", "channels", EV1, AT)
    verify_value(work, "R1", "D2", "channels", EV2, AT, disputed=True, note="截图与网站不符")
    verify_value(work, "R1", "D1", "guide", EV2, AT)  # a colleague's value: not its own
    with pytest.raises(GovwatchError, match="未受托评估批次“R2”"):
        verify_value(work, "R2", "D1", "channels", EV1, AT)
    rows = {
        (r["unit"], r["indicator"]): (r["status"], r["verified_by"], r["check_note"])
        for r in work.query_dicts("SELECT * FROM eval_values WHERE round_id = 'R1'")
    }
    assert rows == {
        ("D1", "channels"): ("verified", "evaluator:ev1", None),
        ("D2", "channels"): ("disputed", "evaluator:ev2", "截图与网站不符"),
        ("D1", "guide"): ("verified", "evaluator:ev2", None),
    }
    sheet = check_sheet(work, "R1", EV1)
    assert (sheet["entered"], sheet["commissioned"], sheet["unchecked"]) == (1, 2, 0)
    assert [a for a, _ in ledger(work, "round.value_check")] == ["evaluator:ev1"] + [
        "evaluator:ev2"
    ] * 2


def _xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = ["单位代码", "指标", "值", "证据链接", "说明"]
SHEET = [
    HEADER,
    ["D1", "guide", "是", "https://example.gov.cn/zn", "首页可见"],
    ["D2", "指南公布", "否", "", ""],
    ["D9", "guide", "是", "", ""],
    ["D1", "site", "是", "", ""],
    ["D2", "guide", "很好", "", ""],
    ["D1", "guide", "是", "ftp://x", ""],
]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_batch_import_applies_good_rows_and_lists_each_bad_rows_error(
    work: Database, fmt: str
) -> None:
    if fmt == "xlsx":
        content = _xlsx(SHEET)
    else:
        content = "\n".join(",".join(str(c) for c in r) for r in SHEET).encode("utf-8-sig")
    result = import_values(work, "R1", read_sheet(f"核查.{fmt}", content), EV1, AT)
    assert result.applied == 2
    assert [(e.row, e.column) for e in result.errors] == [
        (4, "单位代码"),
        (5, "指标"),
        (6, "值"),
        (7, "证据链接"),
    ]
    assert "“D9”不是本批次的评估对象" in result.errors[0].message
    assert "“网站可用”未委托给你" in result.errors[1].message
    assert "应为数字" in result.errors[2].message
    values = {
        (r["unit"], r["value"], r["evidence_url"], r["note"])
        for r in work.query_dicts("SELECT * FROM eval_values WHERE round_id = 'R1'")
    }
    assert values == {
        ("D1", 1.0, "https://example.gov.cn/zn", "首页可见"),
        ("D2", 0.0, None, None),
    }


def test_an_import_without_the_required_columns_names_them(work: Database) -> None:
    with pytest.raises(GovwatchError, match="第 1 行缺少列 指标、值"):
        read_sheet("x.csv", "单位代码,数值\nD1,1\n".encode())
    with pytest.raises(GovwatchError, match="类型不支持"):
        read_sheet("x.txt", b"a")


def test_an_appeal_with_an_attachment_within_the_window_and_refused_after(
    work: Database,
) -> None:
    compute_round(work, "R1", ADMIN, AT)
    until = open_review(work, "R1", ADMIN, AT)
    appeal_id = submit_appeal(
        work,
        "R1",
        "D1",
        "指南已于 9 月公布",
        D1,
        AT + timedelta(hours=1),
        "guide",
        [EvidenceFile("公告.pdf", "application/pdf", PDF)],
    )
    files = appeal_files(work, [appeal_id])[appeal_id]
    assert [(f["name"], f["size_bytes"], f["sha256"]) for f in files] == [
        ("公告.pdf", len(PDF), hashlib.sha256(PDF).hexdigest())
    ]
    with pytest.raises(GovwatchError, match="只能为本单位（D1）提出申诉"):
        submit_appeal(work, "R1", "D2", "理由", D1, AT)
    with pytest.raises(GovwatchError, match=r"复核申诉期已于 .* 结束，不能再申诉"):
        submit_appeal(work, "R1", "D1", "理由", D1, until + timedelta(seconds=1))
    assert ledger(work, "round.appeal") == [("department:w_d1", "round:R1")]
